package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestChildEnv(t *testing.T) {
	in := []string{"PATH=/bin", "HOME=/h", "LANG=C.UTF-8", "https_proxy=http://p:3128", "NO_PROXY=localhost",
		"LANYARD_KEYRING_PASSPHRASE=pp", "OTHER_SECRET=x", "DISPLAY=:0", "WEIRD"}
	got := ChildEnv(in, "OTHER_SECRET")
	want := []string{"PATH=/bin", "HOME=/h", "LANG=C.UTF-8", "https_proxy=http://p:3128", "NO_PROXY=localhost", "DISPLAY=:0", "WEIRD"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHiddenEnv(t *testing.T) {
	f, err := Parse("h.toml", []byte(`
[profiles.a]
grant = "client_credentials"
token_url = "https://x/t"
client_id = "c"
client_secret = "env:A_SECRET"

[profiles.b]
grant = "client_credentials"
token_url = "https://x/t"
client_id = "c"
client_secret = "env:B_SECRET"

[profiles.shared]
grant = "plugin:x"
[profiles.shared.plugin]
key = "env:A_SECRET"
other = "env:P_SECRET"
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"a":      {"B_SECRET", "P_SECRET"},
		"b":      {"A_SECRET", "P_SECRET"},
		"shared": {"B_SECRET"},
	} {
		got := slices.Sorted(slices.Values(f.Profiles[name].HiddenEnv()))
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

// TestCmdSecretEnvironment: a cmd: command runs with neither the keyring
// passphrase nor another profile's env: secret, and with PATH and HOME.
func TestCmdSecretEnvironment(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "env")
	src := SecretSource{
		Getenv: func(string) string { return "" },
		Environ: func() []string {
			return []string{"PATH=/usr/bin:/bin", "HOME=/h", "LANYARD_KEYRING_PASSPHRASE=pp", "B_SECRET=x"}
		},
		Hide: []string{"B_SECRET"},
	}
	v, err := src.Resolve(t.Context(), "a", "client_secret", "cmd:env > "+dump+"; echo ok")
	if err != nil || v != "ok" {
		t.Fatalf("got %q, %v", v, err)
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	env := string(b)
	for _, bad := range []string{"LANYARD_KEYRING_PASSPHRASE", "B_SECRET"} {
		if strings.Contains(env, bad) {
			t.Errorf("cmd: child sees %s:\n%s", bad, env)
		}
	}
	for _, good := range []string{"PATH=/usr/bin:/bin", "HOME=/h"} {
		if !strings.Contains(env, good) {
			t.Errorf("cmd: child lacks %s:\n%s", good, env)
		}
	}
}
