package engine

// Fault injection: what a token endpoint, the network, TLS, discovery and
// the keyring file can do wrong, and what the engine must then do (say what
// failed, retry what is temporary, never lose the stored refresh token).

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/store"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// faultEnv is the environment engine.New reads: an isolated HOME with the
// encrypted file keyring, as every lanyard process has in CI.
func faultEnv(t *testing.T, extra ...string) func(string) string {
	t.Helper()
	home := t.TempDir()
	vars := map[string]string{
		"HOME":                       home,
		"XDG_STATE_HOME":             filepath.Join(home, "state"),
		"XDG_DATA_HOME":              filepath.Join(home, "data"),
		"LANYARD_KEYRING_BACKEND":    "file",
		"LANYARD_KEYRING_PASSPHRASE": "fault-passphrase",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	return func(k string) string { return vars[k] }
}

// faultEngine builds an engine the way helpers do, from the environment.
func faultEngine(t *testing.T, getenv func(string) string) *Engine {
	t.Helper()
	e, err := New(getenv, &bytes.Buffer{}, false)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func faultProfile(t *testing.T, toml string) *config.Profile {
	t.Helper()
	f, err := config.Parse("fault.toml", []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	return f.Profiles["p"]
}

// startFault starts the scripted token endpoint of internal/testprovider.
func startFault(t *testing.T) *testprovider.Fault {
	t.Helper()
	f, err := testprovider.StartFault()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// loggedIn stores a first token for a refresh_token profile against the
// fault server (its default answer is a fresh token with a refresh token)
// and returns the stored state.
func loggedIn(t *testing.T, e *Engine, p *config.Profile) *Token {
	t.Helper()
	if _, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: "imported-rt"}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.Store.Token(p.Name)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("after login: %+v, %v", tok, err)
	}
	return tok
}

func refreshProfile(t *testing.T, tokenURL string) *config.Profile {
	return faultProfile(t, fmt.Sprintf("[profiles.p]\ngrant = \"refresh_token\"\ntoken_url = %q\nclient_id = \"c\"\n", tokenURL))
}

// wantRefreshKept checks that a failed refresh left the stored refresh token alone.
func wantRefreshKept(t *testing.T, e *Engine, before *Token) {
	t.Helper()
	after, err := e.Store.Token("p")
	if err != nil {
		t.Fatalf("stored token after the failure: %v", err)
	}
	if after.RefreshToken != before.RefreshToken {
		t.Fatalf("stored refresh token: got %q, want %q (kept)", after.RefreshToken, before.RefreshToken)
	}
}

// TestFaultServerErrorsHTML: a 5xx with an HTML body (a proxy's error page)
// is retried, then fails quoting the page's first line; the refresh token
// stays stored and works once the server is back.
func TestFaultServerErrorsHTML(t *testing.T) {
	for _, status := range []int{500, 502, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			srv := startFault(t)
			e := faultEngine(t, faultEnv(t))
			p := refreshProfile(t, srv.TokenURL)
			before := loggedIn(t, e, p)
			page := fmt.Sprintf("<html><head><title>%d %s</title></head>\n<body>nginx</body></html>", status, http.StatusText(status))
			step := testprovider.FaultStep{Status: status, Body: page}
			srv.SetScript([]testprovider.FaultStep{step, step, step})
			n := srv.Requests()

			_, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
			if err == nil {
				t.Fatal("got a token from a failing server")
			}
			for _, want := range []string{fmt.Sprintf("HTTP %d", status), fmt.Sprintf("%d %s</title>", status, http.StatusText(status)), `profile "p"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "nginx") {
				t.Errorf("error %q quotes more than the first line", err)
			}
			if got := srv.Requests() - n; got != 3 {
				t.Errorf("got %d attempts, want 3 (retried)", got)
			}
			if IsLoginRequired(err) {
				t.Error("a server outage asks for a new login")
			}
			wantRefreshKept(t, e, before)
			if _, err := e.Token(t.Context(), p, Options{ForceRefresh: true}); err != nil {
				t.Errorf("refresh after the outage: %v", err)
			}
		})
	}
}

// TestFaultRetryAfter: 429 with Retry-After is retried after the time the
// server asked for (not the shorter default backoff).
func TestFaultRetryAfter(t *testing.T) {
	t.Parallel()
	srv := startFault(t)
	e := faultEngine(t, faultEnv(t))
	p := refreshProfile(t, srv.TokenURL)
	loggedIn(t, e, p)
	srv.SetScript([]testprovider.FaultStep{{Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: "slow down"}})
	start := time.Now()
	tok, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	// The default first backoff is 500 ms; Retry-After said 1 s.
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %s, want at least the 1 s of Retry-After", d)
	}
	if !strings.HasPrefix(tok.AccessToken, "fault-at-") {
		t.Errorf("got access token %q", tok.AccessToken)
	}
}

// TestFaultRetryAfterBeyondDeadline: a Retry-After longer than the caller
// is willing to wait fails at once, quoting the 429, instead of sleeping.
func TestFaultRetryAfterBeyondDeadline(t *testing.T) {
	t.Parallel()
	srv := startFault(t)
	e := faultEngine(t, faultEnv(t))
	p := refreshProfile(t, srv.TokenURL)
	before := loggedIn(t, e, p)
	srv.SetScript([]testprovider.FaultStep{{Status: 429, Header: map[string]string{"Retry-After": "30"}, Body: "rate limited, come back later"}})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := e.Token(ctx, p, Options{ForceRefresh: true})
	if err == nil || !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("got %v, want the 429 quoted", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("waited %s for a Retry-After beyond the deadline", d)
	}
	wantRefreshKept(t, e, before)
}

// TestFaultSlowResponse: a server slower than the HTTP timeout
// (LANYARD_HTTP_TIMEOUT) fails with "timed out", after retries, and the
// refresh token stays.
func TestFaultSlowResponse(t *testing.T) {
	t.Parallel()
	srv := startFault(t)
	e := faultEngine(t, faultEnv(t, "LANYARD_HTTP_TIMEOUT", "200ms"))
	p := refreshProfile(t, srv.TokenURL)
	before := loggedIn(t, e, p)
	slow := testprovider.FaultStep{Delay: 5 * time.Second}
	srv.SetScript([]testprovider.FaultStep{slow, slow, slow})
	start := time.Now()
	_, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("got %v, want a timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s; the 200ms timeout was not applied", d)
	}
	wantRefreshKept(t, e, before)
	// One slow answer, then a normal one: the retry succeeds.
	srv.SetScript([]testprovider.FaultStep{slow})
	if _, err := e.Token(t.Context(), p, Options{ForceRefresh: true}); err != nil {
		t.Errorf("retry after one slow answer: %v", err)
	}
}

// TestFaultConnectionReset: the connection is reset halfway through the
// response body. Nothing half-read is used; the request is retried.
func TestFaultConnectionReset(t *testing.T) {
	t.Parallel()
	srv := startFault(t)
	e := faultEngine(t, faultEnv(t))
	p := refreshProfile(t, srv.TokenURL)
	before := loggedIn(t, e, p)
	reset := testprovider.FaultStep{Reset: true}
	srv.SetScript([]testprovider.FaultStep{reset, reset, reset})
	n := srv.Requests()
	_, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err == nil {
		t.Fatal("got a token from a reset connection")
	}
	if !strings.Contains(err.Error(), "token endpoint") {
		t.Errorf("error %q does not name the token endpoint", err)
	}
	if got := srv.Requests() - n; got != 3 {
		t.Errorf("got %d attempts, want 3", got)
	}
	wantRefreshKept(t, e, before)
	srv.SetScript([]testprovider.FaultStep{reset})
	tok, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	if err != nil || !strings.HasPrefix(tok.RefreshToken, "fault-rt-") {
		t.Errorf("retry after one reset: %+v, %v", tok, err)
	}
}

// TestFaultUntrustedTLS: a token endpoint whose certificate is not trusted
// fails with the certificate problem, once: retrying cannot fix a
// certificate, and no request (with its secrets) is sent.
func TestFaultUntrustedTLS(t *testing.T) {
	t.Parallel()
	var handled, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at","refresh_token":"rt2","expires_in":300}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	getenv := faultEnv(t)
	e := faultEngine(t, getenv)
	p := refreshProfile(t, srv.URL+"/token")
	if err := e.Store.SaveToken("p", &Token{Key: p.CacheKey(), RefreshToken: "stored-rt", Expiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.Token(t.Context(), p, Options{})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a certificate error", err)
	}
	var ce *tls.CertificateVerificationError
	if !errors.As(err, &ce) {
		t.Errorf("error %v does not wrap the certificate verification error", err)
	}
	if handled.Load() != 0 {
		t.Errorf("the untrusted server received %d requests", handled.Load())
	}
	if conns.Load() != 1 {
		t.Errorf("got %d connections, want 1: a certificate error is not temporary", conns.Load())
	}
	wantRefreshKept(t, e, &Token{RefreshToken: "stored-rt"})
}

// TestFaultDiscoveryWithoutTokenEndpoint: an issuer whose metadata has no
// token_endpoint fails before any token request, says to set token_url,
// and caches nothing.
func TestFaultDiscoveryWithoutTokenEndpoint(t *testing.T) {
	t.Parallel()
	var tokenCalls atomic.Int64
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"jwks_uri":%q}`, issuer, issuer+"/authorize", issuer+"/keys")
		case "/token":
			tokenCalls.Add(1)
			http.Error(w, "not here", http.StatusNotFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	issuer = srv.URL
	getenv := faultEnv(t)
	e := faultEngine(t, getenv)
	p := faultProfile(t, fmt.Sprintf("[profiles.p]\ngrant = \"client_credentials\"\nissuer = %q\nclient_id = \"c\"\nclient_secret = \"env:SECRET\"\n", issuer))
	_, err := e.Token(t.Context(), p, Options{})
	if err == nil || !strings.Contains(err.Error(), "no token_endpoint") || !strings.Contains(err.Error(), "token_url") {
		t.Fatalf("got %v, want an error saying the metadata lacks token_endpoint and to set token_url", err)
	}
	if tokenCalls.Load() != 0 {
		t.Error("a token request was sent without a token endpoint")
	}
	if entries, _ := os.ReadDir(filepath.Join(e.StateDir, "discovery")); len(entries) != 0 {
		t.Errorf("incomplete metadata was cached: %v", entries)
	}
}

// TestFaultWrongPassphrase: a wrong LANYARD_KEYRING_PASSPHRASE says so and
// leaves the stored tokens readable with the right one.
func TestFaultWrongPassphrase(t *testing.T) {
	t.Parallel()
	srv := startFault(t)
	getenv := faultEnv(t)
	e := faultEngine(t, getenv)
	p := refreshProfile(t, srv.TokenURL)
	before := loggedIn(t, e, p)
	n := srv.Requests()
	wrong := faultEngine(t, func(k string) string {
		if k == "LANYARD_KEYRING_PASSPHRASE" {
			return "not-the-passphrase"
		}
		return getenv(k)
	})
	for _, opt := range []Options{{}, {ForceRefresh: true}} {
		_, err := wrong.Token(t.Context(), p, opt)
		if err == nil || !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), "LANYARD_KEYRING_PASSPHRASE") {
			t.Fatalf("got %v, want a wrong-passphrase error naming LANYARD_KEYRING_PASSPHRASE", err)
		}
	}
	if srv.Requests() != n {
		t.Error("a token request was sent with an unreadable store")
	}
	wantRefreshKept(t, e, before)
}

// TestFaultTruncatedStore: the token item cut short on disk at any length
// is reported as damage naming lanyard logout P (never as a wrong
// passphrase, never a panic), and Logout repairs it.
func TestFaultTruncatedStore(t *testing.T) {
	t.Parallel()
	srv := startFault(t)
	getenv := faultEnv(t)
	e := faultEngine(t, getenv)
	p := refreshProfile(t, srv.TokenURL)
	loggedIn(t, e, p)
	path := tokenFile(t, getenv, "p")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, 1, len(raw) / 3, len(raw) / 2, len(raw) - 30, len(raw) - 2, len(raw) - 1}
	for _, n := range cuts {
		if err := os.WriteFile(path, raw[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := faultEngine(t, getenv).Token(t.Context(), p, Options{})
		var ce *store.CorruptError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "run: lanyard logout p") {
			t.Errorf("truncated to %d of %d bytes: got %v, want damage naming lanyard logout p", n, len(raw), err)
		}
	}
	if err := e.Logout(t.Context(), p, false); err != nil {
		t.Fatalf("logout of a damaged store: %v", err)
	}
	if _, err := e.Token(t.Context(), p, Options{}); !IsLoginRequired(err) {
		t.Fatalf("after logout: got %v, want login required", err)
	}
	loggedIn(t, e, p)
}

// tokenFile is where the file keyring keeps profile's token item.
func tokenFile(t *testing.T, getenv func(string) string, profile string) string {
	t.Helper()
	dir := env.Env(getenv).KeyringDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if strings.Contains(en.Name(), "token") && strings.HasSuffix(en.Name(), profile) {
			return filepath.Join(dir, en.Name())
		}
	}
	t.Fatalf("no token item for %s in %s", profile, dir)
	return ""
}

// TestFaultTruncatedStoreCLI: the same through the lanyard binary, as a
// user sees it: exit 1 with the logout command, logout succeeds, login
// works again.
func TestFaultTruncatedStoreCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lanyard")
	}
	t.Parallel()
	srv := startFault(t)
	bin := testbin.Build(t, "lanyard")
	env := testbin.NewEnv(t, bin)
	env.WriteConfig(t, fmt.Sprintf("[profiles.p]\ngrant = \"refresh_token\"\ntoken_url = %q\nclient_id = \"c\"\n", srv.TokenURL))
	run := func(stdin string, args ...string) (int, string) {
		t.Helper()
		cmd := env.Command("lanyard", args...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return code, stderr.String()
	}
	if code, out := run("imported-rt\n", "login", "p", "--refresh-token-stdin"); code != 0 {
		t.Fatalf("login: exit %d: %s", code, out)
	}
	path := tokenFile(t, env.Getenv, "p")
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := run("", "token", "p")
	if code != 1 || !strings.Contains(out, "damaged") || !strings.Contains(out, "run: lanyard logout p") {
		t.Fatalf("token on a damaged store: exit %d: %s; want exit 1 naming lanyard logout p", code, out)
	}
	if code, out := run("", "logout", "p"); code != 0 {
		t.Fatalf("logout: exit %d: %s", code, out)
	}
	if code, out := run("", "token", "p"); code != 3 || !strings.Contains(out, "run: lanyard login p") {
		t.Fatalf("token after logout: exit %d: %s; want exit 3 naming lanyard login p", code, out)
	}
	if code, out := run("imported-rt\n", "login", "p", "--refresh-token-stdin"); code != 0 {
		t.Fatalf("login after logout: exit %d: %s", code, out)
	}
	if code, out := run("", "token", "p"); code != 0 {
		t.Fatalf("token after a new login: exit %d: %s", code, out)
	}
}
