package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/store"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// rotatingServer is a token endpoint that rotates refresh tokens on every
// use and, like Whiplash, treats reuse of an old one as theft: it answers
// invalid_grant and revokes the whole family.
type rotatingServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests atomic.Int64
	reuse    atomic.Int64
	current  string
	used     map[string]bool
	n        int
	ttl      int
	fail     int // answer the next fail requests with 503
}

func newRotatingServer(t *testing.T, ttl int) *rotatingServer {
	s := &rotatingServer{used: map[string]bool{}, ttl: ttl}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// login issues the first refresh token, as a login would.
func (s *rotatingServer) login() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.current = fmt.Sprintf("rt-%d", s.n)
	return s.current
}

func (s *rotatingServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	_ = r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if s.fail > 0 {
		s.fail--
		w.WriteHeader(503)
		io.WriteString(w, "<html>maintenance</html>")
		return
	}
	switch r.Form.Get("grant_type") {
	case "client_credentials":
		s.n++
		fmt.Fprintf(w, `{"access_token":"cc-%d","token_type":"Bearer","expires_in":%d}`, s.n, s.ttl)
	case "refresh_token":
		rt := r.Form.Get("refresh_token")
		if rt != s.current || s.used[rt] {
			if s.used[rt] {
				s.reuse.Add(1)
				s.current = "" // family revoked
			}
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token is invalid"}`)
			return
		}
		s.used[rt] = true
		s.n++
		s.current = fmt.Sprintf("rt-%d", s.n)
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"bearer","expires_in":%d,"refresh_token":%q}`, s.n, s.ttl, s.current)
	default:
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"unsupported_grant_type"}`)
	}
}

func fileStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Backend: "file", FileDir: filepath.Join(dir, "keyring"), Passphrase: func() (string, error) { return "pw", nil }})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newEngine(t testing.TB, dir string) *Engine {
	return &Engine{Store: fileStore(t, dir), HTTP: http.DefaultClient, StateDir: filepath.Join(dir, "state"), Now: time.Now, Log: slog.New(slog.DiscardHandler), LockTimeout: 30 * time.Second, Getenv: func(string) string { return "" }}
}

func profile(t testing.TB, tokenURL, grant string) *config.Profile {
	t.Helper()
	secret := ""
	if grant == config.GrantClientCredentials {
		secret = "client_secret = \"env:NOPE\"\nclient_auth = \"post\"\n"
	}
	f, err := config.Parse("test.toml", []byte(fmt.Sprintf("[profiles.p]\ngrant = %q\ntoken_url = %q\nclient_id = \"c\"\n%s", grant, tokenURL, secret)))
	if err != nil {
		t.Fatal(err)
	}
	return f.Profiles["p"]
}

