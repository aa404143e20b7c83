package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/99designs/keyring"
)

func openFile(t *testing.T, dir, pass string) *Store {
	t.Helper()
	s, err := Open(Options{Backend: "file", FileDir: dir, Passphrase: func() (string, error) { return pass, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	for name, s := range map[string]*Store{
		"array":  NewWithKeyring(keyring.NewArrayKeyring(nil), "array"),
		"file":   openFile(t, t.TempDir(), "pw"),
		"sealed": NewSealed(keyring.NewArrayKeyring(nil), "array", t.TempDir()),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Token("p"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("empty store: got %v, want ErrNotFound", err)
			}
			want := &Token{Key: "k", AccessToken: "at", RefreshToken: "rt", Expiry: time.Unix(1700000000, 0).UTC(), Scope: []string{"a"}}
			if err := s.SaveToken("p", want); err != nil {
				t.Fatal(err)
			}
			got, err := s.Token("p")
			if err != nil || got.AccessToken != "at" || got.RefreshToken != "rt" || !got.Expiry.Equal(want.Expiry) {
				t.Fatalf("got %+v, %v", got, err)
			}
			if err := s.SetSecret("p", "client_secret", "sec"); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Secret("p", "client_secret"); v != "sec" || err != nil {
				t.Fatalf("secret: got %q, %v", v, err)
			}
			if err := s.DeleteToken("p"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteToken("p"); err != nil {
				t.Fatalf("deleting twice: %v", err)
			}
			if v, _ := s.Secret("p", "client_secret"); v != "sec" {
				t.Error("deleting the token removed the client secret")
			}
		})
	}
}

func TestFileBackendErrors(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir, "right")
	if err := s.SaveToken("p", &Token{AccessToken: "sentinel-access", RefreshToken: "sentinel-refresh"}); err != nil {
		t.Fatal(err)
	}
	// Nothing secret in clear on disk, and no staging leftovers.
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".lanyard-stage-") {
			t.Errorf("staging directory left behind: %s", e.Name())
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, fileName("token:p")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "sentinel") {
		t.Fatal("token stored in clear")
	}

	_, err = openFile(t, dir, "wrong").Token("p")
	if err == nil || !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), "LANYARD_KEYRING_PASSPHRASE") {
		t.Errorf("wrong passphrase: got %v", err)
	}

	if err := os.WriteFile(filepath.Join(dir, fileName("token:p")), raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.Token("p")
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "run: lanyard logout p") {
		t.Errorf("truncated file: got %v, want a CorruptError naming lanyard logout p", err)
	}
	if err := s.DeleteToken("p"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token("p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after logout: got %v, want ErrNotFound", err)
	}
}

func TestUnknownBackend(t *testing.T) {
	_, err := Open(Options{Backend: "vault"})
	if err == nil || !strings.Contains(err.Error(), "LANYARD_KEYRING_BACKEND") {
		t.Errorf("got %v", err)
	}
}

// A backend this binary lacks (keychain off macOS, or on a macOS build
// without cgo) is named with what the binary has and the way out.
func TestMissingBackend(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("keychain or wincred may be compiled in here")
	}
	for _, b := range []string{"keychain", "wincred"} {
		_, err := Open(Options{Backend: b, Getenv: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error(), "has no "+b+" backend") || !strings.Contains(err.Error(), "file") || !strings.Contains(err.Error(), "LANYARD_KEYRING_BACKEND=file") {
			t.Errorf("%s: got %v", b, err)
		}
	}
}

func TestKeyctlBlockedAdvice(t *testing.T) {
	err := keyctlBlocked(errors.New("operation not permitted"))
	for _, want := range []string{"operation not permitted", "seccomp", "LANYARD_KEYRING_BACKEND=file", "LANYARD_KEYRING_PASSPHRASE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: missing %q", err, want)
		}
	}
}
