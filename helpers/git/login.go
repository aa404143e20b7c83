package git

import (
	"context"
	"os/exec"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/desktop"
	"github.com/lanyardhq/lanyard/internal/env"
)

// LoginMode is how a get may log in when the profile has no usable token.
type LoginMode int

// The login modes [DecideLogin] picks from.
const (
	// NoLogin: fail at once with "run: lanyard login P".
	NoLogin LoginMode = iota
	// TerminalLogin: the login runs in this process tree on the terminal
	// (a browser on a desktop, a device code or a paste elsewhere).
	TerminalLogin
	// AgentBrowserLogin: no terminal, but a desktop (git run by an IDE):
	// the agent opens the browser once for every waiting caller.
	AgentBrowserLogin
)

// DecideLogin picks the login mode from what the caller allows (its
// tty.Caller: refused, canPrompt) and where it runs (d): none when prompts
// are ruled out (GIT_TERMINAL_PROMPT=0, LANYARD_NONINTERACTIVE=1, git's
// credential.interactive=false); the terminal when the caller may prompt
// (no flag needed); the agent's browser login when there is no terminal
// but a browser can be opened; else none.
func DecideLogin(refused, canPrompt bool, d desktop.Decision) LoginMode {
	switch {
	case refused:
		return NoLogin
	case canPrompt:
		return TerminalLogin
	case d.CanOpen():
		return AgentBrowserLogin
	}
	return NoLogin
}

// refusedByEnv reports the variables that forbid any login:
// GIT_TERMINAL_PROMPT=0 (git's "never ask") and LANYARD_NONINTERACTIVE=1.
func refusedByEnv(getenv func(string) string) bool {
	if v := getenv("GIT_TERMINAL_PROMPT"); v != "" && !env.Bool(v) {
		return true
	}
	return env.Env(getenv).NonInteractive()
}

// gitForbidsPrompts reports git's credential.interactive set to false
// (git 2.47: "never ask"), read with the git that runs this helper. It
// runs only when a login is about to start, never on a cache hit.
func gitForbidsPrompts(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "config", "--get", "credential.interactive").Output()
	if err != nil {
		return false // unset, or no git: the default is to ask
	}
	switch strings.ToLower(strings.TrimSpace(string(out))) {
	case "false", "no", "off", "0", "never":
		return true
	}
	return false
}