func TestFastPathNeedsNoServer(t *testing.T) {
	srv := newRotatingServer(t, 3600)
	e := newEngine(t, t.TempDir())
	p := profile(t, srv.URL, config.GrantRefreshToken)
	if _, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()}); err != nil {
		t.Fatal(err)
	}
	srv.Close() // any network use now fails
	for range 3 {
		tok, err := e.Token(t.Context(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != "at-2" || tok.RefreshToken != "rt-2" {
			t.Fatalf("got %q/%q, want at-2/rt-2", tok.AccessToken, tok.RefreshToken)
		}
	}
}

func TestRefreshRotatesAndSaves(t *testing.T) {
	srv := newRotatingServer(t, 1) // 1 s tokens: refresh_before caps at 0.1 s
	dir := t.TempDir()
	e := newEngine(t, dir)
	p := profile(t, srv.URL, config.GrantRefreshToken)
	if _, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e.Now = func() time.Time { return now.Add(2 * time.Second) }
	tok, err := e.Token(t.Context(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A second engine (another process) sees the rotated token on disk.
	saved, err := newEngine(t, dir).Store.Token("p")
	if err != nil {
		t.Fatal(err)
	}
	if saved.RefreshToken != tok.RefreshToken || tok.RefreshToken != "rt-3" {
		t.Errorf("saved refresh token %q, returned %q, want rt-3 in both", saved.RefreshToken, tok.RefreshToken)
	}
	// lanyard status shows when the last refresh was and that it rotated.
	if !saved.RefreshRotates || !saved.LastRefresh.Equal(now.Add(2*time.Second)) {
		t.Errorf("saved rotates=%v last refresh=%v, want true at %v", saved.RefreshRotates, saved.LastRefresh, now.Add(2*time.Second))
	}
}

func TestMinTTLAndForceRefresh(t *testing.T) {
	srv := newRotatingServer(t, 600)
	e := newEngine(t, t.TempDir())
	p := profile(t, srv.URL, config.GrantRefreshToken)
	first, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := e.Token(t.Context(), p, Options{MinTTL: 5 * time.Minute})
	if tok.AccessToken != first.AccessToken {
		t.Error("a token valid for 10m was refreshed for --min-ttl 5m")
	}
	tok, _ = e.Token(t.Context(), p, Options{MinTTL: 20 * time.Minute})
	if tok.AccessToken == first.AccessToken {
		t.Error("--min-ttl 20m returned a 10m token")
	}
	before := srv.requests.Load()
	forced, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err != nil || forced.AccessToken == tok.AccessToken || srv.requests.Load() != before+1 {
		t.Errorf("force refresh: got %v err=%v requests=%d, want a new token after one request", forced, err, srv.requests.Load()-before)
	}
}

func TestInvalidGrantDropsRefreshToken(t *testing.T) {
	srv := newRotatingServer(t, 1)
	e := newEngine(t, t.TempDir())
	p := profile(t, srv.URL, config.GrantRefreshToken)
	if _, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()}); err != nil {
		t.Fatal(err)
	}
	srv.login() // the server moves on: the stored refresh token is dead
	_, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if !IsLoginRequired(err) || !strings.HasSuffix(err.Error(), "run: lanyard login p") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("got %v, want a login-required error quoting invalid_grant", err)
	}
	if _, err := e.Store.Token("p"); err != store.ErrNotFound {
		t.Errorf("dead refresh token still stored: %v", err)
	}
}

func TestFailedRefreshKeepsRefreshToken(t *testing.T) {
	srv := newRotatingServer(t, 1)
	e := newEngine(t, t.TempDir())
	p := profile(t, srv.URL, config.GrantRefreshToken)
	if _, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()}); err != nil {
		t.Fatal(err)
	}
	before, _ := e.Store.Token("p")
	srv.mu.Lock()
	srv.fail = 3
	srv.mu.Unlock()
	_, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "<html>maintenance</html>") {
		t.Fatalf("got %v, want the 503 quoted", err)
	}
	after, err := e.Store.Token("p")
	if err != nil || after.RefreshToken != before.RefreshToken {
		t.Fatalf("refresh token after failed refresh: %v %v, want %q", after, err, before.RefreshToken)
	}
	if _, err := e.Token(t.Context(), p, Options{ForceRefresh: true}); err != nil {
		t.Errorf("refresh after the outage: %v", err)
	}
}

func TestNotLoggedIn(t *testing.T) {
	e := newEngine(t, t.TempDir())
	p := profile(t, "https://127.0.0.1:1/token", config.GrantRefreshToken)
	_, err := e.Token(t.Context(), p, Options{})
	if !IsLoginRequired(err) || err.Error() != `profile "p": not logged in; run: lanyard login p` {
		t.Errorf("got %v", err)
	}
}

