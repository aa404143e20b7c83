package testprovider

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func startOP(t *testing.T, ttl time.Duration) *OP {
	t.Helper()
	o, err := StartOP(OPOptions{AccessTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestOPDiscovery(t *testing.T) {
	o := startOP(t, 0)
	r := do(t, req{method: http.MethodGet, url: o.Issuer + "/.well-known/openid-configuration"})
	if r.status != 200 {
		t.Fatalf("discovery: %d %s", r.status, r.raw)
	}
	for k, want := range map[string]string{
		"issuer":                        o.Issuer,
		"token_endpoint":                o.TokenURL,
		"authorization_endpoint":        o.AuthURL,
		"device_authorization_endpoint": o.DeviceAuthURL,
		"revocation_endpoint":           o.RevocationURL,
	} {
		if got := r.str(k); got != want || got == "" {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	grants := strings.Fields(strings.Trim(strings.ReplaceAll(strings.ReplaceAll(r.raw[strings.Index(r.raw, `"grant_types_supported"`):], `"`, " "), ",", " "), " "))
	for _, g := range []string{"client_credentials", "refresh_token", "authorization_code", "urn:ietf:params:oauth:grant-type:device_code"} {
		if !slices.Contains(grants, g) {
			t.Errorf("grant_types_supported lacks %s: %s", g, r.raw)
		}
	}
	if !strings.Contains(r.raw, `"S256"`) {
		t.Errorf("S256 not announced: %s", r.raw)
	}
}

func TestOPClientCredentials(t *testing.T) {
	o := startOP(t, 0)
	ctx := ctxT(t)
	cc := clientcredentials.Config{ClientID: o.ConfidentialClientID, ClientSecret: o.ConfidentialClientSecret, TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Valid(tok.AccessToken) || tok.RefreshToken != "" || tok.Extra("expires_in") != 300.0 {
		t.Fatalf("token %+v: valid=%v", tok, o.Valid(tok.AccessToken))
	}
	if o.Valid(tok.AccessToken+"x") || o.Valid("garbage") {
		t.Fatal("forged token valid")
	}
	wantErr(t, do(t, req{url: o.TokenURL, form: url.Values{"grant_type": {"client_credentials"}}, basic: [2]string{o.ConfidentialClientID, "wrong"}}), 401, "invalid_client")
	if n := o.TokenRequests(); n != 2 {
		t.Fatalf("TokenRequests = %d, want 2", n)
	}
	if s := stats(t, o.Issuer); s.TokenRequests != 2 {
		t.Fatalf("stats = %+v", s)
	}
	// RevokeAllAccessTokens, via the HTTP endpoint.
	if r := do(t, req{url: o.Issuer + RevokeAccessPath}); r.status != 200 || o.Valid(tok.AccessToken) {
		t.Fatalf("revoke-access: %d, still valid=%v", r.status, o.Valid(tok.AccessToken))
	}
}

func publicConfig(o *OP, redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    o.PublicClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: o.AuthURL, TokenURL: o.TokenURL, DeviceAuthURL: o.DeviceAuthURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirect,
		Scopes:      scopes,
	}
}

func TestOPAuthCodePKCE(t *testing.T) {
	o := startOP(t, 0)
	ctx := ctxT(t)
	for _, redirect := range []string{"http://127.0.0.1:54321/callback", "http://127.0.0.1:1234/other/path", "http://localhost:8080/cb"} {
		cfg := publicConfig(o, redirect, "openid", "profile", "offline_access")
		verifier := oauth2.GenerateVerifier()
		loc, err := o.ScriptedLogin(ctx, cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
			t.Fatalf("redirect %s", loc)
		}
		code := loc.Query().Get("code")
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption("wrong-verifier-wrong-verifier-wrong-verifier")); err == nil {
			t.Fatal("wrong verifier accepted")
		}
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken == "" || tok.Extra("id_token") == nil || !o.Valid(tok.AccessToken) {
			t.Fatalf("token %+v", tok)
		}
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("code redeemed twice")
		}
	}

	cfg := publicConfig(o, "http://127.0.0.1:9/callback", "openid")
	t.Run("no offline_access no refresh token", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		loc, err := o.ScriptedLogin(ctx, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil || tok.RefreshToken != "" {
			t.Fatalf("tok %+v err %v", tok, err)
		}
	})
	t.Run("PKCE required", func(t *testing.T) {
		loc, err := o.ScriptedLogin(ctx, cfg.AuthCodeURL("s2"))
		if err != nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s2" {
			t.Fatalf("loc %v err %v", loc, err)
		}
	})
	t.Run("plain rejected", func(t *testing.T) {
		loc, err := o.ScriptedLogin(ctx, cfg.AuthCodeURL("s3", oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		if err != nil || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("loc %v err %v", loc, err)
		}
	})
	t.Run("deny", func(t *testing.T) {
		loc, err := o.ScriptedDeny(ctx, cfg.AuthCodeURL("s4", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s4" {
			t.Fatalf("loc %v err %v", loc, err)
		}
	})
	t.Run("non-loopback redirect refused", func(t *testing.T) {
		bad := publicConfig(o, "http://evil.example/callback", "openid")
		if _, err := o.ScriptedLogin(ctx, bad.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))); err == nil {
			t.Fatal("want error page")
		}
	})
	t.Run("confidential client with basic", func(t *testing.T) {
		c := &oauth2.Config{ClientID: o.ConfidentialClientID, ClientSecret: o.ConfidentialClientSecret, RedirectURL: "http://127.0.0.1:7777/callback",
			Endpoint: oauth2.Endpoint{AuthURL: o.AuthURL, TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}, Scopes: []string{"openid", "offline_access"}}
		loc, err := o.ScriptedLogin(ctx, c.AuthCodeURL("s"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := c.Exchange(ctx, loc.Query().Get("code"))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("tok %+v err %v", tok, err)
		}
	})
}

// loginPublic returns a token set of the public client with offline_access.
func loginPublic(t *testing.T, o *OP) *oauth2.Token {
	t.Helper()
	ctx := ctxT(t)
	cfg := publicConfig(o, "http://127.0.0.1:5000/callback", "openid", "offline_access")
	v := oauth2.GenerateVerifier()
	loc, err := o.ScriptedLogin(ctx, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestOPRefreshRotation(t *testing.T) {
	o := startOP(t, 2*time.Second)
	tok := loginPublic(t, o)
	if tok.Extra("expires_in") != 2.0 {
		t.Fatalf("expires_in = %v, want 2", tok.Extra("expires_in"))
	}
	refresh := func(rt string) reply {
		return do(t, req{url: o.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {o.PublicClientID}}})
	}
	r1 := refresh(tok.RefreshToken)
	wantOK(t, r1)
	rt2 := r1.str("refresh_token")
	if rt2 == "" || rt2 == tok.RefreshToken || r1.str("id_token") == "" {
		t.Fatalf("no rotation: %s", r1.raw)
	}
	// Access tokens stay valid until they expire, even after rotation.
	if !o.Valid(tok.AccessToken) || !o.Valid(r1.str("access_token")) {
		t.Fatal("access tokens should be valid")
	}
	wantErr(t, refresh(tok.RefreshToken), 400, "invalid_grant")
	if o.ReuseDetections() != 1 {
		t.Fatalf("reuse = %d", o.ReuseDetections())
	}
	// Reuse revoked the family: the current refresh token and its access token too.
	wantErr(t, refresh(rt2), 400, "invalid_grant")
	if o.Valid(r1.str("access_token")) {
		t.Fatal("family not revoked")
	}

	// Expiry.
	tok = loginPublic(t, o)
	time.Sleep(2600 * time.Millisecond)
	if o.Valid(tok.AccessToken) {
		t.Fatal("expired token valid")
	}
	// RevokeAllAccessTokens keeps refresh tokens.
	r := refresh(tok.RefreshToken)
	wantOK(t, r)
	o.RevokeAllAccessTokens()
	if o.Valid(r.str("access_token")) {
		t.Fatal("revoked token valid")
	}
	wantOK(t, refresh(r.str("refresh_token")))
}

func TestOPRevocationEndpoint(t *testing.T) {
	o := startOP(t, 0)
	tok := loginPublic(t, o)
	r := do(t, req{url: o.RevocationURL, form: url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {o.PublicClientID}}})
	if r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if o.Valid(tok.AccessToken) {
		t.Fatal("access token of revoked refresh token still valid")
	}
	wantErr(t, do(t, req{url: o.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {o.PublicClientID}}}), 400, "invalid_grant")
	if o.ReuseDetections() != 0 {
		t.Fatal("a revoked token is not a reuse")
	}
	// Access token revocation.
	tok = loginPublic(t, o)
	if r := do(t, req{url: o.RevocationURL, form: url.Values{"token": {tok.AccessToken}, "client_id": {o.PublicClientID}}}); r.status != 200 || o.Valid(tok.AccessToken) {
		t.Fatalf("revoke access: %d valid=%v", r.status, o.Valid(tok.AccessToken))
	}
}

func TestOPDeviceCode(t *testing.T) {
	o := startOP(t, 0)
	ctx := ctxT(t)
	cfg := publicConfig(o, "", "openid", "offline_access")
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.UserCode == "" || !strings.HasPrefix(da.VerificationURIComplete, o.Issuer+"/device?user_code=") || da.Interval != 1 {
		t.Fatalf("device auth %+v", da)
	}
	// Pending before approval.
	r := do(t, req{url: o.TokenURL, form: url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}, "client_id": {o.PublicClientID}}})
	wantErr(t, r, 400, "authorization_pending")
	go func() {
		time.Sleep(200 * time.Millisecond)
		if err := o.ApproveDevice(ctx, da.UserCode); err != nil {
			t.Error(err)
		}
	}()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Valid(tok.AccessToken) || tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token %+v", tok)
	}
	if err := o.ApproveDevice(ctx, da.UserCode); err == nil {
		t.Fatal("approved twice")
	}
	// Denied.
	da, err = cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.DenyDevice(ctx, da.UserCode); err != nil {
		t.Fatal(err)
	}
	wantErr(t, do(t, req{url: o.TokenURL, form: url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}, "client_id": {o.PublicClientID}}}), 400, "access_denied")
	if err := o.ApproveDevice(ctx, "NOPE-NOPE"); err == nil {
		t.Fatal("unknown user code approved")
	}
}
