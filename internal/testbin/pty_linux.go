package testbin

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a pseudo-terminal pair: the test types on master, the code
// under test reads and writes its "terminal" on the slave. It skips the
// test where the system has no pseudo-terminals.
func OpenPTY(tb testing.TB) (master, slave *os.File) {
	tb.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		tb.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		tb.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		tb.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		tb.Skipf("open pts: %v", err)
	}
	tb.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// Terminal is the test's side of a pseudo-terminal a child process runs on.
type Terminal struct {
	master *os.File
	r      *bufio.Reader
	seen   strings.Builder
}

// NewTerminal reads what a child writes to the slave of master.
func NewTerminal(master *os.File) *Terminal {
	return &Terminal{master: master, r: bufio.NewReader(master)}
}

// Expect reads until the terminal has shown want (since the last Expect)
// and returns what it showed; a minute without it fails the test.
func (t *Terminal) Expect(tb testing.TB, want string) string {
	tb.Helper()
	_ = t.master.SetReadDeadline(time.Now().Add(time.Minute))
	for !strings.Contains(t.seen.String(), want) {
		b, err := t.r.ReadByte()
		if err != nil {
			tb.Fatalf("the terminal never showed %q; it showed %q: %v", want, t.seen.String(), err)
		}
		t.seen.WriteByte(b)
	}
	s := t.seen.String()
	t.seen.Reset()
	return s
}

// Type sends a line, as a person typing it and pressing Enter.
func (t *Terminal) Type(tb testing.TB, line string) {
	tb.Helper()
	if _, err := fmt.Fprintf(t.master, "%s\r", line); err != nil {
		tb.Fatal(err)
	}
}
