// Package env is the one place lanyard reads its environment variables:
// every LANYARD_* setting and the XDG base directories. It is a leaf (the
// standard library only), so the thin helper binaries share it with
// lanyard-engine and both agree on every path.
//
//	variable                     method            meaning
//	LANYARD_CONFIG               ConfigPath        profiles file (else $XDG_CONFIG_HOME/lanyard/config.toml)
//	XDG_CONFIG_HOME              ConfigPath        default ~/.config
//	XDG_STATE_HOME               StateDir          locks, discovery cache, journal (default ~/.local/state)
//	XDG_DATA_HOME                DataDir           sealed token files, file keyring (default ~/.local/share)
//	XDG_RUNTIME_DIR              RuntimeDir        agent socket, hot cache (else under StateDir); the session bus
//	LANYARD_KEYRING_DIR          KeyringDir        the file backend's directory
//	LANYARD_KEYRING_BACKEND      KeyringBackend    secret-service, keychain, wincred, pass, keyctl, kwallet, file
//	LANYARD_KEYRING_PASSPHRASE   Passphrase        the file backend's passphrase (never inherited by children)
//	LANYARD_HOT_CACHE            HotCache          0 turns the hot cache off
//	LANYARD_AGENT                AgentOff          off (0, false, no) answers every call in-process; on overrides CI
//	CI                           AgentOff          true: the agent is off unless LANYARD_AGENT=on
//	LANYARD_AGENT_SOCK           SocketPath        the agent's socket
//	LANYARD_AGENT_IDLE           AgentIdle         the agent exits after this long unused (default 30m)
//	LANYARD_AGENT_REFRESH_AHEAD  RefreshAhead      profiles used this recently are refreshed ahead (default 1h, 0 off)
//	LANYARD_ENGINE               EngineOverride    absolute path of lanyard-engine (tests, packagers)
//	LANYARD_HTTP_TIMEOUT         HTTPTimeout       one back-channel request (default 30s)
//	LANYARD_PLUGIN_TIMEOUT       PluginTimeout     a grant plugin's start and call (default 30s)
//	LANYARD_PLUGIN_HOST          PluginHost        lanyard-plugin-host's path
//	LANYARD_DEBUG                Debug             log to stderr, tokens redacted
//	LANYARD_NONINTERACTIVE       NonInteractive    1: never ask a person (no login, no prompt); fail at once
//	LANYARD_CONFIRM_PROGRAM      ConfirmProgram    asked before a forward's or proxy's first hand-out (--confirm; else ssh-askpass)
//	LANYARD_AGENT_METRICS_LISTEN MetricsListen     the agent serves /metrics there (lanyard agent start --metrics-listen)
//	XDG_STATE_HOME               AuditPath         audit.jsonl in StateDir: every hand-out, refresh, refusal, forward
package env

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Env reads variables through a getenv function: os.Getenv, or a test's
// environment.
type Env func(string) string

// Names of the variables other packages must name (to pass on, or to keep
// out of a child's environment); read them through Env's methods.
const (
	PassphraseVar    = "LANYARD_KEYRING_PASSPHRASE"
	SocketVar        = "LANYARD_AGENT_SOCK"
	MetricsListenVar = "LANYARD_AGENT_METRICS_LISTEN"
)

// Bool reads a boolean value the way git does: unset, empty, 0, false, no
// and off are false; anything else is true.
func Bool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

func (e Env) get(name string) string {
	if e == nil {
		return ""
	}
	return e(name)
}

// Home is the user's home directory ($HOME, else %USERPROFILE% on Windows).
func (e Env) Home() string {
	if h := e.get("HOME"); h != "" {
		return h
	}
	return e.get("USERPROFILE")
}

func (e Env) xdg(name, def string) string {
	if v := e.get(name); v != "" {
		return v
	}
	return filepath.Join(e.Home(), def)
}

