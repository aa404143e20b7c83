package engine

import (
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// dexDeadRefresh is Dex v2.45.1's answer to a refresh token it has already
// exchanged or revoked: invalid_request where RFC 6749 says invalid_grant.
var dexDeadRefresh = testprovider.FaultStep{Status: 400, Body: `{"error":"invalid_request","error_description":"Refresh token is invalid or has already been claimed by another client."}`}

// TestRefreshRefusedDex: a refresh Dex refuses with its wording ends in
// "run: lanyard login p" (exit 3), the refresh token is kept but marked and
// not sent again until a login, and a login clears the mark.
func TestRefreshRefusedDex(t *testing.T) {
	srv := startFault(t)
	e := faultEngine(t, faultEnv(t))
	p := refreshProfile(t, srv.TokenURL)
	before := loggedIn(t, e, p)
	srv.SetScript([]testprovider.FaultStep{dexDeadRefresh})

	_, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if !IsLoginRequired(err) || !strings.Contains(err.Error(), "run: lanyard login p") {
		t.Fatalf("got %v, want a login-required error naming lanyard login p", err)
	}
	if !strings.Contains(err.Error(), "already been claimed") {
		t.Errorf("error %q does not say what the server said", err)
	}
	wantRefreshKept(t, e, before)
	n := srv.Requests()
	for range 3 {
		if _, err := e.Token(t.Context(), p, Options{ForceRefresh: true}); !IsLoginRequired(err) {
			t.Fatalf("after the refusal: got %v, want login required", err)
		}
	}
	if got := srv.Requests() - n; got != 0 {
		t.Fatalf("the refused refresh token was sent %d more times, want 0 until a login", got)
	}
	wantRefreshKept(t, e, before)

	// A login stores a new token and lifts the mark.
	if _, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: "new-rt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Token(t.Context(), p, Options{ForceRefresh: true}); err != nil {
		t.Fatalf("after a login: %v", err)
	}
}

// TestLoginRefreshTokenRefusedDex: an imported refresh token that Dex
// refuses is reported as rejected and nothing is stored.
func TestLoginRefreshTokenRefusedDex(t *testing.T) {
	srv := startFault(t)
	e := faultEngine(t, faultEnv(t))
	p := refreshProfile(t, srv.TokenURL)
	srv.SetScript([]testprovider.FaultStep{dexDeadRefresh})
	_, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: "dead-rt"})
	if err == nil || !strings.Contains(err.Error(), "the refresh token you gave was rejected") {
		t.Fatalf("got %v, want the imported token named as rejected", err)
	}
	if tok, err := e.Store.Token("p"); err == nil && tok != nil && tok.RefreshToken != "" {
		t.Fatalf("stored %+v after a rejected import", tok)
	}
}
