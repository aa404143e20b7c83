package shared_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/testredis"
)

// TestLogoutRevokeShared: logout --revoke on a shared profile revokes the
// record's refresh token at the provider, from a machine that never held
// a token itself; a machine whose key does not open the record fails,
// says so, and revokes and removes nothing.
func TestLogoutRevokeShared(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a, b, c := w.machine(), w.machine(), w.machine()
	w.login(a)
	tok := strings.TrimSpace(mustRun(t, b, "", "token", "whiplash"))
	if !w.wl.Valid(tok) || w.wl.LiveRefreshTokens() != 1 {
		t.Fatalf("before logout: token valid %v, %d live refresh tokens; want true, 1", w.wl.Valid(tok), w.wl.LiveRefreshTokens())
	}

	wrong := w.machine()
	wrong.Set("TEAM_KEY", base64.StdEncoding.EncodeToString(make([]byte, 32)))
	dump := w.redis.Dump(t)
	_, stderr, code := run(t, wrong, "", "logout", "whiplash", "--revoke")
	if code == 0 || !strings.Contains(stderr, "cannot decrypt the shared record of profile whiplash") || strings.Contains(stderr, "logged out") {
		t.Fatalf("logout --revoke with the wrong key: exit %d, %s; want a failure naming the record", code, stderr)
	}
	if after := w.redis.Dump(t); after["lanyard:rec:whiplash"] != dump["lanyard:rec:whiplash"] || w.wl.LiveRefreshTokens() != 1 {
		t.Fatal("a failed logout --revoke changed the record or revoked the grant")
	}

	out, stderr, code := run(t, c, "", "logout", "whiplash", "--revoke")
	if code != 0 {
		t.Fatalf("logout --revoke: exit %d, %s%s", code, out, stderr)
	}
	if n := w.wl.LiveRefreshTokens(); n != 0 {
		t.Errorf("after logout --revoke: %d refresh tokens still live at the provider, want 0", n)
	}
	if w.wl.Valid(tok) {
		t.Error("after logout --revoke: the shared access token is still valid")
	}
	if _, stderr, code := run(t, c, "", "token", "whiplash"); code != 3 || !strings.Contains(stderr, "run: lanyard login whiplash") {
		t.Fatalf("after logout --revoke: exit %d, %s; want 3 and the login command", code, stderr)
	}
}

// TestSharedRefreshRefusedDex: when the provider refuses the team's
// refresh token in Dex's words (invalid_request, not invalid_grant), every
// machine gets exit 3 and the login command, and no machine sends the
// refresh token again.
func TestSharedRefreshRefusedDex(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	f, err := testprovider.StartFault()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	w.tokenURL = f.TokenURL
	a, b := w.machine(), w.machine()
	w.login(a)
	f.SetScript([]testprovider.FaultStep{{Status: 400, Body: `{"error":"invalid_request","error_description":"Refresh token is invalid or has already been claimed by another client."}`}})
	n := f.Requests()
	for i, m := range []*testbin.Env{a, b, a, b} {
		_, stderr, code := run(t, m, "", "token", "whiplash", "--min-ttl", "24h")
		if code != 3 || !strings.Contains(stderr, "run: lanyard login whiplash") {
			t.Fatalf("call %d: exit %d, %s; want 3 and the login command", i, code, stderr)
		}
	}
	if got := f.Requests() - n; got != 1 {
		t.Fatalf("the refused refresh token was sent %d times, want once", got)
	}
}
