package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	// sha256("token") = 3c469e9d6c5875d37a43f353d4f88e61fcf812c66eee3457465a40b0da4153e0
	if got := Fingerprint("token"); got != "3c469e9d6c58" {
		t.Errorf("got %q, want 3c469e9d6c58", got)
	}
	if Fingerprint("") != "" {
		t.Error("an empty token has a fingerprint")
	}
}

func TestWriteAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "audit.jsonl")
	l := Open(path)
	uid := uint32(7)
	l.Record(Event{Kind: KindHandout, Profile: "a", UID: &uid, Fingerprint: Fingerprint("secret")})
	l.Record(Event{Kind: KindRefusal, Profile: "b", Reason: "why"})
	l.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %o, want 700", di.Mode().Perm())
	}
	var got []Event
	if _, err := Read(path, Filter{Profile: "a"}, func(e Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != KindHandout || *got[0].UID != 7 {
		t.Errorf("got %+v, want the hand-out of a", got)
	}
	got = nil
	_, _ = Read(path, Filter{Since: time.Now().Add(time.Hour)}, func(e Event) error { got = append(got, e); return nil })
	if len(got) != 0 {
		t.Errorf("--since in the future kept %d events", len(got))
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "secret") {
		t.Error("the log holds the token")
	}
}

// A log that cannot be written counts failures and never blocks Record.
func TestUnwritableLogNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l := Open(filepath.Join(blocker, "lanyard", "audit.jsonl")) // a file where a directory should be
	start := time.Now()
	for range 5 * queue {
		l.Record(Event{Kind: KindHandout})
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Record took %s for %d events", d, 5*queue)
	}
	l.Close()
	if n, why := l.Failures(); n == 0 || why == "" {
		t.Errorf("failures %d (%q), want some", n, why)
	}
}

func TestTextIsCleaned(t *testing.T) {
	e := Event{Kind: KindRefusal, Reason: "bad\x1b]0;evil\x07"}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x20 {
				return -1
			}
			return r
		}, s)
	}
	if got := e.Clean(clean).Text(); strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("got %q with escapes", got)
	}
}

// Follow shows events appended after the read, once each, and goes on in
// a new file after rotation.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path)
	l.Record(Event{Kind: KindRefresh, Profile: "old"})
	l.Close()
	offset, err := Read(path, Filter{}, func(Event) error { return nil })
	if err != nil || offset == 0 {
		t.Fatalf("Read: %d, %v", offset, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan string, 10)
	go func() {
		_ = Follow(ctx, path, offset, 10*time.Millisecond, Filter{}, func(e Event) error { got <- e.Profile; return nil })
	}()
	// record writes one event in a new Log and checks Follow shows it next.
	record := func(profile string) {
		t.Helper()
		l := Open(path)
		l.Record(Event{Kind: KindRefresh, Profile: profile})
		l.Close()
		select {
		case p := <-got:
			if p != profile {
				t.Errorf("followed %q, want %q", p, profile)
			}
		case <-ctx.Done():
			t.Fatalf("Follow did not show %q", profile)
		}
	}
	record("new")
	if err := os.Remove(path); err != nil { // rotated away
		t.Fatal(err)
	}
	record("rotated")
}

// Record racing with Close neither panics (send on a closed channel) nor
// blocks: a hand-out may come in while the agent exits.
func TestRecordDuringClose(t *testing.T) {
	for i := 0; i < 50; i++ {
		l := Open(filepath.Join(t.TempDir(), "audit.jsonl"))
		done := make(chan struct{})
		go func() {
			defer close(done)
			for j := 0; j < 200; j++ {
				l.Record(Event{Kind: KindRefusal, Reason: "race"})
			}
		}()
		l.Close()
		<-done
	}
}
