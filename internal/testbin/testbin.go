// Package testbin builds lanyard's binaries once per test process and gives
// end-to-end tests an isolated environment (HOME, XDG dirs, encrypted file
// keyring) so they never touch the developer's own tokens.
package testbin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
)

var (
	mu    sync.Mutex
	dir   string
	built = map[string]bool{}
)

// Root returns the repository root (where go.mod is).
func Root(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Build compiles the named commands (e.g. "lanyard", "git-credential-lanyard")
// from ./cmd/NAME into one shared directory and returns it, for PATH. With
// LANYARD_TEST_BIN=DIR it builds nothing and returns DIR, so end-to-end tests
// run against installed binaries (CI: the .deb's /usr/bin).
func Build(tb testing.TB, names ...string) string {
	tb.Helper()
	if installed := os.Getenv("LANYARD_TEST_BIN"); installed != "" {
		for _, n := range append(names, "lanyard-engine") {
			if _, err := exec.LookPath(filepath.Join(installed, n)); err != nil {
				tb.Fatalf("LANYARD_TEST_BIN=%s: %v", installed, err)
			}
		}
		return installed
	}
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		d, err := os.MkdirTemp("", "lanyard-bin-")
		if err != nil {
			tb.Fatal(err)
		}
		dir = d
	}
	// The thin fronts exec lanyard-engine, found next to them.
	names = append(names, "lanyard-engine")
	var todo []string
	for _, n := range names {
		if !built[n] {
			todo = append(todo, "./cmd/"+n)
		}
	}
	if len(todo) > 0 {
		args := append([]string{"build", "-o", dir + string(os.PathSeparator)}, todo...)
		cmd := exec.Command("go", args...)
		cmd.Dir = Root(tb)
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("go build %s: %v\n%s", strings.Join(todo, " "), err, out)
		}
		for _, n := range names {
			built[n] = true
		}
	}
	return dir
}

// Env is an isolated environment for running lanyard binaries.
type Env struct {
	Bin        string
	Home       string
	ConfigPath string
	Passphrase string
	// AgentSocket is the agent socket of this environment.
	AgentSocket string
	vars        []string
}

// NewEnv makes a temp HOME with XDG dirs, the file keyring backend with a
// passphrase, LANYARD_CONFIG at Home/config.toml, and bin first on PATH.
func NewEnv(tb testing.TB, bin string) *Env {
	tb.Helper()
	home := tb.TempDir()
	e := &Env{Bin: bin, Home: home, ConfigPath: filepath.Join(home, "config.toml"), Passphrase: "test-passphrase"}
	e.vars = []string{
		"HOME=" + home,
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"LANYARD_CONFIG=" + e.ConfigPath,
		"LANYARD_KEYRING_BACKEND=file",
		"LANYARD_KEYRING_PASSPHRASE=" + e.Passphrase,
		"LANG=C",
		"TMPDIR=" + os.TempDir(),
	}
	e.agentSetup(tb)
	return e
}

// agentSetup gives the environment an agent of its own: a socket in a
// short temp dir (unix socket paths are limited to about 100 bytes), and a
// cleanup that stops the agent a helper started and waits until it has
// exited. With LANYARD_AGENT=off in the test's own environment (make
// test-agent-off), every binary answers in-process instead.
func (e *Env) agentSetup(tb testing.TB) {
	if env.Env(os.Getenv).AgentOff() {
		e.vars = append(e.vars, "LANYARD_AGENT=off")
	}
	// A socket of its own even when off: a test that turns the agent on
	// for a while must not start one on a path nobody stops.
	dir, err := os.MkdirTemp("", "lya")
	if err != nil {
		tb.Fatal(err)
	}
	e.AgentSocket = filepath.Join(dir, "agent.sock")
	e.vars = append(e.vars, "LANYARD_AGENT_SOCK="+e.AgentSocket)
	tb.Cleanup(func() {
		if err := e.StopAgent(); err != nil {
			tb.Error(err)
		}
		os.RemoveAll(dir)
	})
}

