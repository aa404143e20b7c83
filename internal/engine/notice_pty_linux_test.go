package engine

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// TestLockWaitNoticeOnTerminal: a process waiting more than a second for
// another one's profile lock says so on its terminal, and still gets the
// lock once the other lets go.
func TestLockWaitNoticeOnTerminal(t *testing.T) {
	master, slave := openPTY(t)
	dir := t.TempDir()
	unlock, err := newEngine(t, dir).lock(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, dir)
	e.UI = slave
	done := make(chan error, 1)
	go func() {
		u, err := e.lock(t.Context(), "p")
		if err == nil {
			u()
		}
		done <- err
	}()
	if err := master.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Skipf("no read deadline on the pty: %v", err)
	}
	line, err := bufio.NewReader(master).ReadString('\n')
	if err != nil {
		t.Fatalf("no notice on the terminal: %v", err)
	}
	if want := "lanyard: waiting for another lanyard process, which holds p's lock"; !strings.HasPrefix(line, want) {
		t.Errorf("notice %q, want it to start with %q", line, want)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestNoNoticeOffTerminal: helpers' stderr is read by tools; no notice there.
func TestNoNoticeOffTerminal(t *testing.T) {
	var b strings.Builder
	e := newEngine(t, t.TempDir())
	e.UI = &b
	e.notice("nothing")()
	if b.Len() != 0 {
		t.Errorf("notice written off a terminal: %q", b.String())
	}
}
