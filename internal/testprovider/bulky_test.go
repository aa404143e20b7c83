package testprovider

import (
	"net/url"
	"testing"
)

func TestBulky(t *testing.T) {
	b, err := StartBulky(16 << 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	rt := b.IssueRefreshToken("alice")
	refresh := func(rt string, basic [2]string) reply {
		return do(t, req{url: b.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: basic})
	}
	creds := [2]string{b.ClientID, b.ClientSecret}

	r := refresh(rt, creds)
	at, id, next := r.str("access_token"), r.str("id_token"), r.str("refresh_token")
	if r.status != 200 || next == "" || next == rt {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	if n := len(at) + len(id) + len(next); n < 16<<10 || n > 20<<10 {
		t.Errorf("tokens take %d bytes, want about 16 KB", n)
	}
	if !b.Valid(at) || !b.Valid(id) {
		t.Error("issued tokens are not valid at the API")
	}
	if r := refresh(next, [2]string{b.ClientID, "wrong"}); r.status != 401 || r.str("error") != "invalid_client" {
		t.Errorf("wrong secret: %d %s", r.status, r.raw)
	}
	if r := do(t, req{url: b.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}, "client_id": {b.ClientID}, "client_secret": {b.ClientSecret}}}); r.str("error") != "invalid_client" {
		t.Errorf("secret in the body: %d %s", r.status, r.raw)
	}
	// Reuse of a rotated token revokes the grant.
	if r := refresh(rt, creds); r.str("error") != "invalid_grant" || b.ReuseDetections() != 1 {
		t.Fatalf("reuse: %s, %d detections", r.raw, b.ReuseDetections())
	}
	if r := refresh(next, creds); r.str("error") != "invalid_grant" {
		t.Errorf("after reuse the grant lives on: %s", r.raw)
	}
}
