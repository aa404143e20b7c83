package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	lenv "github.com/lanyardhq/lanyard/internal/env"

	"github.com/lanyardhq/lanyard/internal/store"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// killServer rotates refresh tokens on every use and, like Whiplash, treats
// a rotated-away token as theft (invalid_grant, the family is revoked). It
// holds each refresh a little before rotating, so that kills land while the
// request is in flight too, and it finishes a refresh even when the client
// has died meanwhile, as real servers do.
type killServer struct {
	*httptest.Server
	delay time.Duration

	mu      sync.Mutex
	current string          // the one valid refresh token
	used    map[string]bool // rotated away
	access  map[string]bool // access tokens issued
	n       int
	reuse   int
	// orphaned counts rotations done for a client that had already died:
	// no client can save a response it never received.
	orphaned int
	conns    map[net.Conn]http.ConnState
}

func newKillServer(t *testing.T, delay time.Duration) *killServer {
	s := &killServer{delay: delay, used: map[string]bool{}, access: map[string]bool{}, conns: map[net.Conn]http.ConnState{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if st == http.StateClosed || st == http.StateHijacked {
			delete(s.conns, c)
			return
		}
		s.conns[c] = st
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// quiesce waits until no request is being read or served: a killed
// client's request may still be in the server's hands, and it must have
// rotated (or not) before the store is judged.
func (s *killServer) quiesce(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		busy := 0
		for _, st := range s.conns {
			if st != http.StateIdle {
				busy++
			}
		}
		s.mu.Unlock()
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still busy after a kill", busy)
		}
		time.Sleep(time.Millisecond) // polling a server we do not control the client of
	}
}

// login starts a new grant family and returns its first refresh token.
func (s *killServer) login() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.current = fmt.Sprintf("kill-rt-%d", s.n)
	return s.current
}

func (s *killServer) orphans() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.orphaned
}

func (s *killServer) state() (current string, used map[string]bool, reuse int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, maps(s.used), s.reuse
}

func maps(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s *killServer) valid(at string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.access[at]
}

