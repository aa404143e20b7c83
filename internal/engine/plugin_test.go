//go:build unix

package engine

// Grant plugins through the engine: testdata/lanyard-grant-test is a real
// plugin binary (built once per test process); its "mode" setting makes it
// crash, hang or fail, and every start is counted in a file.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/store"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

var (
	testPluginOnce sync.Once
	testPluginPath string
	testPluginErr  error
)

// testPlugin builds testdata/lanyard-grant-test once per test process.
func testPlugin(tb testing.TB) string {
	tb.Helper()
	testPluginOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lanyard-test-plugin-")
		if err != nil {
			testPluginErr = err
			return
		}
		testPluginPath = filepath.Join(dir, "lanyard-grant-test")
		cmd := exec.Command("go", "build", "-o", testPluginPath, "./internal/engine/testdata/lanyard-grant-test")
		cmd.Dir = testbin.Root(tb)
		if out, err := cmd.CombinedOutput(); err != nil {
			testPluginErr = fmt.Errorf("go build lanyard-grant-test: %v\n%s", err, out)
		}
	})
	if testPluginErr != nil {
		tb.Fatal(testPluginErr)
	}
	return testPluginPath
}

// pluginEnv is an engine whose plugin directory holds the test plugin.
type pluginEnv struct {
	e      *Engine
	dir    string // $XDG_DATA_HOME/lanyard/plugins
	starts string // file the test plugin appends its pid to
	stderr *syncBuffer
	vars   map[string]string
}

func newPluginEnv(tb testing.TB) *pluginEnv {
	tb.Helper()
	bin := testPlugin(tb)
	hostDir := testbin.Build(tb, "lanyard-plugin-host")
	home := tb.TempDir()
	env := &pluginEnv{
		dir:    filepath.Join(home, "data", "lanyard", "plugins"),
		starts: filepath.Join(home, "starts"),
		stderr: &syncBuffer{},
		vars: map[string]string{
			"HOME":                   home,
			"XDG_DATA_HOME":          filepath.Join(home, "data"),
			"PATH":                   "/nonexistent",
			"TEST_PASSWORD":          "s3cret",
			"LANYARD_PLUGIN_TIMEOUT": "20s",
			"LANYARD_PLUGIN_HOST":    filepath.Join(hostDir, "lanyard-plugin-host"),
		},
	}
	if err := os.MkdirAll(env.dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(env.dir, "lanyard-grant-test")); err != nil {
		tb.Fatal(err)
	}
	// The plugin process inherits lanyard's real environment.
	if t, ok := tb.(interface{ Setenv(string, string) }); ok {
		t.Setenv("LANYARD_TEST_PLUGIN_STARTS", env.starts)
	} else {
		os.Setenv("LANYARD_TEST_PLUGIN_STARTS", env.starts)
	}
	env.e = &Engine{
		Store:       store.NewWithKeyring(keyring.NewArrayKeyring(nil), "array"),
		StateDir:    filepath.Join(home, "state"),
		Now:         time.Now,
		LockTimeout: 30 * time.Second,
		Getenv:      func(k string) string { return env.vars[k] },
		UI:          env.stderr,
	}
	return env
}

// profile parses a plugin profile "p" with the given extra lines.
func (env *pluginEnv) profile(tb testing.TB, grantName string, lines ...string) *config.Profile {
	tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[profiles.p]\ngrant = %q\n", "plugin:"+grantName)
	var settings []string
	for _, l := range lines {
		if strings.HasPrefix(l, "plugin_sha256") {
			b.WriteString(l + "\n")
		} else {
			settings = append(settings, l)
		}
	}
	b.WriteString("[profiles.p.plugin]\nrequired = \"yes\"\npassword = \"env:TEST_PASSWORD\"\n")
	for _, l := range settings {
		b.WriteString(l + "\n")
	}
	f, err := config.Parse("plugins.toml", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return f.Profiles["p"]
}

// pids returns the pids of the plugin processes started so far.
func (env *pluginEnv) pids(tb testing.TB) []int {
	tb.Helper()
	data, err := os.ReadFile(env.starts)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		var pid int
		fmt.Sscan(f, &pid)
		out = append(out, pid)
	}
	return out
}

