package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSeeds(t *testing.T) {
	f, err := Load(seedsPath(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                       string
		clientAuth, dialect, param string
		sep                        string
		refreshBefore              time.Duration
	}{
		{"whenfresh-dev", "none", "form", "scope", " ", 60 * time.Second},
		{"whenfresh-machine", "basic", "form", "scope", " ", 60 * time.Second},
		{"shopware", "none", "json", "scopes", " ", 60 * time.Second},
		{"whiplash", "post", "form", "scope", " ", 60 * time.Second},
		{"whisk", "post", "multipart", "scope", ",", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.Profile(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if p.ClientAuth != tt.clientAuth || p.TokenRequest != tt.dialect || p.ScopeParam != tt.param || p.ScopeSeparator != tt.sep || p.RefreshBefore != tt.refreshBefore {
				t.Errorf("got auth=%s dialect=%s param=%s sep=%q rb=%s, want %s %s %s %q %s", p.ClientAuth, p.TokenRequest, p.ScopeParam, p.ScopeSeparator, p.RefreshBefore, tt.clientAuth, tt.dialect, tt.param, tt.sep, tt.refreshBefore)
			}
			if p.Line == 0 {
				t.Error("profile line not found")
			}
		})
	}
	if got := f.Profiles["whisk"].GitAuth; got != GitAuthAuto {
		t.Errorf("git_auth default: got %q, want %q", got, GitAuthAuto)
	}
	if got := f.Profiles["whisk"].AuthParams["identity_provider"]; got != "google" {
		t.Errorf("auth_params: got %q, want google", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		wantLine   int
		want       []string // substrings of the error
	}{
		{"unknown key", "[profiles.a]\ngrant = \"client_credentials\"\nscope = [\"x\"]\n", 3, []string{"profiles.a.scope", "unknown key"}},
		{"missing grant", "[profiles.a]\ntoken_url = \"https://x/token\"\n", 1, []string{"profiles.a.grant", "missing"}},
		{"bad grant", "[profiles.a]\ngrant = \"magic\"\n", 2, []string{"\"magic\" is not a grant"}},
		{"missing endpoint", "[profiles.a]\ngrant = \"client_credentials\"\nclient_id = \"x\"\nclient_secret = \"keyring\"\n", 1, []string{"set issuer", "token_url"}},
		{"plain http", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"http://auth.example.com/token\"\n", 3, []string{"plain http to a non-loopback host", "https://auth.example.com/token"}},
		{"relative url", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"/token\"\n", 3, []string{"not an absolute URL"}},
		{"secret in clear", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"hunter2\"\n", 5, []string{"must be a reference", "lanyard secret set"}},
		{"bad enum", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\ntoken_request = \"xml\"\n", 6, []string{"use form, json or multipart"}},
		{"bad git_auth", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\ngit_auth = \"Bearer\"\n", 6, []string{"profiles.a.git_auth", `"Bearer" is not valid; use auto`}},
		{"bad cargo_auth", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\ncargo_auth = \"token\"\n", 6, []string{"profiles.a.cargo_auth", `"token" is not valid; use bearer`}},
		{"bad duration", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\nrefresh_before = \"soon\"\n", 6, []string{"not a duration"}},
		{"syntax", "[profiles.a]\ngrant = \n", 2, []string{"fix the TOML syntax"}},
		{"wrong type", "[profiles.a]\ngrant = \"client_credentials\"\nscopes = \"read\"\n", 3, []string{"scopes"}},
		{"password without username", "[profiles.a]\ngrant = \"password\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\n", 1, []string{"profiles.a.username"}},
		{"match not a url", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\nmatch = [\"github.com\"]\n", 6, []string{"not a URL prefix"}},
		{"match plain http", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\nmatch = [\"http://git.example.com/\"]\n", 6, []string{"plain http to a non-loopback host", "https://git.example.com/"}},
		{"match dot segments", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\nmatch = [\"https://git.example.com/acme/../\"]\n", 6, []string{". or .. path segments"}},
		{"top level", "[profile.a]\ngrant = \"x\"\n", 0, []string{"profile"}},
		// Profile names reach shells (completion), file names and keyring items.
		{"name with a command", "[profiles.ok]\ngrant = \"x\"\n\n[profiles.\"$(touch pwned)\"]\ngrant = \"client_credentials\"\n", 4, []string{"profile name", "letters, digits", "rename"}},
		{"name with a space", "[profiles.\"my api\"]\ngrant = \"client_credentials\"\n", 1, []string{"profile name \"my api\""}},
		{"name with a newline", "[profiles.\"a\\nb\"]\ngrant = \"client_credentials\"\n", 0, []string{`profile name "a\nb"`}},
		{"name starting with a dash", "[profiles.-x]\ngrant = \"client_credentials\"\n", 1, []string{"profile name \"-x\""}},
		// Client authentication without stored secrets.
		{"cert without key", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_auth = \"tls_client_auth\"\ntls_cert = \"file:/c.pem\"\n", 1, []string{"profiles.a.tls_key", "certificate without its key"}},
		{"tls without cert", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_auth = \"self_signed_tls_client_auth\"\n", 1, []string{"profiles.a.tls_cert", "missing"}},
		{"private_key_jwt without key", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_auth = \"private_key_jwt\"\n", 1, []string{"profiles.a.private_key", "missing"}},
		{"private key in clear", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_auth = \"private_key_jwt\"\nprivate_key = \"-----BEGIN PRIVATE KEY-----\"\n", 6, []string{"must be a reference"}},
		{"bad signing_alg", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_auth = \"private_key_jwt\"\nprivate_key = \"file:/k.pem\"\nsigning_alg = \"HS256\"\n", 7, []string{"\"HS256\" is not valid", "ES256"}},
		{"signing_alg without private_key_jwt", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\nsigning_alg = \"RS256\"\n", 6, []string{"only used with client_auth = \"private_key_jwt\""}},
		{"assertion audience issuer without issuer", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_auth = \"private_key_jwt\"\nprivate_key = \"file:/k.pem\"\nassertion_audience = \"issuer\"\n", 7, []string{"needs issuer"}},
		{"bad token source", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_assertion = \"keyring\"\n", 5, []string{"not a token source", "github-actions:AUDIENCE"}},
		{"assertion and secret", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\nclient_assertion = \"env:T\"\n", 6, []string{"remove client_secret"}},
		{"assertion and client_auth", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_auth = \"basic\"\nclient_assertion = \"env:T\"\n", 5, []string{"conflicts with client_assertion"}},
		{"jwt_bearer without assertion", "[profiles.a]\ngrant = \"jwt_bearer\"\ntoken_url = \"https://x/t\"\n", 1, []string{"profiles.a.assertion", "missing"}},
		{"token_exchange without subject", "[profiles.a]\ngrant = \"token_exchange\"\ntoken_url = \"https://x/t\"\n", 1, []string{"profiles.a.subject_token", "missing"}},
		{"subject_token on another grant", "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_assertion = \"env:T\"\nsubject_token = \"env:S\"\n", 6, []string{"only used with grant = \"token_exchange\""}},
		{"token type not a uri", "[profiles.a]\ngrant = \"token_exchange\"\ntoken_url = \"https://x/t\"\nsubject_token = \"env:S\"\nsubject_token_type = \"jwt\"\n", 5, []string{"not a token type URI"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("lanyard.toml", []byte(tt.toml))
			if err == nil {
				t.Fatal("got no error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if tt.wantLine > 0 && !strings.Contains(msg, fmt.Sprintf("lanyard.toml:%d:", tt.wantLine)) {
				t.Errorf("error %q does not name line %d", msg, tt.wantLine)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "LANYARD_CONFIG") {
		t.Fatalf("got %v, want a does-not-exist error naming LANYARD_CONFIG", err)
	}
}

func TestUnknownProfile(t *testing.T) {
	f, err := Load(seedsPath(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Profile("whisky")
	if err == nil || !strings.Contains(err.Error(), "known profiles: shopware, whenfresh-dev") {
		t.Fatalf("got %v, want the known profiles listed", err)
	}
}

func TestCacheKeyChangesWithMeaning(t *testing.T) {
	base := Profile{Name: "a", TokenURL: "https://x/t", Grant: "client_credentials", ClientID: "c", Scopes: []string{"read"}}
	k := base.CacheKey()
	for name, mut := range map[string]func(p *Profile){
		"scopes":        func(p *Profile) { p.Scopes = []string{"read", "write"} },
		"client_id":     func(p *Profile) { p.ClientID = "d" },
		"token_url":     func(p *Profile) { p.TokenURL = "https://y/t" },
		"audience":      func(p *Profile) { p.Audience = "api" },
		"token_params":  func(p *Profile) { p.TokenParams = map[string]string{"resource": "r"} },
		"username":      func(p *Profile) { p.Username = "u" },
		"subject_token": func(p *Profile) { p.SubjectToken = "env:T" },
		"resource":      func(p *Profile) { p.Resource = []string{"https://api"} },
	} {
		p := base
		mut(&p)
		if p.CacheKey() == k {
			t.Errorf("changing %s kept the cache key", name)
		}
	}
	same := base
	same.Match = []string{"https://api/"}
	same.RefreshBefore = time.Hour
	if same.CacheKey() != k {
		t.Error("match/refresh_before changed the cache key; they do not change what a token means")
	}
}

func TestEffectiveRefreshBefore(t *testing.T) {
	p := Profile{RefreshBefore: 60 * time.Second}
	if got := p.EffectiveRefreshBefore(30 * time.Second); got != 3*time.Second {
		t.Errorf("30s token: got %s, want 3s", got)
	}
	if got := p.EffectiveRefreshBefore(time.Hour); got != 60*time.Second {
		t.Errorf("1h token: got %s, want 60s", got)
	}
}

func TestSecretRefs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := SecretSource{
		Keyring: func(profile, key string) (string, error) { return "from-keyring:" + profile + ":" + key, nil },
		Getenv: func(k string) string {
			if k == "HOME" {
				return dir
			}
			if k == "S" {
				return "from-env"
			}
			return ""
		},
	}
	tests := []struct{ ref, want string }{
		{"keyring", "from-keyring:p:client_secret"},
		{"env:S", "from-env"},
		{"file:" + filepath.Join(dir, "s"), "from-file"},
		{"file:~/s", "from-file"},
		{"cmd:printf 'from-cmd\\n'", "from-cmd"},
	}
	for _, tt := range tests {
		got, err := src.Resolve(t.Context(), "p", "client_secret", tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
	for _, bad := range []string{"env:MISSING", "file:/nonexistent", "cmd:exit 3", "cmd:true"} {
		_, err := src.Resolve(t.Context(), "p", "client_secret", bad)
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Resolve(%q): got %v, want an error naming the reference", bad, err)
		}
	}
}

func TestLoadMissingFileIsNotExist(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func seedsPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "seeds.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