func (s *killServer) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rt := r.PostForm.Get("refresh_token")
	time.Sleep(s.delay) // not cut short when the client dies
	s.mu.Lock()
	if rt == "" || rt != s.current {
		if s.used[rt] {
			s.reuse++
			s.current = "" // the family is revoked
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token revoked or already used"}`)
		return
	}
	s.used[rt] = true
	if r.Context().Err() != nil {
		s.orphaned++ // the server saw the connection close during its hold
	}
	s.n++
	s.current = fmt.Sprintf("kill-rt-%d", s.n)
	at := fmt.Sprintf("kill-at-%d", s.n)
	s.access[at] = true
	body := fmt.Sprintf(`{"access_token":%q,"token_type":"bearer","expires_in":3600,"refresh_token":%q}`, at, s.current)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

// TestKillDuringRefresh kills lanyard token --force-refresh with SIGKILL at
// random points (process start, lock, request in flight, save) at least 50
// times against a rotating server. After every kill the store must hold
// either the refresh token the server currently honours (the old one, not
// yet rotated, or the new one, saved) and a normal call must succeed; never
// a missing or damaged item. The one window the protocol leaves — the server
// rotated, the process died before saving — is counted and reported: the
// stored token is then the old, rotated-away one, and the normal call must
// say to log in again.
func TestKillDuringRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lanyard and runs ~100 processes")
	}
	srv := newKillServer(t, 5*time.Millisecond)
	bin := testbin.Build(t, "lanyard")
	env := testbin.NewEnv(t, bin)
	env.WriteConfig(t, fmt.Sprintf("[profiles.p]\ngrant = \"refresh_token\"\ntoken_url = %q\nclient_id = \"c\"\n", srv.URL))
	st, err := store.Open(store.Options{Backend: "file", FileDir: lenv.Env(env.Getenv).KeyringDir(), Passphrase: func() (string, error) { return env.Passphrase, nil }})
	if err != nil {
		t.Fatal(err)
	}

	run := func(stdin string, args ...string) (string, string, error) {
		cmd := env.Command("lanyard", args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	login := func() {
		t.Helper()
		if _, stderr, err := run(srv.login()+"\n", "login", "p", "--refresh-token-stdin"); err != nil {
			t.Fatalf("login: %v: %s", err, stderr)
		}
	}
	normal := func() {
		t.Helper()
		out, stderr, err := run("", "token", "p", "--force-refresh")
		if err != nil {
			t.Fatalf("normal call after a kill: %v: %s", err, stderr)
		}
		if at := strings.TrimSpace(out); !srv.valid(at) {
			t.Fatalf("normal call printed %q, not a token the server issued", at)
		}
	}
	login()

	// How long an unkilled refresh takes, end to end: kills are spread
	// over that span.
	var spans []time.Duration
	for range 5 {
		start := time.Now()
		normal()
		spans = append(spans, time.Since(start))
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i] < spans[j] })
	span := spans[len(spans)/2]

	var kills, finished, untouched, saved, recovered, inFlight, window int
	for i := 0; kills < 50 && i < 400; i++ {
		before, _, _ := srv.state()
		orphansBefore := srv.orphans()
		cmd := env.Command("lanyard", "token", "p", "--force-refresh")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(time.Duration(rand.Int64N(int64(span)*11/10)), func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		_ = cmd.Wait()
		timer.Stop()
		srv.quiesce(t)
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			kills++
		} else {
			finished++
		}

		stored, err := st.Token("p")
		if err != nil {
			t.Fatalf("kill %d: the store is unreadable after SIGKILL: %v", i, err)
		}
		current, used, reuse := srv.state()
		if reuse != 0 {
			t.Fatalf("kill %d: the server saw %d refresh token reuses", i, reuse)
		}
		switch {
		case stored.RefreshToken == current && current == before:
			untouched++ // killed before the server rotated
		case stored.RefreshToken == current:
			saved++ // rotated and saved before the kill (or not killed)
		case stored.RefreshToken == before && used[before]:
			// The server rotated; the process died before its keyring save.
			// If it journaled the new state first, the next call adopts it.
			_, stderr, err := run("", "token", "p", "--force-refresh")
			if _, _, reuse := srv.state(); err == nil && reuse == 0 {
				recovered++
				continue
			}
			if srv.orphans() > orphansBefore {
				inFlight++ // killed with the request in flight: inherent to rotation
			} else {
				window++ // lanyard had the response and lost it
			}
			if err == nil || !strings.Contains(stderr, "run: lanyard login p") {
				t.Fatalf("kill %d: refresh with the rotated-away token: %v: %s; want a login-required error", i, err, stderr)
			}
			if _, err := st.Token("p"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("kill %d: the dead refresh token is still stored: %v", i, err)
			}
			login()
			srv.mu.Lock()
			srv.reuse = 0 // that reuse was the deliberate check above
			srv.mu.Unlock()
			continue
		default:
			t.Fatalf("kill %d: stored refresh token %q is neither the old %q nor the new %q", i, stored.RefreshToken, before, current)
		}
		normal()
	}
	if kills < 50 {
		t.Fatalf("only %d of the processes were killed before finishing (span %s)", kills, span)
	}
	stages, _ := filepath.Glob(filepath.Join(lenv.Env(env.Getenv).DataDir(), ".lanyard-stage-*"))
	t.Logf("%d SIGKILLs over a %s refresh (+%d finished first): %d before the server rotated, %d after the save, %d recovered from the journal, %d with the request in flight (the server rotated for a dead client; login needed), %d between response and journal (login needed); %d staging directories left by kills mid-save",
		kills, span, finished, untouched, saved, recovered, inFlight, window, len(stages))
	// The split between "recovered" and the remaining window depends on
	// scheduling (a loaded machine widens the gap between response and
	// journal), so it is reported, not asserted; TestJournalRecovery checks
	// the mechanism deterministically.
	limit := kills / 2
	if window > limit {
		t.Errorf("%d of %d kills hit the rotate-to-save window (limit %d); it should be a small part of a refresh", window, kills, limit)
	}
	if _, err := os.Stat(lenv.Env(env.Getenv).KeyringDir()); err != nil {
		t.Fatal(err)
	}
}