// ForgetAgent makes the environment's agent, if one runs, drop what it
// holds in memory: for tests that change the token store behind its back
// (as lanyard login and logout tell it themselves).
func (e *Env) ForgetAgent(tb testing.TB) {
	tb.Helper()
	if e.AgentSocket == "" {
		return
	}
	_, err := client.New(e.Getenv, io.Discard, false).Ask(context.Background(), &wire.Request{Op: wire.OpForget})
	if err != nil && !errors.Is(err, client.ErrNoAgent) {
		tb.Fatal(err)
	}
}

// StopAgent stops the environment's agent, if one runs, and returns once it
// has exited (it holds the socket's lock file until then).
func (e *Env) StopAgent() error {
	if e.AgentSocket == "" {
		return nil
	}
	_, err := client.New(e.Getenv, io.Discard, false).Ask(context.Background(), &wire.Request{Op: wire.OpStop})
	if errors.Is(err, client.ErrNoAgent) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stopping the test's agent: %w", err)
	}
	lock, err := os.OpenFile(e.AgentSocket+".lock", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	defer lock.Close()
	return waitUnlocked(lock, 10*time.Second)
}

// Set adds or replaces one variable.
func (e *Env) Set(key, value string) {
	for i, kv := range e.vars {
		if strings.HasPrefix(kv, key+"=") {
			e.vars[i] = key + "=" + value
			return
		}
	}
	e.vars = append(e.vars, key+"="+value)
}

// Vars returns the environment as KEY=VALUE strings for exec.Cmd.Env.
func (e *Env) Vars() []string { return append([]string(nil), e.vars...) }

// Getenv looks a variable up, for calling Main functions in-process.
func (e *Env) Getenv(key string) string {
	for _, kv := range e.vars {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// WriteConfig writes the profiles file.
func (e *Env) WriteConfig(tb testing.TB, toml string) {
	tb.Helper()
	if err := os.WriteFile(e.ConfigPath, []byte(toml), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// Command returns an exec.Cmd for name with the environment set. A name
// built by Build runs from the build directory; others come from PATH.
func (e *Env) Command(name string, args ...string) *exec.Cmd {
	path := name
	if !strings.ContainsRune(name, os.PathSeparator) {
		if _, err := os.Stat(filepath.Join(e.Bin, name)); err == nil {
			path = filepath.Join(e.Bin, name)
		}
	}
	cmd := exec.Command(path, args...)
	cmd.Env = e.Vars()
	cmd.Dir = e.Home
	return cmd
}

// Run runs name (as Command does) with stdin and returns its stdout,
// stderr and exit code; a failure to start it fails the test.
func (e *Env) Run(tb testing.TB, stdin, name string, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	cmd := e.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// NeedTool returns the path of an external tool an end-to-end test drives
// (git, kubectl, crane, http, newman). Locally a missing tool skips the test
// with a message; in CI (LANYARD_E2E_REQUIRED=1, set by .ci/run) it fails,
// so CI never goes green by skipping.
func NeedTool(tb testing.TB, name string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	root := Root(tb)
	for _, p := range []string{filepath.Join(root, "bin", name), filepath.Join(root, "node_modules", ".bin", name)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("LANYARD_E2E_REQUIRED") != "" {
		tb.Fatalf("%s is required (LANYARD_E2E_REQUIRED is set) but not installed; .ci/run installs it", name)
	}
	tb.Skipf("%s not installed; skipping (bash .ci/run installs it)", name)
	return ""
}

// NeedToolEnv returns the executable the environment variable key names
// (a tool CI builds outside PATH, such as a newer git: .ci/install.d sets
// LANYARD_GIT_NEW). When key is unset or names no executable, it fails
// under LANYARD_E2E_REQUIRED and skips otherwise; what says what the tool
// is, for the message.
func NeedToolEnv(tb testing.TB, key, what string) string {
	tb.Helper()
	p := os.Getenv(key)
	if p != "" {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("LANYARD_E2E_REQUIRED") != "" {
		tb.Fatalf("%s is required (LANYARD_E2E_REQUIRED is set) but %s=%q is not an executable; .ci/run builds it", what, key, p)
	}
	tb.Skipf("%s not available (set %s, or run bash .ci/run); skipping", what, key)
	return ""
}
