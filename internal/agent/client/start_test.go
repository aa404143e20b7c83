package client_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// The agent a helper starts is detached (a session of its own) and holds
// the keyring passphrase only in memory: not in its environment, not in
// its argv.
func TestStartedAgentKeepsThePassphraseOutOfEnvAndArgv(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if env.Env(os.Getenv).AgentOff() {
		t.Skip("LANYARD_AGENT=off")
	}
	env := testbin.NewEnv(t, testbin.Build(t, "lanyard"))
	if out, err := env.Command("lanyard", "agent", "start").CombinedOutput(); err != nil {
		t.Fatalf("lanyard agent start: %v\n%s", err, out)
	}
	resp, err := client.New(env.Getenv, io.Discard, false).Ask(context.Background(), &wire.Request{Op: wire.OpPing})
	if err != nil || resp.Agent == nil || resp.Agent.PID == 0 {
		t.Fatalf("ping: %+v, %v", resp, err)
	}
	proc := "/proc/" + strconv.Itoa(resp.Agent.PID)
	for _, f := range []string{"environ", "cmdline"} {
		b, err := os.ReadFile(proc + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), env.Passphrase) {
			t.Errorf("the agent's %s holds the keyring passphrase", f)
		}
	}
	stat, err := os.ReadFile(proc + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name: state ppid pgrp session.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 4 || f[2] != strconv.Itoa(resp.Agent.PID) || f[3] != strconv.Itoa(resp.Agent.PID) {
		t.Errorf("the agent is not the leader of its own process group and session: %v", f)
	}
}
