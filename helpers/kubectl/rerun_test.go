package kubectl

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParentMarks(t *testing.T) {
	state := t.TempDir()
	m := newParentMarks(state, "kube", os.Getpid())
	if got := m.read(); got.fp != "" {
		t.Fatalf("got %+v before anything was written, want nothing", got)
	}
	t0 := time.Unix(1700000000, 5)
	if err := m.write(mark{fp: fingerprint("t1"), written: t0}); err != nil {
		t.Fatal(err)
	}
	if got := m.read(); got.fp != fingerprint("t1") || !got.written.Equal(t0) || !got.forced.IsZero() {
		t.Errorf("got %+v, want the fingerprint of t1 written at %v", got, t0)
	}
	if other := newParentMarks(state, "other", os.Getpid()); other.read().fp != "" {
		t.Error("another profile sees this profile's mark")
	}
	if same := newParentMarks(state, "kube", os.Getpid()); same.read().fp != fingerprint("t1") {
		t.Error("the same parent and profile do not see their mark")
	}
	b, err := os.ReadFile(filepath.Join(m.dir, m.name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "t1") {
		t.Errorf("got mark %q, want a fingerprint, not the token", b)
	}
	// A forced refresh recorded by a sibling is kept by a later write.
	forced := t0.Add(time.Minute)
	if err := m.write(mark{fp: "a", written: t0, forced: forced}); err != nil {
		t.Fatal(err)
	}
	if err := m.write(mark{fp: "b", written: t0}); err != nil {
		t.Fatal(err)
	}
	if got := m.read(); got.fp != "b" || !got.forced.Equal(forced) {
		t.Errorf("got %+v, want fp b and forced %v kept", got, forced)
	}
}

func TestIsRerun(t *testing.T) {
	start := time.Unix(1700000000, 0)
	before, after := start.Add(-time.Second), start.Add(time.Millisecond)
	for _, c := range []struct {
		name           string
		mk             mark
		fp             string
		rerun, refresh bool
	}{
		{"no mark", mark{}, "a", false, false},
		{"other token", mark{fp: "b", written: before}, "a", false, false},
		{"client asks again", mark{fp: "a", written: before}, "a", true, true},
		{"sibling running now", mark{fp: "a", written: after}, "a", false, false},
		{"refreshed recently", mark{fp: "a", written: before, forced: start.Add(-10 * time.Second)}, "a", true, false},
		{"refreshed long ago", mark{fp: "a", written: before, forced: start.Add(-rerunRefreshEvery)}, "a", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rerun, refresh := c.mk.isRerun(c.fp, start, start)
			if rerun != c.rerun || refresh != c.refresh {
				t.Errorf("got rerun=%v refresh=%v, want %v %v", rerun, refresh, c.rerun, c.refresh)
			}
		})
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
	if err := newParentMarks(state, "kube", os.Getpid()).write(mark{fp: "fp", written: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for name, kept := range marks {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != kept {
			t.Errorf("%s: got kept=%v, want %v", name, got, kept)
		}
	}
}
