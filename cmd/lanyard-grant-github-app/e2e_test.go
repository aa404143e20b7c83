package main

// The reference plugin as people use it: built as a binary, found by the
// engine, run on the slow path only; then through the lanyard CLI and real
// git, which pushes to a 127.0.0.1 git server that accepts only
// x-access-token with an installation token the fake GitHub issued.

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/keyring"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/store"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// profileTOML is the profile of DESIGN.md's plugin section, pointed at the fake.
func profileTOML(f *fakeGitHub, keyPath, match string) string {
	return fmt.Sprintf(`[profiles.acme-bot]
grant = "plugin:github-app"
match = [%q]
git_username = "x-access-token"
[profiles.acme-bot.plugin]
app_id = %q
installation_id = %q
private_key = "file:%s"
api_url = %q
`, match, f.appID, f.installationID, keyPath, f.APIURL())
}

func writeKey(t *testing.T, dir, pemText string) string {
	t.Helper()
	p := filepath.Join(dir, "acme-bot.pem")
	if err := os.WriteFile(p, []byte(pemText), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestThroughEngine: grant = "plugin:github-app", the plugin binary found
// on PATH (the host at LANYARD_PLUGIN_HOST), the private key resolved by lanyard from a file: reference.
func TestThroughEngine(t *testing.T) {
	bin := testbin.Build(t, "lanyard-grant-github-app", "lanyard-plugin-host")
	k := appKey(t)
	f := startFakeGitHub(t, &k.PublicKey, "123456", "7890", "")
	home := t.TempDir()
	cfgPath := filepath.Join(home, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(profileTOML(f, writeKey(t, home, pemPKCS8(t, k)), "https://github.com/acme/")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Profile("acme-bot")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HOME": home, "XDG_DATA_HOME": filepath.Join(home, "data"), "PATH": bin, "LANYARD_PLUGIN_HOST": filepath.Join(bin, "lanyard-plugin-host")}
	var stderr bytes.Buffer
	e := &engine.Engine{
		Store:    store.NewWithKeyring(keyring.NewArrayKeyring(nil), "array"),
		StateDir: filepath.Join(home, "state"),
		Getenv:   func(k string) string { return vars[k] },
		UI:       &stderr,
	}
	tok, err := e.Token(t.Context(), p, engine.Options{})
	if err != nil {
		t.Fatalf("got %v (server refused: %v; stderr: %s)", err, f.Rejected(), stderr.String())
	}
	if !f.Valid(engine.Handout(tok, p).Value) {
		t.Fatalf("got %q, not a token the fake GitHub issued", engine.Handout(tok, p).Value)
	}
	if !strings.HasPrefix(tok.AccessToken, "ghs_") || tok.TokenType != "Bearer" {
		t.Errorf("got %q type %q", tok.AccessToken, tok.TokenType)
	}
	for range 5 {
		again, err := e.Token(t.Context(), p, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if again.AccessToken != tok.AccessToken {
			t.Fatalf("cache hit: got %q, want %q", again.AccessToken, tok.AccessToken)
		}
	}
	if n := f.Requests(); n != 1 {
		t.Errorf("got %d token requests for 6 Token calls, want 1 (cache hits do not run the plugin)", n)
	}
	// A 401 from git: erase, then a fresh installation token.
	if err := e.Invalidate(t.Context(), p, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	next, err := e.Token(t.Context(), p, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if next.AccessToken == tok.AccessToken || !f.Valid(next.AccessToken) || f.Requests() != 2 {
		t.Errorf("after invalidate: got %q (requests %d), want a new valid token from a second request", next.AccessToken, f.Requests())
	}
}

// TestEndToEnd: lanyard plugins, lanyard token and a real git push, each a
// separate process, as a person or CI runs them.
func TestEndToEnd(t *testing.T) {
	gitPath := testbin.NeedTool(t, "git")
	bin := testbin.Build(t, "lanyard", "git-credential-lanyard", "lanyard-grant-github-app", "lanyard-plugin-host")
	k := appKey(t)
	gh := startFakeGitHub(t, &k.PublicKey, "123456", "7890", "")
	repo := startGitServer(t, gitPath, gh)
	env := testbin.NewEnv(t, bin)
	// Installed where lanyard looks first: $XDG_DATA_HOME/lanyard/plugins.
	pluginDir := filepath.Join(env.Getenv("XDG_DATA_HOME"), "lanyard", "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(bin, "lanyard-grant-github-app"))
	if err != nil {
		t.Fatal(err)
	}
	pluginPath := filepath.Join(pluginDir, "lanyard-grant-github-app")
	if err := os.WriteFile(pluginPath, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := grant.FileSHA256(pluginPath)
	if err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, name string, args ...string) (string, string, error) {
		t.Helper()
		cmd := env.Command(name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}

	// lanyard plugins: the copy in the plugin directory is the one used,
	// the one on PATH is shadowed.
	out, stderr, err := run("", "lanyard", "plugins")
	if err != nil {
		t.Fatalf("lanyard plugins: %v\n%s", err, stderr)
	}
	var used, shadowed bool
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "github-app" && f[1] == "dev" && f[2] == sum && f[3] == pluginPath:
			used = true
		case len(f) > 0 && f[0] == "github-app" && strings.Contains(line, "(not used: shadowed by "+pluginPath+")"):
			shadowed = true
		}
	}
	if !used || !shadowed {
		t.Errorf("lanyard plugins printed:\n%s\nwant github-app dev %s %s, and the copy on PATH shadowed", out, sum, pluginPath)
	}

	keyPath := writeKey(t, env.Home, pemPKCS1(k))
	pinned := func(pin string) string {
		// plugin_sha256 belongs to the profile table, before its .plugin table.
		return strings.Replace(profileTOML(gh, keyPath, repo.base+"/acme/"),
			"[profiles.acme-bot.plugin]", fmt.Sprintf("plugin_sha256 = %q\n[profiles.acme-bot.plugin]", pin), 1)
	}
	env.WriteConfig(t, pinned(strings.Repeat("0", 64)))
	_, stderr, err = run("", "lanyard", "token", "acme-bot")
	if err == nil || !strings.Contains(stderr, "plugin_sha256 pins 0000") || gh.Requests() != 0 {
		t.Fatalf("with a wrong pin: err %v, stderr %q, %d token requests; want a refusal and no request", err, stderr, gh.Requests())
	}
	env.WriteConfig(t, pinned(sum))

	out, stderr, err = run("", "lanyard", "token", "acme-bot")
	if err != nil {
		t.Fatalf("lanyard token: %v\n%s (server refused: %v)", err, stderr, gh.Rejected())
	}
	token := strings.TrimSpace(out)
	if !gh.Valid(token) {
		t.Fatalf("lanyard token printed %q, not a token the fake GitHub issued", token)
	}

	// git: clone, commit, push, as the app, through git-credential-lanyard.
	work := filepath.Join(env.Home, "work")
	gitRun := func(dir string, args ...string) string {
		t.Helper()
		full := append([]string{"-c", "credential.helper=", "-c", "credential.helper=lanyard",
			"-c", "user.name=acme-bot", "-c", "user.email=bot@example.com", "-c", "init.defaultBranch=main"}, args...)
		cmd := env.Command(gitPath, full...)
		if dir != "" {
			cmd.Dir = dir
		}
		cmd.Env = append(cmd.Env, "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s\n(git server saw: %v)", strings.Join(args, " "), err, out, repo.seen())
		}
		return string(out)
	}
	gitRun("", "clone", repo.base+"/acme/app.git", work)
	if err := os.WriteFile(filepath.Join(work, "README"), []byte("pushed by the app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(work, "add", "README")
	gitRun(work, "commit", "-m", "as the app")
	gitRun(work, "push", "origin", "HEAD:main")

	log, err := exec.Command(gitPath, "--git-dir", repo.dir, "log", "--format=%an: %s", "main").CombinedOutput()
	if err != nil || strings.TrimSpace(string(log)) != "acme-bot: as the app" {
		t.Fatalf("server repository log: %q, %v; want the pushed commit", log, err)
	}
	for _, a := range repo.seen() {
		if a.user != "" && (a.user != "x-access-token" || a.pass != token) {
			t.Errorf("git sent %s:%s…, want x-access-token with the cached installation token", a.user, a.pass[:min(8, len(a.pass))])
		}
	}
	if repo.authorized() == 0 {
		t.Error("the git server saw no authorized request")
	}
	if n := gh.Requests(); n != 1 {
		t.Errorf("got %d installation token requests for token, clone and push, want 1 (cached)", n)
	}

	// --debug shows the plugin's own log, and no secret.
	out, stderr, err = run("", "lanyard", "--debug", "token", "--force-refresh", "acme-bot")
	if err != nil {
		t.Fatalf("lanyard --debug token: %v\n%s", err, stderr)
	}
	fresh := strings.TrimSpace(out)
	if !gh.Valid(fresh) || fresh == token {
		t.Errorf("--force-refresh printed %q, want a new valid token", fresh)
	}
	if !strings.Contains(stderr, "lanyard-grant-github-app: requesting installation token") {
		t.Errorf("--debug stderr lacks the plugin's debug line:\n%s", stderr)
	}
	keyBody := strings.Split(pemPKCS1(k), "\n")[1]
	for _, secret := range []string{fresh, token, keyBody, "eyJ"} {
		if strings.Contains(stderr, secret) {
			t.Errorf("--debug stderr shows a secret (%.12s…):\n%s", secret, stderr)
		}
	}
}

// gitServer serves bare repositories with git http-backend behind Basic
// auth that accepts only x-access-token and a valid installation token.
type gitServer struct {
	base string
	dir  string // the bare repository acme/app.git

	mu    sync.Mutex
	auths []basicAuth
}

type basicAuth struct{ user, pass string }

func (g *gitServer) seen() []basicAuth {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]basicAuth(nil), g.auths...)
}

func (g *gitServer) authorized() int {
	n := 0
	for _, a := range g.seen() {
		if a.user != "" {
			n++
		}
	}
	return n
}

func startGitServer(t *testing.T, gitPath string, gh *fakeGitHub) *gitServer {
	t.Helper()
	root := t.TempDir()
	g := &gitServer{dir: filepath.Join(root, "acme", "app.git")}
	for _, args := range [][]string{
		{"init", "--bare", "--initial-branch=main", g.dir},
		{"--git-dir", g.dir, "config", "http.receivepack", "true"},
	} {
		if out, err := exec.Command(gitPath, args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	execPath, err := exec.Command(gitPath, "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		g.mu.Lock()
		g.auths = append(g.auths, basicAuth{user, pass})
		g.mu.Unlock()
		if !ok || user != "x-access-token" || !gh.Valid(pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.base = srv.URL
	return g
}
