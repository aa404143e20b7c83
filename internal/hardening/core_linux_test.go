package hardening

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNoCoreDumps runs NoCoreDumps in a child process (it changes the
// process for good) and reads the result back from /proc.
func TestNoCoreDumps(t *testing.T) {
	if os.Getenv("LANYARD_HARDENING_CHILD") == "1" {
		if err := NoCoreDumps(); err != nil {
			t.Fatal(err)
		}
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 {
			t.Fatalf("RLIMIT_CORE %+v, %v; want soft 0", lim, err)
		}
		if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
			t.Fatalf("dumpable %d, %v; want 0", d, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoCoreDumps$", "-test.v")
	cmd.Env = append(os.Environ(), "LANYARD_HARDENING_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
