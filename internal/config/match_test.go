package config

import (
	"errors"
	"strings"
	"testing"
)

const matchProfiles = `
[profiles.host]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://git.example.com/"]

[profiles.acme]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://git.example.com/acme", "https://other.example.com/acme/tools/"]

[profiles.acme-app]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://git.example.com/acme/app"]

[profiles.deep-only-a]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://paths.example.com/a/x"]

[profiles.deep-only-b]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://paths.example.com/b"]

[profiles.port]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["http://127.0.0.1:8081", "https://registry.example.com:8443"]

[profiles.port2]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["http://127.0.0.1:8082/"]

[profiles.registry]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://Registry.Example.com:443"]

[profiles.v6]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://[::1]:9000/"]
`

func TestMatch(t *testing.T) {
	f, err := Parse("match.toml", []byte(matchProfiles))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url, want string // want "" = no profile
	}{
		// host only (git without useHttpPath): the host-wide profile wins
		{"https://git.example.com", "host"},
		{"https://git.example.com/", "host"},
		{"https://GIT.example.com:443", "host"},
		// path-aware: most segments win
		{"https://git.example.com/acme/app.git", "acme-app"},
		{"https://git.example.com/acme/app", "acme-app"},
		{"https://git.example.com/acme/app/sub", "acme-app"},
		{"https://git.example.com/acme/lib.git", "acme"},
		{"https://git.example.com/acme", "acme"},
		{"https://git.example.com/acme.git", "acme"},
		{"https://git.example.com/acmeinc/app.git", "host"},
		{"https://git.example.com/ACME/app.git", "host"},
		{"https://git.example.com//acme//app.git", "acme-app"},
		{"https://user:pw@git.example.com/acme/app.git?x=1#f", "acme-app"},
		// no host-wide profile: host-only URLs take the shallowest prefix
		{"https://paths.example.com", "deep-only-b"},
		{"https://paths.example.com/a/x/y.git", "deep-only-a"},
		{"https://paths.example.com/a/y.git", ""},
		{"https://paths.example.com/b/y.git", "deep-only-b"},
		// trailing slash in the prefix is a segment boundary, nothing more
		{"https://other.example.com/acme/tools/x.git", "acme"},
		{"https://other.example.com/acme/toolsx/x.git", ""},
		{"https://other.example.com", "acme"},
		// ports and schemes
		{"http://127.0.0.1:8081/repo.git", "port"},
		{"http://127.0.0.1:8082/repo.git", "port2"},
		{"http://127.0.0.1/repo.git", ""},
		{"https://127.0.0.1:8081/repo.git", ""},
		{"https://registry.example.com:8443", "port"},
		{"https://registry.example.com", "registry"},
		{"registry.example.com", "registry"},
		{"registry.example.com:8443", "port"},
		{"https://[::1]:9000/x", "v6"},
		{"http://git.example.com", ""},
		// dot segments, as git decodes %2e%2e: never a match
		{"https://git.example.com/acme/../evil/x.git", ""},
		{"https://git.example.com/acme/%2e%2e/evil/x.git", ""},
		{"https://git.example.com/acme/%252E%252e/evil/x.git", ""},
		{"https://git.example.com/acme/./app.git", ""},
		{"https://git.example.com/acme/..%2fevil/x.git", ""},
		{`https://git.example.com/acme\..\evil/x.git`, ""},
		{"registry.example.com/../x", ""},
		{"https://git.example.com/acme/..x/app.git", "acme"},
		// Tomcat/Jetty-style path parameters: "..;" is ".." there
		{"https://git.example.com/acme/..;/evil/x.git", ""},
		{"https://git.example.com/acme/%2e%2e%3b/evil/x.git", ""},
		{"https://git.example.com/acme/%2E%2E%3Bx/evil/x.git", ""},
		{"https://git.example.com/acme/..;jsessionid=1/evil/x.git", ""},
		{"https://git.example.com/acme/.;/app.git", ""},
		{"https://git.example.com/acme/%252e%252e%253b/evil/x.git", ""},
		{"https://git.example.com/acme/..x;y/app.git", "acme"},
		// garbage
		{"", ""},
		{"https://", ""},
		{"://nohost", ""},
		{"https://unknown.example.com/acme", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got := ""
			if p := f.Match(tt.url); p != nil {
				got = p.Name
			}
			if got != tt.want {
				t.Errorf("Match(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestMatchesOneProfile(t *testing.T) {
	f, err := Parse("match.toml", []byte(matchProfiles))
	if err != nil {
		t.Fatal(err)
	}
	acme := f.Profiles["acme"]
	for url, want := range map[string]bool{
		"https://git.example.com/acme/app.git": true, // acme-app is more specific, but acme still serves it
		"https://git.example.com":              true,
		"https://git.example.com/other.git":    false,
		"https://example.com":                  false,
		"not a url at all":                     false,
	} {
		if got := acme.Matches(url); got != want {
			t.Errorf("acme.Matches(%q) = %v, want %v", url, got, want)
		}
	}
}

func TestMatchTieGoesToFirstName(t *testing.T) {
	const twice = `
[profiles.b]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://git.example.com/"]

[profiles.a]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
match = ["https://git.example.com"]
`
	f, err := Parse("tie.toml", []byte(twice))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if p := f.Match("https://git.example.com/x.git"); p == nil || p.Name != "a" {
			t.Fatalf("got %v, want a", p)
		}
	}
}

// TestServes: what a tool that names the profile itself (a pinned git
// helper, lanyard token --url) is told.
func TestServes(t *testing.T) {
	f, err := Parse("match.toml", []byte(matchProfiles+`
[profiles.nomatch]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:S"
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		profile, url string
		want         error // nil: served
		msg          string
	}{
		{"acme", "https://git.example.com/acme/app.git", nil, ""},
		{"acme", "https://git.example.com", nil, ""},
		{"acme", "https://attacker.example/acme/x.git", ErrNotMatched, "match.toml:"},
		{"acme", "http://git.example.com/acme/x.git", ErrNotMatched, ""},
		{"acme", "https://git.example.com/acme/../evil/x.git", ErrDotSegments, "use the URL without them"},
		{"acme", "https://user:pw@git.example.com/acme/%2e%2e/evil?token=secret", ErrDotSegments, ""},
		{"acme", "https://git.example.com/acme/..;/evil/x.git", ErrDotSegments, ""},
		{"acme", "https://git.example.com/acme/..;jsessionid=1/evil/x.git", ErrDotSegments, ""},
		{"nomatch", "https://attacker.example/x", ErrNoMatchList, "set match (the URL prefixes it serves) in [profiles.nomatch] at match.toml:"},
		{"nomatch", "http://127.0.0.1:8080/x", ErrNoMatchList, "set match (the URL prefixes it serves) in [profiles.nomatch] at match.toml:"},
	}
	for _, tt := range tests {
		t.Run(tt.profile+" "+tt.url, func(t *testing.T) {
			err := f.Profiles[tt.profile].Serves(tt.url)
			if !errors.Is(err, tt.want) || (tt.want != nil) != (err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q shows userinfo or query", err)
			}
			// A refusal names the file and key; it never proposes the
			// refused host (a remote an attacker chose) as a match entry.
			if strings.Contains(err.Error(), "match = [") || strings.Contains(err.Error(), "add a prefix") {
				t.Errorf("error %q proposes adding the refused URL to match", err)
			}
		})
	}
}
