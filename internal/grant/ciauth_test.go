package grant_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

func TestParseSigningKey(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(p256)
	tests := []struct {
		name, alg string
		pem       []byte
		want      jose.SignatureAlgorithm
		wantErr   string
	}{
		{"rsa pkcs1 default", "", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), jose.RS256, ""},
		{"rsa ps256", "PS256", testprovider.KeyPEM(rsaKey), jose.PS256, ""},
		{"ec sec1 p256 default", "", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), jose.ES256, ""},
		{"ec p384 default", "", testprovider.KeyPEM(p384), jose.ES384, ""},
		{"ed25519 default", "", testprovider.KeyPEM(ed), jose.EdDSA, ""},
		{"p256 with ES384", "ES384", testprovider.KeyPEM(p256), "", "cannot be made with an EC P-256 key; use ES256"},
		{"rsa with EdDSA", "EdDSA", testprovider.KeyPEM(rsaKey), "", "RSA 2048-bit key"},
		{"certificate", "", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), "", "not a private key"},
		{"not pem", "", []byte("hunter2"), "", "not a PEM private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, alg, err := grant.ParseSigningKey(tt.pem, tt.alg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "cannot be made") && !errors.Is(err, grant.ErrKeyAlgMismatch) {
					t.Errorf("got %v, want ErrKeyAlgMismatch", err)
				}
				return
			}
			if err != nil || alg != tt.want {
				t.Fatalf("got %s, %v; want %s", alg, err, tt.want)
			}
		})
	}
}

// TestKeySignerClaims checks RFC 7523 §3 on what KeySigner signs.
func TestKeySignerClaims(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	s := &grant.KeySigner{ClientID: "cid", KeyID: "k1", Alg: jose.ES256, Key: k, Now: func() time.Time { return now }}
	seen := map[string]bool{}
	for range 3 {
		raw, err := s.Assertion(t.Context(), "https://as.example/token")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		var c jwt.Claims
		if err := tok.Claims(k.Public(), &c); err != nil {
			t.Fatal(err)
		}
		if tok.Headers[0].KeyID != "k1" || c.Issuer != "cid" || c.Subject != "cid" || len(c.Audience) != 1 || c.Audience[0] != "https://as.example/token" {
			t.Errorf("got kid %q claims %+v", tok.Headers[0].KeyID, c)
		}
		if exp := c.Expiry.Time(); !exp.After(now) || exp.After(now.Add(5*time.Minute)) {
			t.Errorf("exp %s is not within 5 minutes of %s", exp, now)
		}
		if c.ID == "" || seen[c.ID] {
			t.Errorf("jti %q empty or repeated", c.ID)
		}
		seen[c.ID] = true
	}
}

func TestSourceGitHubActions(t *testing.T) {
	gha, err := testprovider.StartGitHubActions()
	if err != nil {
		t.Fatal(err)
	}
	defer gha.Close()
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": gha.RequestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": gha.RequestToken}
	src := &grant.Source{Key: "client_assertion", Ref: "github-actions:api://AzureADTokenExchange", JWT: true, Getenv: func(k string) string { return env[k] }}
	tok, err := src.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&c); err != nil || c.Audience[0] != "api://AzureADTokenExchange" || c.Subject != gha.Subject {
		t.Errorf("got claims %+v, %v", c, err)
	}

	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runtime-xyz"
	if _, err := src.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "runtime-xyz") {
		t.Errorf("wrong request token: got %v, want HTTP 401 without the token", err)
	}
	delete(env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	if _, err := src.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "permissions: id-token: write") {
		t.Errorf("outside a job: got %v", err)
	}
	env["ACTIONS_ID_TOKEN_REQUEST_URL"] = "http://actions.example.com/token"
	if _, err := src.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("plain http: got %v", err)
	}
}

// TestAssertionPerAttempt checks that a retried request carries a new
// assertion: servers refuse a replayed jti.
func TestAssertionPerAttempt(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = append(got, r.PostForm.Get("client_assertion"))
		if r.PostForm.Get("client_assertion_type") != grant.ClientAssertionType || r.PostForm.Get("client_id") != "cid" {
			t.Errorf("got form %v", r.PostForm)
		}
		if len(got) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","expires_in":60}`))
	}))
	defer srv.Close()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := &grant.Client{HTTP: srv.Client(), TokenURL: srv.URL, ClientID: "cid", ClientAuth: grant.AuthPrivateKeyJWT,
		Assertion: &grant.KeySigner{ClientID: "cid", Alg: jose.ES256, Key: k}, Sleep: func(_ context.Context, _ time.Duration) error { return nil }}
	if _, err := grant.ClientCredentials(t.Context(), c, nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] == got[1] {
		t.Errorf("got %d attempts, same assertion=%v; want 2 different", len(got), len(got) == 2 && got[0] == got[1])
	}
}

// TestRevokeAssertionAudience: a revocation's assertion is for the token
// endpoint (RFC 7523 §3), not for the revocation URL.
func TestRevokeAssertionAudience(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var aud []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256})
		var c jwt.Claims
		if err != nil || tok.Claims(k.Public(), &c) != nil {
			t.Errorf("revocation without a valid assertion: %v", err)
		}
		aud = c.Audience
	}))
	defer srv.Close()
	c := &grant.Client{HTTP: srv.Client(), TokenURL: "https://as.example/token", ClientID: "cid", ClientAuth: grant.AuthPrivateKeyJWT,
		Assertion: &grant.KeySigner{ClientID: "cid", Alg: jose.ES256, Key: k}}
	if err := c.Revoke(t.Context(), srv.URL+"/revoke", "rt", "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if len(aud) != 1 || aud[0] != "https://as.example/token" {
		t.Errorf("got aud %v, want the token endpoint", aud)
	}
}
