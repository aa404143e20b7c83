package agent

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
)

// An agent whose socket was removed (its HOME or runtime dir deleted)
// exits instead of refreshing ahead for an hour nobody can reach it.
func TestAgentExitsWhenItsSocketIsRemoved(t *testing.T) {
	f := newFixture(t, &Server{Idle: time.Hour}, "p")
	if resp := f.ask(t, getToken("p")); resp.Status != wire.StatusOK {
		t.Fatalf("got %s %s", resp.Status, resp.Message)
	}
	done := make(chan struct{})
	go func() { f.srv.Wait(context.Background()); close(done) }()
	if err := os.Remove(f.sock); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Wait still running a minute after the socket was removed")
	}
}

// More connections than MaxConns are closed at once and counted, and a
// normal client is still served once they go.
func TestConnectionCap(t *testing.T) {
	f := newFixture(t, &Server{MaxConns: 4, ReadTimeout: 30 * time.Second}, "p")
	var idle []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("unix", f.sock)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// Give the server time to take them (it has no way to tell us).
	time.Sleep(200 * time.Millisecond)
	extra, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	_ = extra.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); n != 0 || err == nil || os.IsTimeout(err) {
		t.Fatalf("connection over the cap: got %d bytes, %v; want it closed at once", n, err)
	}
	for _, c := range idle {
		c.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := f.askErr(getToken("p"))
		if err == nil && resp.Status == wire.StatusOK {
			if resp.Agent != nil {
				t.Logf("refused: %d", resp.Agent.Refused)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served after the idle clients left: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := f.ask(t, &wire.Request{Op: wire.OpStatus})
	if st.Agent == nil || st.Agent.Refused < 1 {
		t.Fatalf("status: %+v; want the refused connection counted", st.Agent)
	}
}

// The agent's lock file is never opened through a symlink.
func TestListenRefusesSymlinkedLock(t *testing.T) {
	dir, err := os.MkdirTemp("", "lyl")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	target := filepath.Join(dir, "elsewhere")
	sock := filepath.Join(dir, "agent.sock")
	if err := os.Symlink(target, sock+".lock"); err != nil {
		t.Fatal(err)
	}
	if ln, closeLn, err := Listen(sock); err == nil {
		ln.Close()
		closeLn()
		t.Fatal("Listen followed a symlinked lock file")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("Listen created the symlink's target")
	}
}

// Connections refused for the cap are audited, but a flood of them is not
// written one by one: the first 16, then one a second that counts those
// in between, so the audit queue never fills (which would count as audit
// failures in status).
func TestRefusalFloodAuditedWithinBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log := audit.Open(path)
	f := newFixture(t, &Server{MaxConns: 1, ReadTimeout: 30 * time.Second, Audit: log}, "p")
	hold, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	time.Sleep(200 * time.Millisecond) // the server takes it (it has no way to tell us)
	refuse := func(n int) {
		for i := 0; i < n; i++ {
			c, err := net.Dial("unix", f.sock)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Read(make([]byte, 1)) // closed by the server
			c.Close()
		}
	}
	start := time.Now()
	refuse(200)
	time.Sleep(1100 * time.Millisecond)
	refuse(1)
	took := time.Since(start)
	log.Close()
	var got []audit.Event
	if _, err := audit.Read(path, audit.Filter{}, func(e audit.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	// 16, then at most one per started second.
	if max := 16 + int(took/time.Second) + 1; len(got) < 17 || len(got) > max {
		t.Fatalf("got %d audit events for 201 refusals in %s; want 17 to %d", len(got), took, max)
	}
	for _, e := range got {
		if e.Kind != audit.KindRefusal || !strings.Contains(e.Reason, "too many connections") || e.Via != f.sock {
			t.Fatalf("event %+v: want a refusal for too many connections on %s", e, f.sock)
		}
	}
	if last := got[len(got)-1]; !strings.Contains(last.Reason, "more refusals not recorded one by one") {
		t.Errorf("last event %q: want the count of refusals not recorded", last.Reason)
	}
	if n, why := log.Failures(); n != 0 {
		t.Errorf("audit failures: %d (%s); want none", n, why)
	}
}
