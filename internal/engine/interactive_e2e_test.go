package engine

// End to end: the built lanyard binary logs in to the Whiplash and Whisk
// emulators as a newcomer would (docs/login.md), then lanyard token works
// across refreshes without any prompt.

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// cliLogin starts `lanyard login ARGS...`, waits for the authorize URL on
// stderr and returns it with the running command, its stdin and the rest of
// its stderr.
func cliLogin(t *testing.T, env *testbin.Env, authPrefix string, args ...string) (string, *exec.Cmd, io.WriteCloser, <-chan string) {
	t.Helper()
	cmd := env.Command("lanyard", append([]string{"login"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	// stdout belongs to the tool protocols: login must not write there.
	stdout, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = stdout
	t.Cleanup(func() {
		stdout.Close()
		if b, _ := os.ReadFile(stdout.Name()); len(b) > 0 {
			t.Errorf("lanyard login wrote to stdout: %q", b)
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(stderr)
	var seen strings.Builder
	authURL := ""
	for authURL == "" && sc.Scan() {
		line := sc.Text()
		seen.WriteString(line + "\n")
		if l := strings.TrimSpace(line); strings.HasPrefix(l, authPrefix) {
			authURL = l
		}
	}
	if authURL == "" {
		t.Fatalf("lanyard login printed no authorize URL; stderr:\n%s", seen.String())
	}
	rest := make(chan string, 1)
	go func() {
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
		}
		rest <- seen.String()
	}()
	return authURL, cmd, stdin, rest
}

func cliToken(t *testing.T, env *testbin.Env, args ...string) (string, error) {
	t.Helper()
	out, err := env.Command("lanyard", append([]string{"token"}, args...)...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr), err
	}
	return strings.TrimSpace(string(out)), err
}

func TestCLILoginWhiplashNoBrowser(t *testing.T) {
	dir := testbin.Build(t, "lanyard")
	w := startWhiplash(t)
	env := testbin.NewEnv(t, dir)
	env.Set("WHIPLASH_CLIENT_SECRET", w.ClientSecret)
	env.WriteConfig(t, fmt.Sprintf(`[profiles.whiplash]
grant = "authorization_code"
auth_url = %q
token_url = %q
client_id = %q
client_secret = "env:WHIPLASH_CLIENT_SECRET"
client_auth = "post"
scopes = ["user_manage"]
redirect_uri = %q
`, w.AuthURL, w.TokenURL, w.ClientID, w.CallbackURL))

	// Bad input first: garbage on stdin fails, and nothing is stored.
	_, cmd, stdin, rest := cliLogin(t, env, w.AuthURL, "whiplash", "--no-browser")
	io.WriteString(stdin, "not a url at all\n")
	stdin.Close()
	if err := cmd.Wait(); err == nil {
		t.Fatal("garbage paste: exit 0")
	}
	if out := <-rest; !strings.Contains(out, "could not understand the pasted text") {
		t.Fatalf("garbage paste stderr:\n%s", out)
	}
	// exit 3: login required (docs/token.md, "Exit codes").
	if out, err := cliToken(t, env, "whiplash"); err == nil || err.(*exec.ExitError).ExitCode() != 3 || !strings.Contains(out, "run: lanyard login whiplash") {
		t.Fatalf("token after failed login: %v %s", err, out)
	}

	authURL, cmd, stdin, rest := cliLogin(t, env, w.AuthURL, "whiplash", "--no-browser")
	redirect, err := w.AuthorizeRedirect(testCtx(t), authURL)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stdin, "%s\n", redirect)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("lanyard login: %v\n%s", err, <-rest)
	}
	if out := <-rest; !strings.Contains(out, "logged in to whiplash") {
		t.Fatalf("stderr:\n%s", out)
	}
	tok, err := cliToken(t, env, "whiplash")
	if err != nil || !w.Valid(tok) {
		t.Fatalf("lanyard token: %v %q", err, tok)
	}
	for range 2 {
		next, err := cliToken(t, env, "whiplash", "--force-refresh")
		if err != nil || next == tok || !w.Valid(next) {
			t.Fatalf("lanyard token --force-refresh: %v %q", err, next)
		}
		tok = next
	}
	if w.ReuseDetections() != 0 {
		t.Fatalf("%d reuse detections", w.ReuseDetections())
	}
}

func TestCLILoginWhiskLoopback(t *testing.T) {
	dir := testbin.Build(t, "lanyard")
	w := startWhisk(t)
	env := testbin.NewEnv(t, dir)
	env.Set("WHISK_CLIENT_SECRET", w.ClientSecret)
	env.WriteConfig(t, fmt.Sprintf(`[profiles.whisk]
grant = "authorization_code"
auth_url = %q
token_url = %q
client_id = %q
client_secret = "env:WHISK_CLIENT_SECRET"
client_auth = "post"
token_request = "multipart"
scopes = ["recipe:read", "offline_access"]
redirect_uri = "http://127.0.0.1:0/callback"
`, w.AuthURL, w.TokenURL, w.ClientID))
	// No DISPLAY in the test environment: lanyard prints the URL itself.
	authURL, cmd, stdin, rest := cliLogin(t, env, w.AuthURL, "whisk")
	defer stdin.Close()
	redirect, err := w.AuthorizeRedirect(testCtx(t), authURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(redirect.String())
	if st, page := browse(t, u); st != 200 || !strings.Contains(page, "Logged in") {
		t.Fatalf("listener: %d %s", st, page)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("lanyard login: %v\n%s", err, <-rest)
	}
	<-rest
	tok, err := cliToken(t, env, "whisk")
	if err != nil || !w.Valid(tok) {
		t.Fatalf("lanyard token: %v %q", err, tok)
	}
	next, err := cliToken(t, env, "whisk", "--force-refresh")
	if err != nil || next == tok || !w.Valid(next) {
		t.Fatalf("lanyard token --force-refresh: %v %q", err, next)
	}
}
