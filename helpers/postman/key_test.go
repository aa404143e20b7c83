package postman

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewKey(t *testing.T) {
	a, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewKey()
	if a == b {
		t.Error("two keys are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 || len(a) != 43 {
		t.Errorf("key %q: got %d bytes (%v), want 32 bytes base64url in 43 characters", a, len(raw), err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "lanyard", "serve.key")

	k1, created, err := LoadOrCreateKey(path, false)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v, want a new key", created, err)
	}
	assertMode(t, path, 0o600)
	assertMode(t, filepath.Dir(path), 0o700)
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != k1 {
		t.Errorf("key file holds %q, want %q", b, k1)
	}

	k2, created, err := LoadOrCreateKey(path, false)
	if err != nil || created || k2 != k1 {
		t.Errorf("second start: got %q created=%v err=%v, want the same key again", k2, created, err)
	}

	k3, created, err := LoadOrCreateKey(path, true)
	if err != nil || !created || k3 == k1 {
		t.Errorf("--new-key: got %q created=%v err=%v, want a new key", k3, created, err)
	}
	assertMode(t, path, 0o600)

	// A file others can read is refused, and --new-key replaces it with a
	// 0600 one (a new file: writing into the old one would keep its mode).
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(path, false); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("0644 key file: got %v, want an error naming chmod 600", err)
	}
	if _, _, err := LoadOrCreateKey(path, true); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)

	// Garbage in the file is replaced by a new key.
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k4, created, err := LoadOrCreateKey(path, false)
	if err != nil || !created || !validKey(k4) {
		t.Errorf("garbage key file: got %q created=%v err=%v, want a new key", k4, created, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only serve.key (temp files left behind?)", len(entries))
	}

	// A key file another user owns is refused, as ssh refuses such keys
	// (CI runs as root, where the test can make one).
	if os.Geteuid() == 0 {
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadOrCreateKey(path, false); err == nil || !strings.Contains(err.Error(), "chown 0 "+path) {
			t.Errorf("another user's key file: got %v, want an error naming the chown", err)
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: got mode %04o, want %04o", path, got, want)
	}
}
