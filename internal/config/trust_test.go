package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const trustProfile = "[profiles.a]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\n"

// TestLoadTrust: the profiles file must be absolute, owned by the user
// (or root) and not writable by group or others: its cmd: references run.
func TestLoadTrust(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(trustProfile), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("a 0600 file of mine: %v", err)
	}
	for _, mode := range []os.FileMode{0o620, 0o602, 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), "run: chmod go-w "+path) {
			t.Errorf("mode %04o: got %v, want the chmod to run", mode, err)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("mode 0644 (readable, not writable, by others): %v", err)
	}
	if os.Geteuid() == 0 {
		// CI runs as root: root-owned files are trusted; another user's not.
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") || !strings.Contains(err.Error(), "chown 0 "+path) {
			t.Errorf("another user's file: got %v, want the chown to run", err)
		}
	}
	t.Chdir(dir)
	if _, err := Load("config.toml"); err == nil || !strings.Contains(err.Error(), "relative") {
		t.Errorf("relative path: got %v", err)
	}
}

func TestRefPaths(t *testing.T) {
	for ref, ok := range map[string]bool{
		"file:/etc/lanyard/secret":          true,
		"file:~/.config/lanyard/secret":     true,
		"file:secret.txt":                   false,
		"file:./secret.txt":                 false,
		"cmd:pass show acme/client":         true,
		"cmd:/usr/local/bin/get-secret":     true,
		"cmd:~/bin/get-secret":              true,
		"cmd:./get-secret.sh":               false,
		"cmd:scripts/get-secret.sh":         false,
		"cmd:VAULT_ADDR=https://v ./x":      false,
		"cmd:VAULT_ADDR=https://v vault kv": true,
	} {
		err := CheckSecretRef(ref)
		if (err == nil) != ok {
			t.Errorf("CheckSecretRef(%q) = %v, want ok=%v", ref, err, ok)
		}
		if err := CheckTokenSource(ref); (err == nil) != ok {
			t.Errorf("CheckTokenSource(%q) = %v, want ok=%v", ref, err, ok)
		}
	}
}

// TestResolveTrust: a secret file others can write is refused; cmd: runs
// in the home directory, never the caller's working directory.
func TestResolveTrust(t *testing.T) {
	home := t.TempDir()
	src := SecretSource{Getenv: func(k string) string { return map[string]string{"HOME": home}[k] }}
	secret := filepath.Join(home, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := src.Resolve(t.Context(), "a", "client_secret", "file:~/secret"); err != nil || v != "s3cret" {
		t.Fatalf("got %q, %v", v, err)
	}
	if err := os.Chmod(secret, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Resolve(t.Context(), "a", "client_secret", "file:"+secret); err == nil || !strings.Contains(err.Error(), "chmod go-w") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("group-writable secret file: got %v", err)
	}
	t.Chdir(t.TempDir())
	if v, err := src.Resolve(t.Context(), "a", "client_secret", "cmd:pwd"); err != nil || v != home {
		t.Errorf("cmd: ran in %q (%v), want the home directory %s", v, err, home)
	}
}
