// Package tty answers one question for every binary: may this call ask a
// person (a login, a passphrase, a pasted code)? And when it may, where:
// the controlling terminal, never stdout, which belongs to the tool
// protocol. It is a leaf (the standard library and x/term) so the thin
// helpers share it, as cli/cli's commands share IOStreams.CanPrompt.
package tty

import (
	"os"

	"golang.org/x/term"
)

// Path is the controlling terminal.
const Path = "/dev/tty"

// IsTerminal reports whether v is an *os.File open on a terminal.
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}

// Open opens the controlling terminal for reading and writing: prompts go
// there even when stdin and stdout carry a tool's protocol.
func Open() (*os.File, error) { return os.OpenFile(Path, os.O_RDWR, 0) }

// Caller is who asked: the streams the process was given. The tool's own
// "no person here" signals (GIT_TERMINAL_PROMPT=0, kubectl's
// interactiveMode Never, spec.interactive=false) are Refused.
type Caller struct {
	Stdin, Stderr any
	// Refused says the tool or the user ruled prompts out.
	Refused bool
}

// CanPrompt reports whether this call may ask a person: nothing ruled it
// out, and stdin or stderr is a terminal (in CI neither is, and logins
// fail fast with the command to run).
func (c Caller) CanPrompt() bool {
	return !c.Refused && (IsTerminal(c.Stdin) || IsTerminal(c.Stderr))
}
