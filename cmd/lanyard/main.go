// Command lanyard gets OAuth 2.0 / OIDC tokens once and hands them out,
// cached and fresh, to scripts and tools.
//
// This binary is the thin front: it links no OAuth engine, HTTP client or
// keyring, so it starts as fast as a hello-world program. Everything it
// does not answer itself runs in lanyard-engine, found next to it.
package main

import (
	"fmt"
	"os"

	"github.com/lanyardhq/lanyard/internal/agent/front"
)

func main() {
	err := front.ExecEngine(os.Args[1:])
	fmt.Fprintf(os.Stderr, "lanyard: %v\n", err)
	os.Exit(1)
}