// ConfigPath is the profiles file: $LANYARD_CONFIG, else
// $XDG_CONFIG_HOME/lanyard/config.toml, else ~/.config/lanyard/config.toml.
func (e Env) ConfigPath() string {
	if p := e.get("LANYARD_CONFIG"); p != "" {
		return p
	}
	return filepath.Join(e.xdg("XDG_CONFIG_HOME", ".config"), "lanyard", "config.toml")
}

// StateDir is $XDG_STATE_HOME/lanyard (else ~/.local/state/lanyard):
// locks, the discovery cache, journals. Nothing secret in clear.
func (e Env) StateDir() string {
	return filepath.Join(e.xdg("XDG_STATE_HOME", filepath.Join(".local", "state")), "lanyard")
}

// DataDir is $XDG_DATA_HOME/lanyard (else ~/.local/share/lanyard).
func (e Env) DataDir() string {
	return filepath.Join(e.xdg("XDG_DATA_HOME", filepath.Join(".local", "share")), "lanyard")
}

// RuntimeDir is $XDG_RUNTIME_DIR/lanyard when XDG_RUNTIME_DIR is an
// absolute path, else "".
func (e Env) RuntimeDir() string {
	if rt := e.get("XDG_RUNTIME_DIR"); filepath.IsAbs(rt) {
		return filepath.Join(rt, "lanyard")
	}
	return ""
}

// UserRuntimeDir is $XDG_RUNTIME_DIR, else /run/user/UID: where the
// user's session bus socket lives.
func (e Env) UserRuntimeDir() string {
	if rt := e.get("XDG_RUNTIME_DIR"); rt != "" {
		return rt
	}
	return "/run/user/" + strconv.Itoa(os.Getuid())
}

// HotDir is where the hot cache keeps its sealed files: the runtime
// directory, else the state directory.
func (e Env) HotDir() string {
	if rt := e.RuntimeDir(); rt != "" {
		return filepath.Join(rt, "hot")
	}
	return filepath.Join(e.StateDir(), "hot")
}

// KeyringDir is the encrypted file backend's directory.
func (e Env) KeyringDir() string {
	if d := e.get("LANYARD_KEYRING_DIR"); d != "" {
		return d
	}
	return filepath.Join(e.DataDir(), "keyring")
}

// KeyringBackend is the keyring backend asked for ("" means auto).
func (e Env) KeyringBackend() string { return e.get("LANYARD_KEYRING_BACKEND") }

// Passphrase is the file backend's passphrase from the environment, or "".
func (e Env) Passphrase() string { return e.get(PassphraseVar) }

// HotCache reports whether the hot cache may be used (LANYARD_HOT_CACHE=0
// turns it off).
func (e Env) HotCache() bool { return e.get("LANYARD_HOT_CACHE") != "0" }

// AgentOff reports whether calls are answered in-process instead of by the
// agent: LANYARD_AGENT=off (0, false, no); in CI (CI set true, as GitHub
// Actions, GitLab and most runners set it) unless LANYARD_AGENT=on: jobs
// of one runner often share a Unix user, and an agent started by one job
// would outlive it and serve the next; and always on Windows, which has
// no agent.
func (e Env) AgentOff() bool {
	if runtime.GOOS == "windows" {
		return true
	}
	v := strings.TrimSpace(e.get("LANYARD_AGENT"))
	if v == "" {
		return Bool(e.get("CI"))
	}
	return !Bool(v)
}

// SocketPath is where the agent listens: $LANYARD_AGENT_SOCK, else
// $XDG_RUNTIME_DIR/lanyard/agent.sock, else agent.sock in a 0700 directory
// under the state dir.
func (e Env) SocketPath() (string, error) {
	if p := e.get(SocketVar); p != "" {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("LANYARD_AGENT_SOCK must be an absolute path, got %q", p)
		}
		return p, nil
	}
	if rt := e.RuntimeDir(); rt != "" {
		return filepath.Join(rt, "agent.sock"), nil
	}
	state := e.StateDir()
	if !filepath.IsAbs(state) {
		return "", fmt.Errorf("cannot place the agent socket: neither XDG_RUNTIME_DIR, XDG_STATE_HOME nor HOME is set; set LANYARD_AGENT_SOCK")
	}
	return filepath.Join(state, "agent", "agent.sock"), nil
}

