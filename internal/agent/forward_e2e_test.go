package agent

import (
	"bufio"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// lanyard agent forward serves a remote host that has no profiles file and
// no refresh token: the git and docker helpers and lanyard token there ask
// the forwarded socket, which serves only the forwarded profiles.
func TestForwardToARemoteHost(t *testing.T) {
	bin := testbin.Build(t, "lanyard", "git-credential-lanyard", "docker-credential-lanyard")
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	local := testbin.NewEnv(t, bin)
	if local.Getenv("LANYARD_AGENT") == "off" {
		t.Skip("LANYARD_AGENT=off: no agent to forward")
	}
	local.Set(secretVar, op.ConfidentialClientSecret)
	local.WriteConfig(t, profiles(op, "a", "b"))
	fwdPath := filepath.Join(filepath.Dir(local.AgentSocket), "fwd.sock")
	fwd := local.Command("lanyard", "agent", "forward", "--profiles", "a", "--socket", fwdPath)
	stdout, err := fwd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := fwd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fwd.Process.Kill(); _ = fwd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != fwdPath {
		t.Fatalf("lanyard agent forward printed %q (%v), want %s", line, err, fwdPath)
	}

	remote := testbin.NewEnv(t, bin) // no profiles file, no tokens
	remote.Set("LANYARD_AGENT_SOCK", fwdPath)
	run := func(stdin string, name string, args ...string) (string, error) {
		cmd := remote.Command(name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		return string(out), err
	}
	out, err := run("protocol=https\nhost=a.example.com\n\n", "git-credential-lanyard", "get")
	pw := ""
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "password="); ok {
			pw = v
		}
	}
	if err != nil || !op.Valid(pw) {
		t.Fatalf("git on the remote host: %q, %v; want a valid token", out, err)
	}
	if out, err := run("a.example.com", "docker-credential-lanyard", "get"); err != nil || !strings.Contains(out, pw) {
		t.Errorf("docker on the remote host: %q, %v", out, err)
	}
	if out, err := run("", "lanyard", "token", "a"); err != nil || strings.TrimSpace(out) != pw {
		t.Errorf("lanyard token on the remote host: %q, %v", out, err)
	}
	// Profile b is not forwarded: git gets no answer (and asks its next
	// helper), lanyard token fails.
	if out, err := run("protocol=https\nhost=b.example.com\n\n", "git-credential-lanyard", "get"); err != nil || out != "" {
		t.Errorf("git for an unforwarded profile: %q, %v; want nothing, exit 0", out, err)
	}
	if out, err := run("", "lanyard", "token", "b"); err == nil {
		t.Errorf("lanyard token b through the forward: %q; want a refusal", out)
	}
}
