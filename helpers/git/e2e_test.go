package git_test

// End-to-end: the real git binary clones, fetches and pushes over HTTP from
// `git http-backend` (CGI) behind a Basic-auth check against the in-process
// OpenID provider, with git-credential-lanyard as its credential helper.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/tokentest"
)

const secretVar = "LANYARD_TEST_OP_SECRET"

// gitServer serves every bare repository under its root through git
// http-backend, for requests whose credentials pass check.
type gitServer struct {
	URL string // http://127.0.0.1:PORT
	// Rejected counts requests that carried credentials and got 401.
	Rejected atomic.Int64
	// Users records the usernames of accepted requests ("Bearer" for
	// requests authenticated with a Bearer token).
	mu    sync.Mutex
	users map[string]int
}

// startGitServer serves root to requests with Basic credentials that pass
// check, and challenges with WWW-Authenticate: Basic.
func startGitServer(t *testing.T, gitBin, root string, check func(user, pass string) bool) *gitServer {
	t.Helper()
	return startSchemeGitServer(t, gitBin, root, "Basic", func(r *http.Request) (string, bool, bool) {
		user, pass, ok := r.BasicAuth()
		return user, ok, ok && check(user, pass)
	})
}

// startBearerGitServer serves root only to requests with a Bearer token
// that passes check (no Basic at all), and challenges with
// WWW-Authenticate: Bearer, as servers that take OAuth tokens only as
// Bearer do.
func startBearerGitServer(t *testing.T, gitBin, root string, check func(token string) bool) *gitServer {
	t.Helper()
	return startSchemeGitServer(t, gitBin, root, "Bearer", func(r *http.Request) (string, bool, bool) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return "Bearer", r.Header.Get("Authorization") != "", ok && check(tok)
	})
}

