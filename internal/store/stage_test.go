package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStaleStagesRemoved: a staging directory left by a process killed
// mid-save is removed by a later save once it is old; a young one (another
// process saving right now) is left alone.
func TestStaleStagesRemoved(t *testing.T) {
	parent := t.TempDir()
	s := openFile(t, filepath.Join(parent, "keyring"), "pw")
	stale := filepath.Join(parent, ".lanyard-stage-111")
	young := filepath.Join(parent, ".lanyard-stage-222")
	for _, d := range []string{stale, young} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "token:p"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken("p", &Token{AccessToken: "at"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale staging directory still there: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a young staging directory was removed: %v", err)
	}
}
