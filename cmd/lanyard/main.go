// Command lanyard gets OAuth 2.0 / OIDC tokens once and hands them out,
// cached and fresh, to scripts and tools.
//
// This binary is the thin front: it links no OAuth engine, HTTP client or
// keyring, so it starts as fast as a hello-world program. `lanyard token`
// is one round trip to the agent (helpers/token); everything else runs in
// lanyard-engine, found next to it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lanyardhq/lanyard/helpers/goauth"
	"github.com/lanyardhq/lanyard/helpers/pykeyring"
	"github.com/lanyardhq/lanyard/helpers/token"
	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/tty"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == goauth.Command {
		os.Exit(goauth.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil))
	}
	if len(os.Args) > 1 && os.Args[1] == pykeyring.Command {
		os.Exit(pykeyring.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil))
	}
	if a, ok := token.ParseArgs(os.Args[1:]); ok && !env.Env(os.Getenv).Debug() {
		// No signal handling: this process holds nothing to clean up (a
		// refresh runs in the agent and survives us), and installing
		// handlers costs a measurable share of a cache hit.
		interactive := tty.Caller{Stdin: os.Stdin, Stderr: os.Stderr, Refused: env.Env(os.Getenv).NonInteractive()}.CanPrompt()
		os.Exit(token.Run(context.Background(), a, interactive, os.Stdout, os.Stderr, client.New(os.Getenv, os.Stderr, false)))
	}
	err := client.ExecEngine(os.Args[1:])
	fmt.Fprintf(os.Stderr, "lanyard: %v\n", err)
	os.Exit(token.ExitError)
}
