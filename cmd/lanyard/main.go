// Command lanyard gets OAuth 2.0 / OIDC tokens once and hands them out,
// cached and fresh, to scripts and tools.
//
// This binary is the thin front: it links no OAuth engine, HTTP client or
// keyring, so it starts as fast as a hello-world program. `lanyard token`
// is one round trip to the agent; everything else runs in lanyard-engine,
// found next to it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lanyardhq/lanyard/helpers/goauth"
	"github.com/lanyardhq/lanyard/helpers/pykeyring"
	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/front"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"golang.org/x/term"
)

// Exit codes, as lanyard-engine's (docs, "Exit codes").
const (
	exitError         = 1
	exitUsage         = 2
	exitLoginRequired = 3
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == goauth.Command {
		os.Exit(goauth.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil))
	}
	if len(os.Args) > 1 && os.Args[1] == pykeyring.Command {
		os.Exit(pykeyring.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil))
	}
	if a, ok := front.ParseTokenArgs(os.Args[1:]); ok && !client.Off(os.Getenv) && !front.DebugFromEnv(os.Getenv) {
		if code, done := token(a); done {
			os.Exit(code)
		}
	}
	err := front.ExecEngine(os.Args[1:])
	fmt.Fprintf(os.Stderr, "lanyard: %v\n", err)
	os.Exit(exitError)
}

// token answers lanyard token through the agent. done is false when
// lanyard-engine should answer instead: a login on this terminal.
func token(a front.TokenArgs) (code int, done bool) {
	// No signal handling: this process holds nothing to clean up (a refresh
	// runs in the agent and survives us), and installing handlers costs a
	// measurable share of a cache hit.
	ctx := context.Background()
	interactive := term.IsTerminal(0) || term.IsTerminal(2)
	req := &wire.Request{Op: wire.OpGet, Tool: wire.ToolToken, Profile: a.Profile, URL: a.URL, MinTTL: a.MinTTL, ForceRefresh: a.ForceRefresh}
	resp, err := client.New(os.Getenv, os.Stderr, false).Resolve(ctx, req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lanyard: %v\n", err)
		return exitError, true
	}
	switch resp.Status {
	case wire.StatusOK:
		if err := front.WriteToken(os.Stdout, a.Format, resp.Token, resp.TokenType, resp.Expiry, resp.Profile); err != nil {
			fmt.Fprintf(os.Stderr, "lanyard: %v\n", err)
			return exitError, true
		}
		return 0, true
	case wire.StatusLoginRequired:
		if interactive {
			return 0, false // the login runs in lanyard-engine, on this terminal
		}
		fmt.Fprintf(os.Stderr, "lanyard: %s\n", resp.Message)
		return exitLoginRequired, true
	case wire.StatusBadConfig:
		fmt.Fprintf(os.Stderr, "lanyard: %s\n", resp.Message)
		return exitUsage, true
	}
	fmt.Fprintf(os.Stderr, "lanyard: %s\n", resp.Message)
	return exitError, true
}
