package env_test

import (
	"runtime"
	"testing"

	"github.com/lanyardhq/lanyard/internal/env"
)

func TestBool(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "No": false, " off ": false, "1": true, "true": true, "on": true, "yes": true} {
		if got := env.Bool(v); got != want {
			t.Errorf("Bool(%q) = %v, want %v", v, got, want)
		}
	}
}

func vars(m map[string]string) env.Env { return func(k string) string { return m[k] } }

func TestPaths(t *testing.T) {
	e := vars(map[string]string{"HOME": "/home/u"})
	for _, c := range []struct{ name, got, want string }{
		{"config", e.ConfigPath(), "/home/u/.config/lanyard/config.toml"},
		{"state", e.StateDir(), "/home/u/.local/state/lanyard"},
		{"data", e.DataDir(), "/home/u/.local/share/lanyard"},
		{"keyring", e.KeyringDir(), "/home/u/.local/share/lanyard/keyring"},
		{"hot", e.HotDir(), "/home/u/.local/state/lanyard/hot"},
		{"audit", e.AuditPath(), "/home/u/.local/state/lanyard/audit.jsonl"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	x := vars(map[string]string{"HOME": "/home/u", "LANYARD_CONFIG": "/etc/l.toml", "XDG_STATE_HOME": "/s", "XDG_RUNTIME_DIR": "/run/user/1", "LANYARD_KEYRING_DIR": "/k"})
	sock, err := x.SocketPath()
	if err != nil || sock != "/run/user/1/lanyard/agent.sock" {
		t.Errorf("socket: got %q, %v", sock, err)
	}
	if x.AuditPath() != "/s/lanyard/audit.jsonl" {
		t.Errorf("audit: got %q", x.AuditPath())
	}
	if x.ConfigPath() != "/etc/l.toml" || x.StateDir() != "/s/lanyard" || x.HotDir() != "/run/user/1/lanyard/hot" || x.KeyringDir() != "/k" {
		t.Errorf("got %q %q %q %q", x.ConfigPath(), x.StateDir(), x.HotDir(), x.KeyringDir())
	}
	if _, err := vars(map[string]string{"LANYARD_AGENT_SOCK": "rel.sock"}).SocketPath(); err == nil {
		t.Error("a relative LANYARD_AGENT_SOCK was accepted")
	}
}

func TestAgentSettings(t *testing.T) {
	if runtime.GOOS != "windows" {
		if vars(nil).AgentOff() || !vars(map[string]string{"LANYARD_AGENT": "off"}).AgentOff() || vars(map[string]string{"LANYARD_AGENT": "on"}).AgentOff() {
			t.Error("AgentOff reads LANYARD_AGENT wrong")
		}
		if !vars(map[string]string{"CI": "true"}).AgentOff() || vars(map[string]string{"CI": "true", "LANYARD_AGENT": "on"}).AgentOff() || vars(map[string]string{"CI": "false"}).AgentOff() {
			t.Error("AgentOff reads CI wrong: CI=true is off unless LANYARD_AGENT=on")
		}
	}
	if d, err := vars(map[string]string{"LANYARD_AGENT_REFRESH_AHEAD": "0"}).RefreshAhead(); err != nil || d >= 0 {
		t.Errorf("refresh ahead 0: got %v, %v; want off (negative)", d, err)
	}
	if _, err := vars(map[string]string{"LANYARD_AGENT_IDLE": "soon"}).AgentIdle(); err == nil {
		t.Error("LANYARD_AGENT_IDLE=soon was accepted")
	}
	if _, err := vars(map[string]string{"LANYARD_HTTP_TIMEOUT": "-1s"}).HTTPTimeout(); err == nil {
		t.Error("a negative LANYARD_HTTP_TIMEOUT was accepted")
	}
}

func TestNonInteractive(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "1": true, "true": true} {
		if got := vars(map[string]string{"LANYARD_NONINTERACTIVE": v}).NonInteractive(); got != want {
			t.Errorf("LANYARD_NONINTERACTIVE=%q: got %v, want %v", v, got, want)
		}
	}
}