func TestScopeEditInvalidatesCache(t *testing.T) {
	srv := newRotatingServer(t, 3600)
	e := newEngine(t, t.TempDir())
	p := profile(t, srv.URL, config.GrantClientCredentials)
	e.Getenv = func(string) string { return "s" }
	a, err := e.Token(t.Context(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p2 := *p
	p2.Scopes = []string{"admin"}
	b, err := e.Token(t.Context(), &p2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessToken == b.AccessToken {
		t.Error("edited scopes returned the old token")
	}
}

// TestConcurrentGoroutines: 32 goroutines, each with its own engine and
// store handle (as separate processes would have), on an expired token.
func TestConcurrentGoroutines(t *testing.T) {
	srv := newRotatingServer(t, 3600)
	dir := t.TempDir()
	p := profile(t, srv.URL, config.GrantRefreshToken)
	if _, err := newEngine(t, dir).Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Hour) // the stored token has expired
	before := srv.requests.Load()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	tokens := make(chan string, 32)
	for range 32 {
		wg.Go(func() {
			e := newEngine(t, dir)
			e.Now = func() time.Time { return later }
			tok, err := e.Token(t.Context(), p, Options{})
			if err != nil {
				errs <- err
				return
			}
			tokens <- tok.AccessToken
		})
	}
	wg.Wait()
	close(errs)
	close(tokens)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for tok := range tokens {
		seen[tok] = true
	}
	if n := srv.requests.Load() - before; n != 1 || len(seen) != 1 || srv.reuse.Load() != 0 {
		t.Errorf("got %d token requests, %d distinct tokens, %d reuse detections; want 1, 1, 0", n, len(seen), srv.reuse.Load())
	}
}

// TestConcurrentProcesses: 16 lanyard processes on an expired token.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lanyard")
	}
	srv := newRotatingServer(t, 1)
	bin := testbin.Build(t, "lanyard")
	env := testbin.NewEnv(t, bin)
	env.WriteConfig(t, fmt.Sprintf("[profiles.p]\ngrant = \"refresh_token\"\ntoken_url = %q\nclient_id = \"c\"\n", srv.URL))
	login := env.Command("lanyard", "login", "p", "--refresh-token-stdin")
	login.Stdin = strings.NewReader(srv.login() + "\n")
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	// The login's token lives 1 s; refreshed ones live an hour. Wait for
	// the stored one to go stale, then start all processes at once.
	srv.mu.Lock()
	srv.ttl = 3600
	srv.mu.Unlock()
	time.Sleep(time.Second)
	before := srv.requests.Load()
	var wg sync.WaitGroup
	outs := make([]string, 16)
	for i := range 16 {
		wg.Go(func() {
			cmd := env.Command("lanyard", "token", "p", "--format", "json")
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Errorf("process %d: %v: %s", i, err, stderr)
				return
			}
			var tj struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(out, &tj); err != nil {
				t.Errorf("process %d: %v: %s", i, err, out)
			}
			outs[i] = tj.AccessToken
		})
	}
	wg.Wait()
	n := srv.requests.Load() - before
	distinct := map[string]bool{}
	for _, o := range outs {
		distinct[o] = true
	}
	if n != 1 || srv.reuse.Load() != 0 || len(distinct) != 1 {
		t.Errorf("got %d token requests, %d reuse detections, %d distinct tokens; want 1, 0, 1", n, srv.reuse.Load(), len(distinct))
	}
}

// TestHotCacheHitNeedsNoUnlock: once a token is cached, a hit is served
// without reading the keyring, so even a wrong passphrase (which would fail
// any unlock) gets it; a damaged store item is still reported.
func TestHotCacheHitNeedsNoUnlock(t *testing.T) {
	srv := newRotatingServer(t, 3600)
	dir := t.TempDir()
	e := newEngine(t, dir)
	e.Hot = e.Store.Hot(filepath.Join(dir, "hot"), func(string) string { return "" })
	if e.Hot == nil {
		t.Skip("keyctl not available: no hot cache")
	}
	p := profile(t, srv.URL, config.GrantRefreshToken)
	first, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()})
	if err != nil {
		t.Fatal(err)
	}
	wrong := &Engine{Store: store.NewWithKeyring(nil, "none"), Hot: e.Hot, StateDir: e.StateDir, Now: time.Now}
	got, err := wrong.Token(t.Context(), p, Options{})
	if err != nil || got.AccessToken != first.AccessToken {
		t.Fatalf("hot hit: got %v, %v", got, err)
	}
	// Damage the store item: the entry no longer matches it, so the store
	// is read and its error reported.
	item := filepath.Join(dir, "keyring", "token:p")
	if err := os.WriteFile(item, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Token(t.Context(), p, Options{}); err == nil || !strings.Contains(err.Error(), "lanyard logout p") {
		t.Errorf("damaged store behind a hot entry: got %v, want the store's error", err)
	}
}

