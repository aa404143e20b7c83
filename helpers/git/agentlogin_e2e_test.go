//go:build !windows

package git_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/env"
)

// ideWorld is a Gitea-shaped forge with a gitea profile written by
// lanyard init (no login yet) and git set up for it, and git run the way
// an IDE runs it: no controlling terminal, a desktop (the scripted
// browser in BROWSER).
func ideWorld(t *testing.T) (*world, *testForge) {
	w := newWorld(t)
	op := startOP(t)
	f := w.startForge(op, "Gitea")
	w.must("", "lanyard", "init", "gitea", f.URL, "--client-id", op.PublicClientID, "--yes", "--no-login")
	w.env.Set("DISPLAY", ":99")
	return w, f
}

// runDetached runs git without a controlling terminal (setsid), as an IDE
// does, and returns its combined output.
func (w *world) runDetached(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, w.git, args...)
	cmd.Env = w.env.Vars()
	cmd.Dir = w.env.Home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestGitIDEFourCallersOneBrowserLogin: four git ls-remote processes
// without a terminal need a login at once; the agent opens the browser
// once, and all four succeed when that one login completes.
func TestGitIDEFourCallersOneBrowserLogin(t *testing.T) {
	w, f := ideWorld(t)
	w.env.Set("GIT_TERMINAL_PROMPT", "") // as an IDE leaves it
	login := w.scriptedBrowser(f)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	outs, errs := make([]string, 4), make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = w.runDetached(ctx, "ls-remote", f.repo)
		}()
	}
	if err := <-login; err != nil {
		t.Fatalf("browser: %v", err)
	}
	wg.Wait()
	for i := range 4 {
		if errs[i] != nil || !strings.Contains(outs[i], "refs/heads/main") {
			t.Errorf("git ls-remote #%d: %v\n%s", i, errs[i], outs[i])
		}
	}
	b, _ := os.ReadFile(w.browserLog)
	if n := strings.Count(string(b), "opened"); n != 1 {
		t.Errorf("the browser was opened %d times, want once", n)
	}
	if n := f.op.TokenRequests(); n != 1 {
		t.Errorf("%d token requests, want 1 (one login)", n)
	}
}

// TestGitIDENoPromptFailsAtOnce: the same with GIT_TERMINAL_PROMPT=0 (or
// LANYARD_NONINTERACTIVE=1): no login, no browser, a failure at once that
// names the command to run.
func TestGitIDENoPromptFailsAtOnce(t *testing.T) {
	for _, v := range [][2]string{{"GIT_TERMINAL_PROMPT", "0"}, {"LANYARD_NONINTERACTIVE", "1"}, {"credential.interactive", "false"}} {
		t.Run(v[0], func(t *testing.T) {
			w, f := ideWorld(t)
			w.env.Set("GIT_TERMINAL_PROMPT", "")
			if strings.Contains(v[0], ".") {
				w.gitConfig(v[0], v[1]) // git 2.47's "never ask"
			} else {
				w.env.Set(v[0], v[1])
			}
			w.scriptedBrowser(f)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			start := time.Now()
			out, err := w.runDetached(ctx, "ls-remote", f.repo)
			took := time.Since(start)
			if err == nil {
				t.Fatalf("ls-remote succeeded without a login:\n%s", out)
			}
			if !strings.Contains(out, "run: lanyard login gitea") {
				t.Errorf("output does not name the command:\n%s", out)
			}
			if b, _ := os.ReadFile(w.browserLog); len(b) != 0 {
				t.Errorf("a browser was opened: %s", b)
			}
			if took > 30*time.Second { // a login would wait login_timeout (3m)
				t.Errorf("took %s, want a failure at once", took)
			}
		})
	}
}

// TestGitIDEBrowserNeverComesBack: the browser opens but nobody finishes
// the login (a closed tab, a provider error page that goes nowhere): both
// waiting git processes fail soon after login_timeout, with the profile,
// the authorization URL and the command to run.
func TestGitIDEBrowserNeverComesBack(t *testing.T) {
	w, f := ideWorld(t)
	w.env.Set("GIT_TERMINAL_PROMPT", "")
	cfg, err := os.OpenFile(w.env.ConfigPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.WriteString("login_timeout = \"2s\"\n"); err != nil {
		t.Fatal(err)
	}
	cfg.Close()
	w.env.Set("BROWSER", "true") // opens nothing
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	outs, errs := make([]string, 2), make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = w.runDetached(ctx, "ls-remote", f.repo)
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for i := range 2 {
		if errs[i] == nil {
			t.Fatalf("git #%d succeeded:\n%s", i, outs[i])
		}
		for _, want := range []string{`profile "gitea": the browser login lanyard started did not finish within login_timeout (2s)`, "the browser was sent to " + f.URL + "/login/oauth/authorize?", "run: lanyard login gitea"} {
			if !strings.Contains(outs[i], want) {
				t.Errorf("git #%d output lacks %q:\n%s", i, want, outs[i])
			}
		}
	}
	sentTo := func(out string) string {
		_, after, _ := strings.Cut(out, "the browser was sent to ")
		u, _, _ := strings.Cut(after, ";")
		return u
	}
	// One login for both is the agent's: without it (LANYARD_AGENT=off,
	// CI) each git's own lanyard-engine logs in, one after the other
	// behind the profile's lock.
	if a, b := sentTo(outs[0]), sentTo(outs[1]); a != b && !env.Env(w.env.Getenv).AgentOff() {
		t.Errorf("two logins ran, want one for both callers:\n%s\n%s", a, b)
	}
	if took > 45*time.Second { // not the default login_timeout (3m)
		t.Errorf("took %s with login_timeout 2s", took)
	}
}

// TestGitIDEProviderDenies: the person presses Deny on the provider's page;
// the provider redirects back with access_denied, and the waiting git
// fails at once (not after login_timeout) with the reason.
func TestGitIDEProviderDenies(t *testing.T) {
	w, f := ideWorld(t)
	w.env.Set("GIT_TERMINAL_PROMPT", "")
	browser := w.scriptedBrowserAs(f, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	out, err := w.runDetached(ctx, "ls-remote", f.repo)
	if err == nil {
		t.Fatalf("ls-remote succeeded after a denied login:\n%s", out)
	}
	if err := <-browser; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`profile "gitea": the browser login lanyard started did not finish`, "access_denied", "run: lanyard login gitea"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("took %s, want the denial at once", took)
	}
}
