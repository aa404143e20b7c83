// Command lanyard-engine is the whole of lanyard: the CLI (login, token,
// setup, serve, ...), the grant engine and the keyring. Users run the thin
// front `lanyard` (cmd/lanyard), which answers cache hits without linking
// any of this and execs lanyard-engine, found next to itself, for the rest.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/internal/dbusenv"
	"github.com/lanyardhq/lanyard/internal/hardening"
)

func main() {
	dbusenv.Restore()
	// Secrets live in this process (and the agent, which runs in it): no
	// core files. Best effort: a sandbox that forbids it is no reason to stop.
	_ = hardening.NoCoreDumps()
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