// TestJournalRecovery: a process that received a rotated refresh token and
// died before its keyring save left a journal; the next caller adopts it
// and refreshes with the new token instead of the rotated-away one (which
// the server would treat as theft).
func TestJournalRecovery(t *testing.T) {
	srv := newRotatingServer(t, 3600)
	dir := t.TempDir()
	e := newEngine(t, dir)
	e.Hot = e.Store.Hot(filepath.Join(dir, "hot"), func(string) string { return "" })
	if e.Hot == nil {
		t.Skip("keyctl not available: no journal")
	}
	p := profile(t, srv.URL, config.GrantRefreshToken)
	before, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()})
	if err != nil {
		t.Fatal(err)
	}
	// What the killed process got from the server: rotate by hand and
	// journal the answer without saving it.
	srv.mu.Lock()
	srv.used[srv.current] = true
	srv.n++
	srv.current = fmt.Sprintf("rt-%d", srv.n)
	rotated := srv.current
	srv.mu.Unlock()
	got := *before
	got.RefreshToken, got.AccessToken = rotated, "at-journaled"
	if !e.Hot.WriteJournal(p.Name, before.RefreshToken, &got) {
		t.Fatal("could not write the journal")
	}
	tok, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err != nil {
		t.Fatalf("after the journal: %v", err)
	}
	if srv.reuse.Load() != 0 {
		t.Fatal("the rotated-away refresh token was presented")
	}
	// The adopted state is newer than what the caller saw, so it answers
	// the forced refresh; the next refresh starts from it.
	stored, _ := e.Store.Token(p.Name)
	if tok.AccessToken != "at-journaled" || stored.RefreshToken != rotated {
		t.Errorf("returned %q, stored %q; want the journaled at-journaled / %q", tok.AccessToken, stored.RefreshToken, rotated)
	}
	next, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err != nil || srv.reuse.Load() != 0 || next.RefreshToken == rotated {
		t.Fatalf("refresh after adoption: %v, reuse %d, refresh token %q", err, srv.reuse.Load(), next.RefreshToken)
	}
	if _, ok := e.Hot.ReadJournal(p.Name); ok {
		t.Error("journal left behind after adoption")
	}
	// A stale journal (its previous token is no longer stored) is dropped.
	if !e.Hot.WriteJournal(p.Name, "rt-old", &got) {
		t.Fatal("could not write the journal")
	}
	if _, err := e.Token(t.Context(), p, Options{ForceRefresh: true}); err != nil || srv.reuse.Load() != 0 {
		t.Fatalf("stale journal: %v, reuse %d", err, srv.reuse.Load())
	}
	if _, ok := e.Hot.ReadJournal(p.Name); ok {
		t.Error("stale journal left behind")
	}
}

// TestDiscoveredEndpointMustBeSafe: endpoints from a discovery document get
// the same https-or-loopback check as written ones, so metadata cannot send
// the client secret over plain http to another host.
func TestDiscoveredEndpointMustBeSafe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":"http://%s","token_endpoint":"http://auth.example.com/token"}`, r.Host)
	}))
	defer srv.Close()
	e := newEngine(t, t.TempDir())
	e.Getenv = func(string) string { return "secret" }
	f, err := config.Parse("t.toml", []byte(fmt.Sprintf("[profiles.p]\nissuer = %q\ngrant = \"client_credentials\"\nclient_id = \"c\"\nclient_secret = \"env:S\"\n", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Token(t.Context(), f.Profiles["p"], Options{})
	if err == nil || !strings.Contains(err.Error(), "plain http to a non-loopback host") || !strings.Contains(err.Error(), "discovery") {
		t.Fatalf("got %v, want the discovered endpoint refused", err)
	}
}

// TestNoIDTokenAsksOnce: with use = "id_token" and a server that sends
// none, the error names the fix and later calls do not hit the server again
// while the access token lasts.
func TestNoIDTokenAsksOnce(t *testing.T) {
	srv := newRotatingServer(t, 3600)
	e := newEngine(t, t.TempDir())
	p := profile(t, srv.URL, config.GrantRefreshToken)
	p.Use = "id_token"
	_, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()})
	if err == nil || !strings.Contains(err.Error(), "returned no id_token") {
		t.Fatalf("login: got %v", err)
	}
	before := srv.requests.Load()
	for range 3 {
		if _, err := e.Token(t.Context(), p, Options{}); err == nil || !strings.Contains(err.Error(), "openid scope") {
			t.Fatalf("got %v", err)
		}
	}
	if n := srv.requests.Load() - before; n != 0 {
		t.Errorf("got %d token requests, want 0", n)
	}
}