// SocketPinned reports whether LANYARD_AGENT_SOCK names the socket: a
// forward or an agent someone else runs, which a helper must never start
// one of its own at.
func (e Env) SocketPinned() bool { return e.get(SocketVar) != "" }

// AgentIdle is how long an agent waits without requests before it exits
// (LANYARD_AGENT_IDLE, default 30m).
func (e Env) AgentIdle() (time.Duration, error) {
	return e.duration("LANYARD_AGENT_IDLE", 30*time.Minute, "30m", false)
}

// RefreshAhead is how recently a profile must have been used for the agent
// to refresh it ahead of expiry (LANYARD_AGENT_REFRESH_AHEAD, default 1h);
// 0 turns refresh ahead off.
func (e Env) RefreshAhead() (time.Duration, error) {
	d, err := e.duration("LANYARD_AGENT_REFRESH_AHEAD", time.Hour, "1h (0 turns refresh ahead off)", true)
	if err == nil && d == 0 {
		d = -1
	}
	return d, err
}

// HTTPTimeout bounds one back-channel request (LANYARD_HTTP_TIMEOUT,
// default 30s).
func (e Env) HTTPTimeout() (time.Duration, error) {
	return e.duration("LANYARD_HTTP_TIMEOUT", 30*time.Second, "30s", false)
}

// PluginTimeout bounds a grant plugin's start and call
// (LANYARD_PLUGIN_TIMEOUT, default 30s).
func (e Env) PluginTimeout() (time.Duration, error) {
	return e.duration("LANYARD_PLUGIN_TIMEOUT", 30*time.Second, "30s", false)
}

// PluginHost is LANYARD_PLUGIN_HOST: lanyard-plugin-host's path, or "".
func (e Env) PluginHost() string { return e.get("LANYARD_PLUGIN_HOST") }

// EngineOverride is LANYARD_ENGINE: lanyard-engine's path, which must be
// absolute; "" when unset.
func (e Env) EngineOverride() (string, error) {
	p := e.get("LANYARD_ENGINE")
	if p != "" && !filepath.IsAbs(p) {
		return "", fmt.Errorf("LANYARD_ENGINE must be an absolute path, got %q", p)
	}
	return p, nil
}

// Debug reports LANYARD_DEBUG.
func (e Env) Debug() bool { return Bool(e.get("LANYARD_DEBUG")) }

// NonInteractive reports LANYARD_NONINTERACTIVE: no call may ask a person
// (a login, a passphrase, a pasted code), whatever terminal it has; it
// feeds tty.Caller.Refused.
func (e Env) NonInteractive() bool { return Bool(e.get("LANYARD_NONINTERACTIVE")) }

// ConfirmProgram is LANYARD_CONFIRM_PROGRAM: the program --confirm runs to
// ask a person, or "" (internal/confirm then looks for ssh-askpass).
func (e Env) ConfirmProgram() string { return e.get("LANYARD_CONFIRM_PROGRAM") }

// MetricsListen is LANYARD_AGENT_METRICS_LISTEN: the address the agent
// serves /metrics on ("" for none). lanyard agent start --metrics-listen
// passes its flag to the agent it starts this way.
func (e Env) MetricsListen() string { return e.get(MetricsListenVar) }

// AuditPath is the audit log: audit.jsonl in StateDir.
func (e Env) AuditPath() string { return filepath.Join(e.StateDir(), "audit.jsonl") }

func (e Env) duration(name string, def time.Duration, example string, zeroOK bool) (time.Duration, error) {
	v := e.get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return 0, fmt.Errorf("%s=%q is not a duration such as %s", name, v, example)
	}
	return d, nil
}
