package shared_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/testredis"
)

// TestInitPushStatusLogout: shared init prints a usable key once and
// refuses to replace it; a login made before the profile had shared moves
// into the tier with shared push; status shows the record without a
// token; logout removes it for everyone.
func TestInitPushStatusLogout(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a, b, c := w.machine(), w.machine(), w.machine()

	out := mustRun(t, a, "", "shared", "init", "team")
	found := false
	for _, l := range strings.Split(out, "\n") {
		if _, ok := config.ParseSharedKey(l); ok {
			found = true
		}
	}
	if !found || !strings.Contains(out, "lanyard secret set shared.team key") || !strings.Contains(out, "env:LANYARD_SHARED_KEY") {
		t.Fatalf("shared init printed no key or no instructions:\n%s", out)
	}
	if _, stderr, code := run(t, a, "", "shared", "init", "team"); code == 0 || !strings.Contains(stderr, "--force") {
		t.Fatalf("second init: exit %d, %s", code, stderr)
	}

	w.local = true
	w.writeConfig(a)
	w.login(a)
	w.local = false
	w.writeConfig(a)
	mustRun(t, a, "", "shared", "push", "whiplash")
	tok := strings.TrimSpace(mustRun(t, b, "", "token", "whiplash", "--min-ttl", round(w.wl, 1)))
	sameValid(t, w.wl, []string{tok})
	counts(t, w.wl, 2, 0)

	status := mustRun(t, b, "", "shared", "status", "team")
	for _, want := range []string{"[shared.team]", "whiplash", "yes", "free", " by "} {
		if !strings.Contains(status, want) {
			t.Errorf("shared status: want %q in\n%s", want, status)
		}
	}
	if strings.Contains(status, tok) || strings.Contains(status, "whiplash_") {
		t.Errorf("shared status shows a token:\n%s", status)
	}

	mustRun(t, b, "", "logout", "whiplash")
	_, stderr, code := run(t, c, "", "token", "whiplash")
	if code != 3 || !strings.Contains(stderr, "run: lanyard login whiplash") {
		t.Fatalf("after logout: exit %d, %s", code, stderr)
	}
	counts(t, w.wl, 2, 0)
}

// TestClientCredentials: a client_credentials profile shares one token
// across machines; with Redis down, on_unavailable = "local" fetches one
// locally and "fail" fails naming the tier.
func TestClientCredentials(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	wf, err := testprovider.StartWhenFresh()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wf.Close() })
	machine := func(onUnavailable string) *testbin.Env {
		env := w.machine()
		env.Set("WF_SECRET", wf.MachineClientSecret)
		env.WriteConfig(t, fmt.Sprintf(`
[shared.team]
url = %q
key = "env:TEAM_KEY"
username = "lanyard"
password = "env:REDIS_PW"
on_unavailable = %q

[profiles.machine]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = "env:WF_SECRET"
shared = "team"
`, w.url, onUnavailable, wf.URL, wf.MachineClientID))
		return env
	}
	a, b := machine("local"), machine("local")
	ta := strings.TrimSpace(mustRun(t, a, "", "token", "machine"))
	tb := strings.TrimSpace(mustRun(t, b, "", "token", "machine"))
	if ta != tb || !wf.Valid(ta) {
		t.Fatal("the two machines did not share one valid token")
	}
	if got := wf.TokenRequests(); got != 1 {
		t.Fatalf("token requests: got %d, want 1", got)
	}
	w.redis.Kill()
	local := strings.TrimSpace(mustRun(t, machine("local"), "", "token", "machine"))
	if local == ta || !wf.Valid(local) || wf.TokenRequests() != 2 {
		t.Fatalf("on_unavailable = local: got a %s token, %d requests", map[bool]string{true: "shared", false: "new"}[local == ta], wf.TokenRequests())
	}
	_, stderr, code := run(t, machine("fail"), "", "token", "machine")
	if code == 0 || !strings.Contains(stderr, "[shared.team]") || wf.TokenRequests() != 2 {
		t.Fatalf("on_unavailable = fail: exit %d, %d requests, %s", code, wf.TokenRequests(), stderr)
	}
}
