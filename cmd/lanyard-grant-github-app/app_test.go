package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/lanyardhq/lanyard/plugin"
)

func settingsFor(f *fakeGitHub, key string) map[string]string {
	return map[string]string{"app_id": f.appID, "installation_id": f.installationID, "private_key": key, "api_url": f.APIURL()}
}

func TestTokenFromFakeGitHub(t *testing.T) {
	k := appKey(t)
	tests := []struct {
		name, appID, prefix, key string
	}{
		{"PKCS#1 key, github.com", "123456", "", pemPKCS1(k)},
		{"PKCS#8 key, GitHub Enterprise Server", "123456", "/api/v3", pemPKCS8(t, k)},
		{"client ID as issuer", "Iv23liABCDEF", "", pemPKCS1(k)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakeGitHub(t, &k.PublicKey, tt.appID, "7890", tt.prefix)
			app := &App{Version: "test"}
			s := settingsFor(f, tt.key)
			s["api_url"] += "/" // a trailing slash is fine
			tok, err := app.Token(t.Context(), s, "")
			if err != nil {
				t.Fatalf("got %v (server: %v)", err, f.Rejected())
			}
			if !f.Valid(tok.AccessToken) {
				t.Errorf("got token %q, not one the server issued", tok.AccessToken)
			}
			if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour {
				t.Errorf("got expiry in %s, want about 1h", d)
			}
			if tok.State != "" {
				t.Errorf("got state %q, want none (installation tokens do not refresh)", tok.State)
			}
			if tok.Extra["permissions"] != "contents=write,metadata=read" || tok.Extra["repository_selection"] != "all" {
				t.Errorf("got extra %v", tok.Extra)
			}
		})
	}
}

func TestTokenLimitsRepositoriesAndPermissions(t *testing.T) {
	k := appKey(t)
	f := startFakeGitHub(t, &k.PublicKey, "1", "2", "")
	s := settingsFor(f, pemPKCS1(k))
	s["repositories"] = "app, infra"
	s["permissions"] = "contents=write, pull_requests=read"
	if _, err := (&App{}).Token(t.Context(), s, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(f.bodies[0])
	want := `{"permissions":{"contents":"write","pull_requests":"read"},"repositories":["app","infra"]}`
	if string(got) != want {
		t.Errorf("got body %s, want %s", got, want)
	}
}

func TestAppJWTClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct{ appID, wantIss string }{{"123456", "123456"}, {"Iv23li", `"Iv23li"`}} {
		jwt, err := appJWT(appKey(t), tt.appID, now)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(jwt, ".")
		c, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(c, &claims); err != nil {
			t.Fatal(err)
		}
		if string(claims["iat"]) != "1799999940" || string(claims["exp"]) != "1800000540" || string(claims["iss"]) != tt.wantIss {
			t.Errorf("got claims %s, want iat now-60s, exp now+9m, iss %s", c, tt.wantIss)
		}
	}
}

func TestTokenErrors(t *testing.T) {
	k := appKey(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	other := pemPKCS1(mustKey(t))
	f := startFakeGitHub(t, &k.PublicKey, "123", "456", "")
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html><body>502 Bad Gateway</body></html>\n<p>nginx</p>"))
	}))
	t.Cleanup(html.Close)

	tests := []struct {
		name    string
		edit    func(s map[string]string)
		setting string // the SettingError's setting, "" for a plain error
		want    string
	}{
		{"key of another app", func(s map[string]string) { s["private_key"] = other }, "private_key",
			"answered HTTP 401: A JSON web token could not be decoded"},
		{"wrong installation", func(s map[string]string) { s["installation_id"] = "999" }, "installation_id",
			"app 123 has no installation 999"},
		{"not PEM", func(s map[string]string) { s["private_key"] = "hunter2-not-a-key" }, "private_key", "is not PEM"},
		{"EC key", func(s map[string]string) { s["private_key"] = ecPEM }, "private_key", "GitHub Apps sign with RSA keys"},
		{"installation not a number", func(s map[string]string) { s["installation_id"] = "acme" }, "installation_id", `"acme" is not a number`},
		{"no app id", func(s map[string]string) { delete(s, "app_id") }, "app_id", "missing"},
		{"plain http", func(s map[string]string) { s["api_url"] = "http://github.example.com/api/v3" }, "api_url", "is not an https URL"},
		{"bad permissions", func(s map[string]string) { s["permissions"] = "contents" }, "permissions", `"contents" is not name=level`},
		{"HTML error page", func(s map[string]string) { s["api_url"] = html.URL }, "", `answered HTTP 502: "<html><body>502 Bad Gateway</body></html>"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settingsFor(f, pemPKCS1(k))
			tt.edit(s)
			_, err := (&App{}).Token(t.Context(), s, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			var se *plugin.SettingError
			got := ""
			if errors.As(err, &se) {
				got = se.Setting
			}
			if got != tt.setting {
				t.Errorf("got setting %q, want %q", got, tt.setting)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "MII") {
				t.Errorf("error quotes the key: %v", err)
			}
		})
	}
}

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestOverGRPC serves the plugin over go-plugin's gRPC transport in
// process, as lanyard talks to it, and checks its schema.
func TestOverGRPC(t *testing.T) {
	k := appKey(t)
	f := startFakeGitHub(t, &k.PublicKey, "42", "43", "")
	client, _ := goplugin.TestPluginGRPCConn(t, false, goplugin.PluginSet{plugin.PluginName: &plugin.GRPCPlugin{Impl: &App{Version: "1.0.0"}}})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(plugin.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	g := raw.(plugin.Grant)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	d, err := g.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "github-app" || d.Version != "1.0.0" {
		t.Errorf("got %s %s, want github-app 1.0.0", d.Name, d.Version)
	}
	secret := map[string]bool{}
	for _, s := range d.Settings {
		secret[s.Name] = s.Secret
	}
	if !secret["private_key"] || secret["app_id"] {
		t.Errorf("got secret settings %v, want private_key only", secret)
	}
	tok, err := g.Token(ctx, settingsFor(f, pemPKCS1(k)), "")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Valid(tok.AccessToken) {
		t.Errorf("got %q, not a token the server issued", tok.AccessToken)
	}
	// A setting error keeps its type across the wire.
	s := settingsFor(f, pemPKCS1(k))
	s["installation_id"] = "x"
	_, err = g.Token(ctx, s, "")
	var se *plugin.SettingError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "installation_id") {
		t.Errorf("got %v, want a SettingError about installation_id", err)
	}
}

// TestTokenFollowsNoRedirect: a 307 from api_url must not resend the app's
// JWT to the Location.
func TestTokenFollowsNoRedirect(t *testing.T) {
	k := appKey(t)
	f := startFakeGitHub(t, &k.PublicKey, "123456", "7890", "")
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	s := settingsFor(f, pemPKCS1(k))
	s["api_url"] = redirector.URL
	_, err := (&App{Version: "test", HTTP: &http.Client{}}).Token(t.Context(), s, "")
	if err == nil || !strings.Contains(err.Error(), f.URL) || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("got %v, want a redirect error naming %s", err, f.URL)
	}
	if n := f.Requests(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
}
