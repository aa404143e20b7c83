package config

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzConfig feeds arbitrary documents to Parse. It must never panic; an
// invalid file gives a *Error naming the file, and a valid one yields only
// profiles that satisfy every rule the engine relies on (known grant, client
// auth and dialect, secrets by reference only, no plain http to a remote
// host). The seed corpus in testdata/fuzz/FuzzConfig holds the profiles of
// the four seed APIs, a plugin profile and typical mistakes.
func FuzzConfig(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "seeds.toml")); err == nil {
		f.Add(b, "https://api.whisk.com/v2/me")
	}
	f.Add([]byte("[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\n"), "https://x/")
	f.Add([]byte(matchProfiles), "https://git.example.com/acme/..;/evil/x.git")
	f.Add([]byte(matchProfiles), "https://git.example.com/acme/%2e%2e%3b/evil/x.git")
	f.Add([]byte(matchProfiles), "https://git.example.com/acme/..;jsessionid=1/evil/x.git")
	f.Fuzz(func(t *testing.T, data []byte, rawURL string) {
		const path = "/fuzz/config.toml"
		done := make(chan struct{})
		var file *File
		var err error
		go func() { file, err = Parse(path, data); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("Parse hangs on %q", data)
		}
		if err != nil {
			if file != nil {
				t.Fatalf("got a file and error %v", err)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got error type %T (%v), want *config.Error", err, err)
			}
			if ce.File != path || !strings.HasPrefix(err.Error(), path) || ce.Line < 0 {
				t.Fatalf("error %q does not start with the file (line %d)", err, ce.Line)
			}
			return
		}
		for _, name := range file.Names() {
			p, err := file.Profile(name)
			if err != nil || p.Name != name {
				t.Fatalf("profile %q: %v", name, err)
			}
			checkProfile(t, p)
		}
		if p := file.Match(rawURL); p != nil {
			if file.Profiles[p.Name] != p {
				t.Fatalf("Match(%q) returned a profile not in the file", rawURL)
			}
			if u, err := url.Parse(strings.TrimSpace(rawURL)); err == nil {
				for seg := range strings.SplitSeq(u.Path, "/") {
					if name, _, _ := strings.Cut(seg, ";"); name == "." || name == ".." {
						t.Fatalf("Match(%q) = %s despite the dot segment %q", rawURL, p.Name, seg)
					}
				}
			}
		}
	})
}

// checkProfile asserts what a valid profile guarantees to the engine.
func checkProfile(t *testing.T, p *Profile) {
	t.Helper()
	switch p.Grant {
	case GrantClientCredentials, GrantRefreshToken, GrantPassword, GrantAuthorizationCode, GrantDeviceCode, GrantImplicit, GrantJWTBearer, GrantTokenExchange:
	default:
		if p.PluginName() == "" {
			t.Fatalf("%s: grant %q accepted", p.Name, p.Grant)
		}
	}
	if !oneOf(p.ClientAuth, "basic", "post", "none", AuthPrivateKeyJWT, AuthClientAssertion, AuthTLS, AuthSelfSignedTLS) || !oneOf(p.TokenRequest, "form", "json", "multipart") ||
		!oneOf(p.ScopeSeparator, " ", ",") || !oneOf(p.PKCE, "S256", "none") || !oneOf(p.Use, "access_token", "id_token") || p.ScopeParam == "" {
		t.Fatalf("%s: defaults not applied: %+v", p.Name, p)
	}
	if p.ClientSecret != "" {
		if err := CheckSecretRef(p.ClientSecret); err != nil {
			t.Fatalf("%s: client_secret %q accepted in clear", p.Name, p.ClientSecret)
		}
	} else if p.ClientAuth == "basic" || p.ClientAuth == "post" {
		t.Fatalf("%s: client_auth %s without a secret", p.Name, p.ClientAuth)
	}
	for _, u := range []string{p.Issuer, p.TokenURL, p.AuthURL, p.DeviceAuthURL, p.RevocationURL} {
		if u != "" {
			if err := CheckEndpoint(u); err != nil {
				t.Fatalf("%s: endpoint accepted: %v", p.Name, err)
			}
		}
	}
	if p.PluginName() == "" && ((p.ClientID == "" && p.ClientAuth != AuthNone) || (p.Issuer == "" && p.TokenURL == "")) {
		t.Fatalf("%s: no client_id or token endpoint", p.Name)
	}
	if p.RefreshBefore < 0 {
		t.Fatalf("%s: negative refresh_before", p.Name)
	}
	if k := p.CacheKey(); len(k) != 32 {
		t.Fatalf("%s: cache key %q", p.Name, k)
	}
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
