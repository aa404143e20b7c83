package client

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// SocketPath is where the agent listens: $LANYARD_AGENT_SOCK, else
// $XDG_RUNTIME_DIR/lanyard/agent.sock, else agent.sock in a 0700 directory
// under the state dir ($XDG_STATE_HOME/lanyard/agent).
func SocketPath(getenv func(string) string) (string, error) {
	if p := getenv("LANYARD_AGENT_SOCK"); p != "" {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("LANYARD_AGENT_SOCK must be an absolute path, got %q", p)
		}
		return p, nil
	}
	if rt := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(rt) {
		return filepath.Join(rt, "lanyard", "agent.sock"), nil
	}
	state := StateDir(getenv)
	if !filepath.IsAbs(state) {
		return "", fmt.Errorf("cannot place the agent socket: neither XDG_RUNTIME_DIR, XDG_STATE_HOME nor HOME is set; set LANYARD_AGENT_SOCK")
	}
	return filepath.Join(state, "agent", "agent.sock"), nil
}

// StateDir is lanyard's state directory, $XDG_STATE_HOME/lanyard (else
// ~/.local/state/lanyard), as the engine computes it.
func StateDir(getenv func(string) string) string {
	state := getenv("XDG_STATE_HOME")
	if state == "" {
		state = filepath.Join(getenv("HOME"), ".local", "state")
	}
	return filepath.Join(state, "lanyard")
}

// Off reports whether helpers answer in-process (LANYARD_AGENT=off, or
// Windows, which has no agent) instead of asking the agent.
func Off(getenv func(string) string) bool {
	if runtime.GOOS == "windows" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(getenv("LANYARD_AGENT"))) {
	case "off", "0", "false", "no":
		return true
	}
	return false
}

// IdleTimeout is how long an agent waits without requests before it exits
// (LANYARD_AGENT_IDLE, default 30m).
func IdleTimeout(getenv func(string) string) (time.Duration, error) {
	v := getenv("LANYARD_AGENT_IDLE")
	if v == "" {
		return 30 * time.Minute, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("LANYARD_AGENT_IDLE=%q is not a positive duration such as 30m", v)
	}
	return d, nil
}