// wantStopped checks that every plugin process is gone: lanyard stops
// (and reaps) a plugin before Token returns.
func (env *pluginEnv) wantStopped(t *testing.T) {
	t.Helper()
	for _, pid := range env.pids(t) {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("plugin process %d still exists after the call (kill -0: %v)", pid, err)
		}
	}
}

func TestPluginTokenCachedAndStateCarried(t *testing.T) {
	env := newPluginEnv(t)
	p := env.profile(t, "test")
	ctx := t.Context()

	tok, err := env.e.Token(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok-1-s3cret" || tok.State != "n=1" || tok.TokenType != "Bearer" {
		t.Fatalf("got %q state %q type %q, want tok-1-s3cret, n=1, Bearer (secret resolved by lanyard)", tok.AccessToken, tok.State, tok.TokenType)
	}
	if got := tok.Expiry.Sub(tok.Obtained); got < 59*time.Minute || got > 61*time.Minute {
		t.Errorf("got lifetime %s, want about 1h", got)
	}
	if !reflect.DeepEqual(tok.Scope, []string{"read", "write"}) {
		t.Errorf("got scope %v, want [read write] from extra", tok.Scope)
	}
	if n := len(env.pids(t)); n != 1 {
		t.Fatalf("got %d plugin starts, want 1", n)
	}
	env.wantStopped(t)

	// Cache hit: same token, no start.
	again, err := env.e.Token(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken != tok.AccessToken {
		t.Errorf("cache hit: got %q, want %q", again.AccessToken, tok.AccessToken)
	}
	if n := len(env.pids(t)); n != 1 {
		t.Fatalf("cache hit started the plugin: %d starts, want 1", n)
	}

	// A forced refresh runs it again with the state it returned.
	forced, err := env.e.Token(ctx, p, Options{ForceRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if forced.AccessToken != "tok-2-s3cret" || forced.State != "n=2" {
		t.Errorf("forced: got %q state %q, want tok-2-s3cret n=2 (previous state passed)", forced.AccessToken, forced.State)
	}

	// git's erase after a 401 drops the access token, keeps the state.
	if err := env.e.Invalidate(ctx, p, forced.AccessToken); err != nil {
		t.Fatal(err)
	}
	after, err := env.e.Token(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken != "tok-3-s3cret" {
		t.Errorf("after invalidate: got %q, want tok-3-s3cret", after.AccessToken)
	}

	// Edited settings: the old state is not handed to the plugin.
	edited := env.profile(t, "test", `ttl = "2h"`)
	fresh, err := env.e.Token(ctx, edited, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken != "tok-1-s3cret" {
		t.Errorf("after a settings edit: got %q, want tok-1-s3cret (state reset)", fresh.AccessToken)
	}
	if n := len(env.pids(t)); n != 4 {
		t.Errorf("got %d plugin starts, want 4", n)
	}
	env.wantStopped(t)
}

func TestPluginLogin(t *testing.T) {
	env := newPluginEnv(t)
	p := env.profile(t, "test")
	tok, err := env.e.Login(t.Context(), p, LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok-1-s3cret" {
		t.Fatalf("got %q, want tok-1-s3cret", tok.AccessToken)
	}
	if _, err := env.e.Store.Token("p"); err != nil {
		t.Fatalf("login did not save: %v", err)
	}
}

// TestPluginFailuresKeepCache: every way a plugin run can fail gives an
// error that says what happened, and leaves the stored token and state as
// they were.
func TestPluginFailuresKeepCache(t *testing.T) {
	tests := []struct {
		name    string
		grant   string
		lines   []string
		setup   func(t *testing.T, env *pluginEnv)
		want    []string
		starts  int
		timeout string
	}{
		{name: "crash", grant: "test", lines: []string{`mode = "crash"`}, starts: 1,
			want: []string{`grant plugin "test" exited during the Token call`, "--debug"}},
		{name: "hang", grant: "test", lines: []string{`mode = "hang"`}, starts: 1, timeout: "1s",
			want: []string{`grant plugin "test" did not answer Token within 1s; it was stopped`, "LANYARD_PLUGIN_TIMEOUT"}},
		{name: "plugin error", grant: "test", lines: []string{`mode = "fail"`}, starts: 1,
			want: []string{`grant plugin "test": upstream said no`}},
		{name: "plugin setting error", grant: "test", lines: []string{`mode = "bad-setting"`}, starts: 1,
			want: []string{"setting required: must be yes", "fix [profiles.p.plugin] in plugins.toml:"}},
		{name: "unknown setting", grant: "test", lines: []string{`colour = "red"`}, starts: 1,
			want: []string{"setting colour: plugin test does not know it; it reads mode, ttl, password, required", "fix [profiles.p.plugin]"}},
		{name: "secret in clear", grant: "test", lines: nil, starts: 1,
			setup: func(t *testing.T, env *pluginEnv) {},
			want:  []string{"setting password: is a secret: write a reference", "lanyard secret set p password"}},
		{name: "secret reference unresolvable", grant: "test", starts: 0,
			setup: func(t *testing.T, env *pluginEnv) { delete(env.vars, "TEST_PASSWORD") },
			want:  []string{`password = "env:TEST_PASSWORD" but environment variable TEST_PASSWORD is empty or unset`}},
		{name: "wrong handshake", grant: "bogus", starts: 0,
			setup: func(t *testing.T, env *pluginEnv) {
				writeScript(t, filepath.Join(env.dir, "lanyard-grant-bogus"), "#!/bin/sh\necho 'hello, I am not a plugin'\n")
			},
			want: []string{`grant plugin "bogus" at `, "did not complete lanyard's plugin handshake", `it printed "hello, I am not a plugin" instead of the handshake line`, "plugin.Serve"}},
		{name: "exits at once", grant: "silent", starts: 0,
			setup: func(t *testing.T, env *pluginEnv) {
				writeScript(t, filepath.Join(env.dir, "lanyard-grant-silent"), "#!/bin/sh\nexit 0\n")
			},
			want: []string{"did not complete lanyard's plugin handshake (it exited without printing the handshake line)"}},
		{name: "checksum mismatch", grant: "test", starts: 0,
			lines: []string{`plugin_sha256 = "` + strings.Repeat("ab", 32) + `"`},
			want:  []string{"plugin_sha256 pins " + strings.Repeat("ab", 32) + "; it was not run", "has sha256 "}},
		{name: "not found", grant: "nope", starts: 0,
			want: []string{`grant plugin "nope" not found: no executable lanyard-grant-nope in `, "or on PATH", "lanyard plugins"}},
		{name: "bad name", grant: "../test", starts: 0,
			want: []string{`plugin name "../test" is not valid`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newPluginEnv(t)
			if tt.timeout != "" {
				env.vars["LANYARD_PLUGIN_TIMEOUT"] = tt.timeout
			}
			if tt.setup != nil {
				tt.setup(t, env)
			}
			p := env.profile(t, tt.grant, tt.lines...)
			if tt.name == "secret in clear" {
				p.Plugin["password"] = "s3cret"
			}
			// A stale token with plugin state, as a previous run left it.
			now := time.Now().Round(0)
			before := &Token{Key: p.CacheKey(), AccessToken: "old", TokenType: "Bearer", Expiry: now.Add(-time.Minute),
				Obtained: now.Add(-time.Hour), State: "n=41"}
			if err := env.e.Store.SaveToken("p", before); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			tok, err := env.e.Token(t.Context(), p, Options{})
			took := time.Since(start)
			if err == nil {
				t.Fatalf("got token %q, want an error", tok.AccessToken)
			}
			t.Logf("error (%s): %v", took.Round(time.Millisecond), err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), `profile "p": `) {
				t.Errorf("got error %q, want it to name the profile", err)
			}
			after, serr := env.e.Store.Token("p")
			if serr != nil || !sameToken(after, before) {
				t.Errorf("stored token after the failure: got %+v (%v), want it unchanged %+v", after, serr, before)
			}
			if n := len(env.pids(t)); n != tt.starts {
				t.Errorf("got %d plugin starts, want %d", n, tt.starts)
			}
			if took > 15*time.Second {
				t.Errorf("took %s, want the failure reported promptly", took)
			}
			env.wantStopped(t)
		})
	}
}

// TestPluginCanceled: a caller that gives up (Ctrl-C, kubectl's timeout)
// stops the host and its plugin, and the cache stays as it was.
func TestPluginCanceled(t *testing.T) {
	env := newPluginEnv(t)
	p := env.profile(t, "test", `mode = "hang"`)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := env.e.Token(ctx, p, Options{})
	t.Logf("error after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), `grant plugin "test"`) {
		t.Fatalf("got %v, want an error naming the plugin", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s after the caller gave up at 2s", took)
	}
	if n := len(env.pids(t)); n != 1 {
		t.Fatalf("got %d starts, want 1", n)
	}
	env.wantStopped(t)
	if tok, _ := env.e.Store.Token("p"); tok != nil {
		t.Errorf("a canceled run stored %+v", tok)
	}
}

func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestPluginPinnedChecksumRuns(t *testing.T) {
	env := newPluginEnv(t)
	sum, err := grant.FileSHA256(testPlugin(t))
	if err != nil {
		t.Fatal(err)
	}
	p := env.profile(t, "test", `plugin_sha256 = "`+strings.ToUpper(sum)+`"`)
	tok, err := env.e.Token(t.Context(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok-1-s3cret" {
		t.Errorf("got %q, want tok-1-s3cret", tok.AccessToken)
	}
}

func TestPluginSearchPathOrder(t *testing.T) {
	env := newPluginEnv(t)
	onPath := t.TempDir()
	writeScript(t, filepath.Join(onPath, "lanyard-grant-test"), "#!/bin/sh\nexit 1\n")
	writeScript(t, filepath.Join(onPath, "lanyard-grant-other"), "#!/bin/sh\nexit 1\n")
	env.vars["PATH"] = "relative/dir" + string(os.PathListSeparator) + onPath
	h := env.e.PluginHost()
	if got, err := h.Find("test"); err != nil || got != filepath.Join(env.dir, "lanyard-grant-test") {
		t.Errorf("Find(test) = %q, %v; want the plugin directory's, ahead of PATH", got, err)
	}
	if got, err := h.Find("other"); err != nil || got != filepath.Join(onPath, "lanyard-grant-other") {
		t.Errorf("Find(other) = %q, %v; want the one on PATH", got, err)
	}
	if len(h.Dirs) != 2 || h.Dirs[0] != env.dir || h.Dirs[1] != onPath {
		t.Errorf("got search path %v, want [%s %s] (relative PATH entries skipped)", h.Dirs, env.dir, onPath)
	}
}

// TestPluginDebugLogs: the plugin's hclog lines reach lanyard's stderr:
// warnings always, debug lines only with --debug. Secrets never do.
func TestPluginDebugLogs(t *testing.T) {
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprint("debug=", debug), func(t *testing.T) {
			env := newPluginEnv(t)
			if debug {
				env.e.Log = debugLogger(env.stderr)
			}
			_, err := env.e.Token(t.Context(), env.profile(t, "test", `mode = "fail"`), Options{})
			if err == nil {
				t.Fatal("want an error")
			}
			out := env.stderr.String()
			if !strings.Contains(out, "about to fail") {
				t.Errorf("stderr %q: want the plugin's warning", out)
			}
			if got := strings.Contains(out, "token requested"); got != debug {
				t.Errorf("stderr has the plugin's debug line: %v, want %v:\n%s", got, debug, out)
			}
			if strings.Contains(out, "s3cret") {
				t.Errorf("stderr shows the secret setting:\n%s", out)
			}
		})
	}
}

// TestPluginConcurrentStartsOnce: callers racing on a stale plugin token
// start the plugin once; the rest wait for the lock and find the new token.
func TestPluginConcurrentStartsOnce(t *testing.T) {
	env := newPluginEnv(t)
	p := env.profile(t, "test")
	const n = 16
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	dir := t.TempDir()
	for i := range n {
		wg.Go(func() {
			// Its own engine and keyring handle, as separate processes have.
			e := *env.e
			e.Store = fileStore(t, dir)
			tok, err := e.Token(t.Context(), p, Options{})
			errs[i] = err
			if tok != nil {
				got[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != "tok-1-s3cret" {
			t.Errorf("caller %d: got %q, %v; want tok-1-s3cret", i, got[i], errs[i])
		}
	}
	if starts := len(env.pids(t)); starts != 1 {
		t.Errorf("%d concurrent callers started the plugin %d times, want 1", n, starts)
	}
}

// TestPluginCacheHitStartsNothing is the benchmark's claim as a test: a
// fresh cached token for a plugin profile never starts the plugin.
func TestPluginCacheHitStartsNothing(t *testing.T) {
	env := newPluginEnv(t)
	p := env.profile(t, "test")
	if _, err := env.e.Token(t.Context(), p, Options{}); err != nil {
		t.Fatal(err)
	}
	before := len(env.pids(t))
	for range 100 {
		if _, err := env.e.Token(t.Context(), p, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(env.pids(t)) - before; got != 0 {
		t.Fatalf("100 cache hits started the plugin %d times, want 0", got)
	}
}

// BenchmarkPluginCacheHit measures Token on a plugin profile with a fresh
// cached token and reports plugin starts per op (want 0).
func BenchmarkPluginCacheHit(b *testing.B) {
	env := newPluginEnv(b)
	p := env.profile(b, "test")
	ctx := context.Background()
	if _, err := env.e.Token(ctx, p, Options{}); err != nil {
		b.Fatal(err)
	}
	before := len(env.pids(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.e.Token(ctx, p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	starts := len(env.pids(b)) - before
	b.ReportMetric(float64(starts)/float64(b.N), "starts/op")
	if starts != 0 {
		b.Fatalf("cache hits started the plugin %d times, want 0", starts)
	}
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// syncBuffer is a bytes.Buffer safe for the goroutines go-plugin logs from.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sameToken compares stored token state as the store keeps it (JSON).
func sameToken(a, b *Token) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestPluginChildEnvironment: the plugin host and its plugin never see the
// keyring passphrase nor another profile's env: secret, but keep PATH,
// HOME, proxy settings and locale.
func TestPluginChildEnvironment(t *testing.T) {
	env := newPluginEnv(t)
	for k, v := range map[string]string{
		"LANYARD_KEYRING_PASSPHRASE": "pp", "OTHER_SECRET": "x", "HTTPS_PROXY": "http://127.0.0.1:9", "LC_ALL": "C",
	} {
		t.Setenv(k, v)
	}
	f, err := config.Parse("plugins.toml", []byte(`
[profiles.p]
grant = "plugin:test"
[profiles.p.plugin]
required = "yes"
mode = "env"
probe = "LANYARD_KEYRING_PASSPHRASE,OTHER_SECRET,PATH,HOME,HTTPS_PROXY,LC_ALL"

[profiles.q]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:OTHER_SECRET"
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.e.Token(t.Context(), f.Profiles["p"], Options{})
	if err == nil || !strings.Contains(err.Error(), "sees [PATH HOME HTTPS_PROXY LC_ALL]") {
		t.Fatalf("got %v, want the plugin to see PATH HOME HTTPS_PROXY LC_ALL and nothing secret", err)
	}
}

// TestPluginHostNeverFromPATH: a lanyard-plugin-host early on PATH (a
// cloned repository's bin/, say) is never run.
func TestPluginHostNeverFromPATH(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, grant.PluginHostName), []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	got := pluginHostPaths(func(k string) string { return map[string]string{"PATH": dir}[k] })
	if want := []string{filepath.Join(filepath.Dir(exe), grant.PluginHostName)}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want only %q", got, want)
	}
	got = pluginHostPaths(func(k string) string {
		return map[string]string{"PATH": dir, "LANYARD_PLUGIN_HOST": "/opt/lanyard/lanyard-plugin-host"}[k]
	})
	if want := []string{"/opt/lanyard/lanyard-plugin-host"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want only %q", got, want)
	}
}
