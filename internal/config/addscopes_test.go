package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/config"
)

const scopesBase = `# team profiles
[profiles.a]
issuer = "https://idp.example.com"
grant = "authorization_code"
client_id = "a"
%s

[profiles.a.auth_params]
prompt = "consent"

[profiles.b]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "b"
client_secret = "env:S"
scopes = ["b1"]
`

func TestAddScopes(t *testing.T) {
	tests := []struct {
		name, scopesLine, want, wantErr string
		add                             []string
		wantAdded                       string
	}{
		{"replaces the line, keeps its comment", `  scopes = ["read"]   # what we need`, `  scopes = ["read", "write"]   # what we need`, "", []string{"read", "write"}, "write"},
		{"inserts after the header", ``, "[profiles.a]\nscopes = [\"write\"]\n", "", []string{"write"}, "write"},
		{"already there", `scopes = ["read", "write"]`, `scopes = ["read", "write"]`, "", []string{"write"}, ""},
		{"list over lines", "scopes = [\n  \"read\",\n]", "", "config.toml:6: profiles.a.scopes: its scopes list spans several lines, so lanyard did not change it; add [\"write\"] to the profile's scopes there", []string{"write"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.toml")
			before := strings.Replace(scopesBase, "%s", tt.scopesLine, 1)
			if err := os.WriteFile(path, []byte(before), 0o640); err != nil {
				t.Fatal(err)
			}
			added, err := config.AddScopes(path, "a", tt.add)
			after, _ := os.ReadFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error ending %q", err, tt.wantErr)
				}
				if string(after) != before {
					t.Errorf("a refused edit changed the file:\n%s", after)
				}
				return
			}
			if err != nil || strings.Join(added, " ") != tt.wantAdded {
				t.Fatalf("got %v, %v; want added %q", added, err, tt.wantAdded)
			}
			if !strings.Contains(string(after), tt.want) {
				t.Errorf("the file lacks %q:\n%s", tt.want, after)
			}
			// Every other line is as it was.
			if rest := strings.Replace(string(after), tt.want, "", 1); rest != strings.Replace(before, tt.scopesLine, "", 1) && tt.scopesLine != "" {
				t.Errorf("other lines changed:\n%s", after)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Profiles["b"].Scopes; strings.Join(got, " ") != "b1" {
				t.Errorf("profile b changed: %v", got)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want 0640 kept", fi.Mode().Perm())
			}
		})
	}
}

func TestAddScopesRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	before := "[profiles]\na = { grant = \"client_credentials\", token_url = \"https://idp.example.com/token\", client_id = \"a\", client_secret = \"env:S\", scopes = [\"x\"] }\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.AddScopes(path, "a", []string{"y"}); err == nil || !strings.Contains(err.Error(), "add [\"y\"] to the profile's scopes there") {
		t.Errorf("inline table: got %v", err)
	}
	if _, err := config.AddScopes(path, "nope", []string{"y"}); err == nil || !strings.Contains(err.Error(), `profile "nope" not found`) {
		t.Errorf("unknown profile: got %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != before {
		t.Errorf("the file changed:\n%s", after)
	}
}

// TestAddScopesSymlink: the link stays a link; its target is edited.
func TestAddScopesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.toml")
	link := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(target, []byte(strings.Replace(scopesBase, "%s", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := config.AddScopes(link, "a", []string{"w"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if data, _ := os.ReadFile(target); !strings.Contains(string(data), `scopes = ["w"]`) {
		t.Errorf("target not edited:\n%s", data)
	}
}
