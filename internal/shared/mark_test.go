package shared

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMarks: the high-water mark refuses older versions and other content
// at the same version, survives a new process (the file), and keeps no
// secret (a version and a digest of the sealed bytes).
func TestMarks(t *testing.T) {
	dir := t.TempDir()
	m := newMarks(dir, "[shared.team]", "127.0.0.1:6379", "lanyard:")
	if err := m.check("p", 3, []byte("sealed-3")); err != nil {
		t.Fatal(err)
	}
	var te *TamperError
	if err := m.check("p", 2, []byte("sealed-2")); !errors.As(err, &te) || !strings.Contains(err.Error(), "older than version 3") {
		t.Fatalf("older version: got %v", err)
	}
	if err := m.check("p", 3, []byte("other")); !errors.As(err, &te) || !strings.Contains(err.Error(), "version 3 with other content") {
		t.Fatalf("same version, other content: got %v", err)
	}
	if err := m.check("q", 1, []byte("x")); err != nil {
		t.Fatalf("another profile: %v", err)
	}
	// A new process reads the file.
	m2 := newMarks(dir, "[shared.team]", "127.0.0.1:6379", "lanyard:")
	if err := m2.check("p", 2, []byte("sealed-2")); !errors.As(err, &te) {
		t.Fatalf("after a restart: got %v, want a TamperError", err)
	}
	if err := m2.check("p", 4, []byte("sealed-4")); err != nil {
		t.Fatal(err)
	}
	// Another table keeps its own marks.
	if err := newMarks(dir, "[shared.other]", "127.0.0.1:6379", "lanyard:").check("p", 1, []byte("x")); err != nil {
		t.Fatalf("another table: %v", err)
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if d != nil && !d.IsDir() {
			data, _ := os.ReadFile(path)
			if strings.Contains(string(data), "sealed") {
				t.Errorf("%s holds record bytes: %q", path, data)
			}
			if fi, _ := d.Info(); fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s has mode %v", path, fi.Mode())
			}
		}
		return nil
	})
}

// TestKeyTag: the cache key stored in Redis is an HMAC under the team key.
func TestKeyTag(t *testing.T) {
	k1, k2 := make([]byte, 32), make([]byte, 32)
	k2[0] = 1
	s1, _ := newSealer(k1)
	s2, _ := newSealer(k2)
	const ck = "0123456789abcdef0123456789abcdef"
	a := s1.keyTag(ck)
	if a == ck || len(a) != 32 || a != s1.keyTag(ck) || a == s2.keyTag(ck) || a == s1.keyTag(ck[:31]+"0") {
		t.Fatalf("keyTag(%q) = %q (other key: %q)", ck, a, s2.keyTag(ck))
	}
}
