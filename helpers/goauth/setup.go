package goauth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// WithLanyard returns the GOAUTH value that runs lanyard first and keeps
// the methods already in current (the go command's effective GOAUTH; ""
// means its default, netrc) after it: the go command lets the first entry
// that answers a prefix win (cmd/go/internal/auth runs them in reverse and
// the last stored wins). changed is false when lanyard is already first.
// "off" cannot be combined with anything, so it is replaced.
func WithLanyard(current string) (value string, changed bool) {
	current = strings.TrimSpace(current)
	if current == "" {
		current = "netrc"
	}
	entries := []string{GOAUTH}
	for e := range strings.SplitSeq(current, ";") {
		e = strings.TrimSpace(e)
		if e == "" || e == "off" || isLanyard(e) {
			continue
		}
		entries = append(entries, e)
	}
	value = strings.Join(entries, ";")
	return value, value != current
}

// isLanyard reports an entry that runs lanyard goauth (by any path).
func isLanyard(entry string) bool {
	f := strings.Fields(entry)
	if len(f) != 2 || f[1] != Command {
		return false
	}
	name := f[0][strings.LastIndexAny(f[0], `/\`)+1:]
	return name == "lanyard" || name == "lanyard.exe"
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// SetupResult is what Setup found and did.
type SetupResult struct {
	Was, Value string
	Changed    bool
	// Command is the go env -w line that sets Value.
	Command string
	// EnvOverride: GOAUTH is set in the environment, which overrides what
	// go env -w writes.
	EnvOverride bool
}

// Setup reads the go command's GOAUTH (goBin env GOAUTH) and, with write,
// sets lanyard's entry first with goBin env -w. getenv tells whether
// GOAUTH is set in the environment.
func Setup(ctx context.Context, goBin string, write bool, getenv func(string) string) (*SetupResult, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	was, err := run(ctx, goBin, "env", "GOAUTH")
	if err != nil {
		return nil, err
	}
	r := &SetupResult{Was: strings.TrimSpace(was), EnvOverride: getenv("GOAUTH") != ""}
	r.Value, r.Changed = WithLanyard(r.Was)
	r.Command = "go env -w GOAUTH=" + ShellQuote(r.Value)
	if write && r.Changed {
		if _, err := run(ctx, goBin, "env", "-w", "GOAUTH="+r.Value); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Report prints what Setup found and did.
func (r *SetupResult) Report(w io.Writer, profile string, write bool) {
	switch {
	case !r.Changed:
		fmt.Fprintf(w, "GOAUTH is %s already; nothing to do\n", ShellQuote(r.Value))
	case write:
		fmt.Fprintf(w, "ran: %s (was %s)\n", r.Command, ShellQuote(r.Was))
	default:
		fmt.Fprintf(w, "run this (or lanyard setup go %s --write):\n  %s\n", profile, r.Command)
	}
}
