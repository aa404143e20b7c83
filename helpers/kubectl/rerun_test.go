package kubectl

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func TestParentMarks(t *testing.T) {
	state := t.TempDir()
	m := newParentMarks(state, "kube", os.Getpid())
	if got := m.last(); got != "" {
		t.Fatalf("got %q before anything was remembered, want nothing", got)
	}
	if err := m.remember(fingerprint("t1")); err != nil {
		t.Fatal(err)
	}
	if got := m.last(); got != fingerprint("t1") {
		t.Errorf("got %q, want the fingerprint of t1", got)
	}
	if other := newParentMarks(state, "other", os.Getpid()); other.last() != "" {
		t.Error("another profile sees this profile's mark")
	}
	if same := newParentMarks(state, "kube", os.Getpid()); same.last() != fingerprint("t1") {
		t.Error("the same parent and profile do not see their mark")
	}
	b, err := os.ReadFile(filepath.Join(m.dir, m.name))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) == "t1\n" || len(b) != 25 {
		t.Errorf("got mark %q, want a 24-digit fingerprint, not the token", b)
	}
}

func TestParentMarksPrune(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("liveness comes from /proc")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	state := t.TempDir()
	dir := filepath.Join(state, "kubectl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	start, known := processStart(os.Getpid())
	if !known || start == "" {
		t.Fatalf("no start time for this process: %q %v", start, known)
	}
	marks := map[string]bool{ // name: kept
		fmt.Sprintf("aaaaaaaaaaaa.%d.%s", dead, "12345"):      false, // exited
		fmt.Sprintf("aaaaaaaaaaaa.%d.%s", os.Getpid(), "1"):   false, // pid reused
		fmt.Sprintf("bbbbbbbbbbbb.%d.%s", os.Getpid(), start): true,  // alive
		"not-a-mark": true,
	}
	for name := range marks {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := newParentMarks(state, "kube", os.Getpid()).remember("fp"); err != nil {
		t.Fatal(err)
	}
	for name, kept := range marks {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != kept {
			t.Errorf("%s: got kept=%v, want %v", name, got, kept)
		}
	}
}
