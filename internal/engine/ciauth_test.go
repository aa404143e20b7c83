package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// TestPrivateKeyJWTOP: a private_key_jwt client against the real OP
// (zitadel): the code exchange, a refresh and the revocation each carry a
// fresh assertion with aud = the issuer, and no secret exists anywhere.
func TestPrivateKeyJWTOP(t *testing.T) {
	o := startOPForLogin(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	o.RegisterClientKey(testprovider.OPKeyClientID, key.Public(), "k-2026")
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPath := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newILEnv(t, nil)
	p := ilProfile(t, "op", fmt.Sprintf(`[profiles.op]
issuer = %q
grant = %q
client_id = %q
client_auth = "private_key_jwt"
private_key = "file:%s"
key_id = "k-2026"
assertion_audience = "issuer"
scopes = ["openid", "offline_access"]
`, o.Issuer, config.GrantAuthorizationCode, testprovider.OPKeyClientID, keyPath))

	done := h.login(t, p, LoginOptions{})
	au, err := url.Parse(h.ui.next(t, o.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	h.ui.next(t, "lanyard: waiting for the browser to come back to http://127.0.0.1:")
	redirect, err := o.ScriptedLogin(testCtx(t), au.String())
	if err != nil {
		t.Fatal(err)
	}
	if st, page := browse(t, redirect); st != 200 {
		t.Fatalf("listener answered %d: %s", st, page)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !o.Valid(r.tok.AccessToken) || r.tok.RefreshToken == "" {
		t.Fatalf("code exchange: valid=%v refresh token=%v", o.Valid(r.tok.AccessToken), r.tok.RefreshToken != "")
	}
	got, err := h.e.Token(testCtx(t), p, Options{ForceRefresh: true})
	if err != nil || got.AccessToken == r.tok.AccessToken || !o.Valid(got.AccessToken) {
		t.Fatalf("refresh with private_key_jwt: %v", err)
	}
	if err := h.e.Logout(testCtx(t), p, true); err != nil {
		t.Fatalf("revocation with private_key_jwt: %v", err)
	}
	if o.Valid(got.AccessToken) {
		t.Error("the access token is still valid after logout --revoke")
	}
}