// startSchemeGitServer serves root through git http-backend to requests
// auth accepts; auth returns the user, whether credentials were sent, and
// whether they pass.
func startSchemeGitServer(t *testing.T, gitBin, root, scheme string, auth func(*http.Request) (user string, sent, ok bool)) *gitServer {
	t.Helper()
	s := &gitServer{users: map[string]int{}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, sent, ok := auth(r)
		if !ok {
			if sent {
				s.Rejected.Add(1)
			}
			w.Header().Set("WWW-Authenticate", scheme+` realm="lanyard test git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.users[user]++
		s.mu.Unlock()
		cgiH := &cgi.Handler{
			Path: gitBin,
			Args: []string{"http-backend"},
			Root: "/",
			Env: []string{
				"GIT_PROJECT_ROOT=" + root,
				"GIT_HTTP_EXPORT_ALL=1",
				"REMOTE_USER=" + user, // enables receive-pack (push)
				"GIT_CONFIG_NOSYSTEM=1",
				"HOME=" + root,
			},
		}
		cgiH.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *gitServer) usernames() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for k, v := range s.users {
		m[k] = v
	}
	return m
}

// world is one isolated machine: lanyard binaries on PATH, a temp HOME with
// its own ~/.gitconfig, and helpers to run git.
type world struct {
	t   *testing.T
	git string
	bin string
	env *testbin.Env
	// browserLog gets a line each time the scripted browser is started
	// (forge_e2e_test.go).
	browserLog string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	gitBin := testbin.NeedTool(t, "git")
	bin := testbin.Build(t, "lanyard", "git-credential-lanyard")
	env := testbin.NewEnv(t, bin)
	for k, v := range map[string]string{
		"GIT_TERMINAL_PROMPT": "0", // a prompt would mean the helper failed
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME":     "Test", "GIT_AUTHOR_EMAIL": "test@example.test",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.test",
		secretVar: testprovider.OPConfidentialClientSecret,
	} {
		env.Set(k, v)
	}
	return &world{t: t, git: gitBin, bin: bin, env: env}
}

// run runs a command in dir (HOME when ""), returning combined output.
func (w *world) run(dir, name string, args ...string) (string, error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.t.Context(), 60*time.Second)
	defer cancel()
	if name == "lanyard" {
		name = filepath.Join(w.bin, name) // exec resolves names with the test's own PATH
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = w.env.Vars()
	cmd.Dir = w.env.Home
	if dir != "" {
		cmd.Dir = dir
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *world) must(dir, name string, args ...string) string {
	w.t.Helper()
	out, err := w.run(dir, name, args...)
	if err != nil {
		w.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func (w *world) gitConfig(args ...string) {
	w.t.Helper()
	w.must("", w.git, append([]string{"config", "--global"}, args...)...)
}

// bareRepo makes root/NAME.git with one commit on main.
func (w *world) bareRepo(root, name string) {
	w.t.Helper()
	src := filepath.Join(w.t.TempDir(), "src")
	w.must("", w.git, "init", "-q", "-b", "main", src)
	if err := os.WriteFile(filepath.Join(src, "README"), []byte("hello\n"), 0o644); err != nil {
		w.t.Fatal(err)
	}
	w.must(src, w.git, "add", "README")
	w.must(src, w.git, "commit", "-q", "-m", "first")
	w.must("", w.git, "clone", "-q", "--bare", src, filepath.Join(root, name+".git"))
}

func startOP(t *testing.T) *testprovider.OP {
	t.Helper()
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return op
}

// opServer is a git server accepting username user with a token valid at op.
func (w *world) opServer(op *testprovider.OP, user string) (*gitServer, string) {
	root := w.t.TempDir()
	w.bareRepo(root, "repo")
	s := startGitServer(w.t, w.git, root, func(u, p string) bool { return u == user && op.Valid(p) })
	return s, s.URL + "/repo.git"
}

func ccProfile(name string, op *testprovider.OP, extra string) string {
	return fmt.Sprintf(`
[profiles.%s]
grant = "client_credentials"
issuer = %q
client_id = %q
client_secret = "env:%s"
%s
`, name, op.Issuer, op.ConfidentialClientID, secretVar, extra)
}

func rtProfile(name string, op *testprovider.OP, extra string) string {
	return fmt.Sprintf(`
[profiles.%s]
grant = "refresh_token"
issuer = %q
client_id = %q
%s
`, name, op.Issuer, op.PublicClientID, extra)
}

// importRefreshToken logs the test user in at op (authorization code +
// PKCE, offline_access) and hands the refresh token to lanyard login
// --refresh-token-stdin, as a developer would.
func (w *world) importRefreshToken(op *testprovider.OP, profile string) {
	w.t.Helper()
	ctx := w.t.Context()
	cfg := &oauth2.Config{
		ClientID:    op.PublicClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: op.AuthURL, TokenURL: op.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:9/callback",
		Scopes:      []string{"openid", "offline_access"},
	}
	verifier := oauth2.GenerateVerifier()
	loc, err := op.ScriptedLogin(ctx, cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		w.t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		w.t.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
	}
	cmd := w.env.Command(filepath.Join(w.bin, "lanyard"), "login", profile, "--refresh-token-stdin")
	cmd.Stdin = strings.NewReader(tok.RefreshToken + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("lanyard login: %v\n%s", err, out)
	}
}

// expire makes the cached token of profile look expired to every helper,
// while the server still honours it: a deterministic stand-in for waiting
// out its lifetime.
func (w *world) expire(profile string) {
	w.t.Helper()
	tokentest.SetExpiry(w.t, w.env, profile, time.Now().Add(-time.Second))
}

func TestGitCloneFetchPushAfterSetup(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	srv, repo := w.opServer(op, "oauth2")
	w.env.WriteConfig(t, ccProfile("ci", op, fmt.Sprintf("match = [%q]", srv.URL+"/")))

	out := w.must("", "lanyard", "setup", "git", "--global", "ci")
	key := "credential." + srv.URL + ".helper"
	for _, want := range []string{"git config --global --add " + key + " ''", "git config --global --add " + key + " lanyard", "git now asks lanyard (profile ci) for " + srv.URL} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "useHttpPath") {
		t.Errorf("setup wrote useHttpPath for a host-wide prefix:\n%s", out)
	}

	clone := filepath.Join(t.TempDir(), "clone")
	w.must("", w.git, "clone", "-q", repo, clone)
	if n := op.TokenRequests(); n != 1 {
		t.Errorf("token requests after clone: got %d, want 1", n)
	}
	w.must(clone, w.git, "fetch", "-q")
	w.must(clone, w.git, "ls-remote", "origin")
	if n := op.TokenRequests(); n != 1 {
		t.Errorf("token requests after fetch and ls-remote: got %d, want 1 (cached)", n)
	}
	if err := os.WriteFile(filepath.Join(clone, "NEW"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.must(clone, w.git, "add", "NEW")
	w.must(clone, w.git, "commit", "-q", "-m", "second")
	w.must(clone, w.git, "push", "-q", "origin", "main")
	if got := w.must("", w.git, "ls-remote", repo, "main"); !strings.HasPrefix(got, strings.TrimSpace(w.must(clone, w.git, "rev-parse", "HEAD"))) {
		t.Errorf("push did not land: ls-remote says %q", got)
	}
	if srv.Rejected.Load() != 0 {
		t.Errorf("server rejected %d requests with credentials, want 0", srv.Rejected.Load())
	}

	// Idempotent: a second run writes nothing and the helper list stays.
	out = w.must("", "lanyard", "setup", "git", "--global", "ci")
	if !strings.Contains(out, "nothing written") || strings.Contains(out, "git config --global") {
		t.Errorf("second setup: got\n%s\nwant nothing written", out)
	}
	if got := w.must("", w.git, "config", "--global", "--get-all", key); got != "\nlanyard\n" {
		t.Errorf("helper list: got %q, want reset + lanyard", got)
	}
}

func TestSetupGitKeepsHostHelpersAndSetsUseHTTPPath(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	w.env.WriteConfig(t, ccProfile("acme", op, `match = ["https://git.example.com/acme/", "https://git.example.com/tools", "https://other.example.com:8443"]`)+
		ccProfile("host", op, `match = ["https://git.example.com"]`))
	w.gitConfig("credential.https://git.example.com.helper", "store")

	out := w.must("", "lanyard", "setup", "git", "--global", "acme")
	for _, want := range []string{
		"git config --global --unset-all credential.https://git.example.com.helper",
		"git config --global credential.https://git.example.com.useHttpPath true",
		"git config --global --add credential.https://other.example.com:8443.helper lanyard",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "other.example.com:8443.useHttpPath") {
		t.Errorf("useHttpPath set for a host-only prefix:\n%s", out)
	}
	if got := w.must("", w.git, "config", "--global", "--get-all", "credential.https://git.example.com.helper"); got != "\nlanyard\nstore\n" {
		t.Errorf("helpers: got %q, want reset, lanyard, then the user's store", got)
	}
	// Another profile on the same host: nothing to add.
	out = w.must("", "lanyard", "setup", "git", "--global", "host")
	if !strings.Contains(out, "nothing written") {
		t.Errorf("setup for a second profile on the same host: got\n%s", out)
	}
	// Outside a repository without --global: a clear error.
	out, err := w.run(t.TempDir(), "lanyard", "setup", "git", "acme")
	if err == nil || !strings.Contains(out, "not inside a git repository") {
		t.Errorf("local setup outside a repo: err %v, output %s", err, out)
	}
	// A profile without match prefixes says to add them.
	w.env.WriteConfig(t, ccProfile("bare", op, ""))
	out, err = w.run("", "lanyard", "setup", "git", "--global", "bare")
	if err == nil || !strings.Contains(out, "add match = [") {
		t.Errorf("setup without match: err %v, output %s", err, out)
	}
}

// newKindWorld starts the OP and a repository behind it, and writes profile
// "p" of the given kind (client_credentials, or refresh_token with an
// imported login) matching the repository, with lanyard as git's helper.
func newKindWorld(t *testing.T, kind string) (*world, *testprovider.OP, *gitServer, string) {
	t.Helper()
	w := newWorld(t)
	op := startOP(t)
	srv, repo := w.opServer(op, "oauth2")
	match := fmt.Sprintf("match = [%q]", srv.URL+"/")
	if kind == "client_credentials" {
		w.env.WriteConfig(t, ccProfile("p", op, match))
	} else {
		w.env.WriteConfig(t, rtProfile("p", op, match))
		w.importRefreshToken(op, "p")
	}
	w.gitConfig("credential.helper", "lanyard")
	return w, op, srv, repo
}

// A token revoked at the server while lanyard still thinks it fresh: git's
// 401 makes it call erase, which drops exactly that token; git gives up on
// that command (it never retries credentials it already used), and the next
// command gets a fresh token without anyone typing anything.
func TestGitRevokedTokenRecovers(t *testing.T) {
	for _, kind := range []string{"client_credentials", "refresh_token"} {
		t.Run(kind, func(t *testing.T) {
			w, op, _, repo := newKindWorld(t, kind)
			clone := filepath.Join(t.TempDir(), "clone")
			w.must("", w.git, "clone", "-q", repo, clone)
			before := op.TokenRequests()

			op.RevokeAllAccessTokens()
			out, err := w.run(clone, w.git, "fetch")
			if err == nil || !strings.Contains(out, "Authentication failed") {
				t.Fatalf("fetch with a revoked token: err %v, output %s; want git's authentication failure", err, out)
			}
			if n := op.TokenRequests() - before; n != 0 {
				t.Errorf("token requests during the failed fetch: got %d, want 0", n)
			}
			w.must(clone, w.git, "fetch")
			if n := op.TokenRequests() - before; n != 1 {
				t.Errorf("token requests for the recovering fetch: got %d, want 1", n)
			}
			if r := op.ReuseDetections(); r != 0 {
				t.Errorf("refresh token reuse detections: %d", r)
			}
		})
	}
}

// A token lanyard knows is expired never reaches the server: get refreshes
// it, and eight git processes doing so at once cause one token request.
func TestGitParallelFetchOnExpiredToken(t *testing.T) {
	const n = 8
	for _, kind := range []string{"client_credentials", "refresh_token"} {
		t.Run(kind, func(t *testing.T) {
			w, op, srv, repo := newKindWorld(t, kind)
			w.must("", w.git, "ls-remote", repo) // the first token, cached
			// Eight repositories with repo as origin and nothing fetched yet
			// (cheaper than eight clones; each fetch then downloads it all).
			var clones []string
			for i := range n {
				c := filepath.Join(t.TempDir(), fmt.Sprint("c", i))
				w.must("", w.git, "init", "-q", c)
				w.must(c, w.git, "remote", "add", "origin", repo)
				clones = append(clones, c)
			}
			w.expire("p")
			before := op.TokenRequests()

			var wg sync.WaitGroup
			errs := make([]error, n)
			for i, c := range clones {
				wg.Go(func() {
					if out, err := w.run(c, w.git, "fetch", "-q", "origin"); err != nil {
						errs[i] = fmt.Errorf("fetch %d: %v\n%s", i, err, out)
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if got := op.TokenRequests() - before; got != 1 {
				t.Errorf("token requests for %d parallel fetches: got %d, want 1", n, got)
			}
			if srv.Rejected.Load() != 0 {
				t.Errorf("server rejected %d requests, want 0", srv.Rejected.Load())
			}
			if r := op.ReuseDetections(); r != 0 {
				t.Errorf("refresh token reuse detections: %d", r)
			}
		})
	}
}

// Two profiles at two OPs serving two hosts that differ only by port: one
// selected by its match prefix through `credential.helper = lanyard`, one
// pinned with `lanyard --profile`. Each server accepts only its own OP's
// tokens and its own username.
func TestGitTwoProfilesTwoHosts(t *testing.T) {
	w := newWorld(t)
	opA, opB := startOP(t), startOP(t)
	srvA, repoA := w.opServer(opA, "alpha")
	srvB, repoB := w.opServer(opB, "beta")
	w.env.WriteConfig(t,
		ccProfile("a", opA, fmt.Sprintf("match = [%q]\ngit_username = \"alpha\"", srvA.URL+"/"))+
			ccProfile("b", opB, fmt.Sprintf("match = [%q]\ngit_username = \"beta\"", srvB.URL+"/")))
	w.gitConfig("credential.helper", "lanyard")
	w.gitConfig("credential."+srvB.URL+".helper", "lanyard --profile b")

	for _, repo := range []string{repoA, repoB} {
		w.must("", w.git, "clone", "-q", repo, filepath.Join(t.TempDir(), "c"))
	}
	if a, b := opA.TokenRequests(), opB.TokenRequests(); a != 1 || b != 1 {
		t.Errorf("token requests: A %d, B %d, want 1 each", a, b)
	}
	if a, b := srvA.Rejected.Load(), srvB.Rejected.Load(); a != 0 || b != 0 {
		t.Errorf("rejected: A %d, B %d, want 0 (each host got its own profile's token)", a, b)
	}
	if u := srvA.usernames(); u["alpha"] == 0 || len(u) != 1 {
		t.Errorf("host A users: %v", u)
	}
	if u := srvB.usernames(); u["beta"] == 0 || len(u) != 1 {
		t.Errorf("host B users: %v", u)
	}
}

// A host no profile matches (same IP, another port) goes to the next helper
// in git's list, and lanyard stays silent and off the network.
func TestGitUnmatchedHostFallsThrough(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	srvA, _ := w.opServer(op, "oauth2")
	root := t.TempDir()
	w.bareRepo(root, "plain")
	srvC := startGitServer(t, w.git, root, func(u, p string) bool { return u == "x" && p == "y" })
	w.env.WriteConfig(t, ccProfile("a", op, fmt.Sprintf("match = [%q]", srvA.URL+"/")))
	w.gitConfig("credential.helper", "lanyard")
	w.gitConfig("--add", "credential.helper", "!f() { test \"$1\" = get || exit 0; echo username=x; echo password=y; }; f")

	out := w.must("", w.git, "clone", srvC.URL+"/plain.git", filepath.Join(t.TempDir(), "c"))
	if strings.Contains(out, "lanyard") {
		t.Errorf("lanyard spoke for an unmatched host:\n%s", out)
	}
	if n := op.TokenRequests(); n != 0 {
		t.Errorf("token requests: got %d, want 0", n)
	}
	if u := srvC.usernames(); u["x"] == 0 {
		t.Errorf("the second helper's credentials never arrived: %v", u)
	}
}

// A matched profile that needs a person: git without a terminal fails with
// lanyard's message naming the login command, instead of hanging.
func TestGitLoginRequired(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	srv, repo := w.opServer(op, "oauth2")
	w.env.WriteConfig(t, rtProfile("dev", op, fmt.Sprintf("match = [%q]", srv.URL+"/")))
	w.gitConfig("credential.helper", "lanyard --interactive")
	out, err := w.run("", w.git, "clone", repo, filepath.Join(t.TempDir(), "c"))
	if err == nil || !strings.Contains(out, `lanyard: profile "dev": not logged in; run: lanyard login dev`) {
		t.Fatalf("clone: err %v, output:\n%s", err, out)
	}
	w.importRefreshToken(op, "dev")
	w.must("", w.git, "clone", "-q", repo, filepath.Join(t.TempDir(), "c2"))
}

// TestGitDotSegmentsGetNoToken: git decodes %2e%2e, so the helper sees
// path=acme/../evil/x.git, and the acme/ prefix must not match it: a server
// that normalises paths would serve /evil/ with acme's token.
func TestGitDotSegmentsGetNoToken(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	var mu sync.Mutex
	var seen []string // paths of requests that carried credentials
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); ok {
			mu.Lock()
			seen = append(seen, r.URL.Path)
			mu.Unlock()
		}
		rw.Header().Set("WWW-Authenticate", `Basic realm="lanyard test git"`)
		http.Error(rw, "authentication required", http.StatusUnauthorized)
	}))
	defer srv.Close()
	w.env.WriteConfig(t, ccProfile("acme", op, fmt.Sprintf("match = [%q]", srv.URL+"/acme/")))
	w.gitConfig("credential.helper", "lanyard")
	w.gitConfig("credential.useHttpPath", "true")

	for _, path := range []string{"/acme/%2e%2e/evil/x.git", "/acme/%2E%2E/evil/x.git", "/acme/%2e/%2e%2e/evil/x.git"} {
		out, err := w.run("", w.git, "ls-remote", srv.URL+path)
		if err == nil {
			t.Errorf("git ls-remote %s succeeded:\n%s", path, out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 0 {
		t.Errorf("the server got credentials for %v, want none", seen)
	}
	if n := op.TokenRequests(); n != 0 {
		t.Errorf("token requests: got %d, want 0", n)
	}
}
