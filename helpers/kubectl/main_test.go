package kubectl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/helpers/kubectl"
	"github.com/lanyardhq/lanyard/helpers/kubectl/kubeconfig"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

const (
	execInfoV1      = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`
	execInfoV1Beta1 = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`
)

// local is an isolated lanyard environment for calling Main in-process.
type local struct {
	t   *testing.T
	env *testbin.Env
}

func newLocal(t *testing.T, profiles string) *local {
	t.Helper()
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, profiles)
	return &local{t: t, env: env}
}

// main runs kubectl.Main with execInfo as KUBERNETES_EXEC_INFO ("" unset).
func (l *local) main(execInfo string, args ...string) (code int, stdout, stderr string) {
	getenv := func(k string) string {
		if k == "KUBERNETES_EXEC_INFO" {
			return execInfo
		}
		return l.env.Getenv(k)
	}
	var o, e bytes.Buffer
	code = kubeconfig.Main(args, strings.NewReader(""), &o, &e, getenv)
	return code, o.String(), e.String()
}

func (l *local) profile(name string) (*config.Profile, *engine.Engine) {
	l.t.Helper()
	cfg, err := config.Load(l.env.ConfigPath)
	if err != nil {
		l.t.Fatal(err)
	}
	p, err := cfg.Profile(name)
	if err != nil {
		l.t.Fatal(err)
	}
	eng, err := engine.New(l.env.Getenv, io.Discard, false)
	if err != nil {
		l.t.Fatal(err)
	}
	return p, eng
}

// decode parses a reply strictly: nothing but one ExecCredential.
func decode(t *testing.T, stdout string) kubectl.ExecCredential {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var c kubectl.ExecCredential
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("stdout is not an ExecCredential: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout has more than the ExecCredential:\n%s", stdout)
	}
	if c.Kind != "ExecCredential" || c.Status == nil || c.Status.Token == "" {
		t.Fatalf("got %s, want an ExecCredential with status.token", stdout)
	}
	return c
}

func TestGetTokenVersions(t *testing.T) {
	op := startOP(t, 0)
	cases := []struct {
		name, execInfo, want string
		debug                string // in the --debug log
	}{
		{"v1", execInfoV1, kubectl.APIVersionV1, "apiVersion=client.authentication.k8s.io/v1 "},
		{"v1beta1", execInfoV1Beta1, kubectl.APIVersionV1Beta1, "apiVersion=client.authentication.k8s.io/v1beta1 "},
		{"absent", "", kubectl.APIVersionV1, "KUBERNETES_EXEC_INFO is not set; assuming client.authentication.k8s.io/v1"},
		{"malformed", "{interactive", kubectl.APIVersionV1, "KUBERNETES_EXEC_INFO is not a JSON ExecCredential"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLocal(t, clientCredentials(op))
			l.env.Set("KUBE_TEST_SECRET", op.ConfidentialClientSecret)
			base := op.TokenRequests()
			code, out, errOut := l.main(c.execInfo, "get-token", "--profile", "kube", "--debug")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			cred := decode(t, out)
			if cred.APIVersion != c.want {
				t.Errorf("got apiVersion %q, want %q", cred.APIVersion, c.want)
			}
			if !op.Valid(cred.Status.Token) {
				t.Error("the token is not valid at the provider")
			}
			if !strings.Contains(errOut, c.debug) {
				t.Errorf("debug log does not say %q:\n%s", c.debug, errOut)
			}
			if strings.Contains(errOut, cred.Status.Token) {
				t.Error("the debug log shows the token")
			}
			p, eng := l.profile("kube")
			tok, err := eng.Store.Token(p.Name)
			if err != nil {
				t.Fatal(err)
			}
			want := engine.Handout(tok, p).Expiry.UTC().Format(time.RFC3339)
			if cred.Status.ExpirationTimestamp != want {
				t.Errorf("got expirationTimestamp %q, want %q", cred.Status.ExpirationTimestamp, want)
			}
			if n := op.TokenRequests() - base; n != 1 {
				t.Errorf("got %d token requests, want 1", n)
			}
		})
	}
}

// The profile's use key picks the token; --use overrides it.
func TestGetTokenUse(t *testing.T) {
	op := startOP(t, 0)
	for _, c := range []struct {
		name, use string
		args      []string
		wantID    bool
	}{
		{"profile default", "", nil, false},
		{"profile id_token", `use = "id_token"`, nil, true},
		{"flag id_token", "", []string{"--use", "id_token"}, true},
		{"flag overrides profile", `use = "id_token"`, []string{"--use", "access_token"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLocal(t, refreshTokenProfile(op)+c.use+"\n")
			loginRefreshToken(t, &kube{t: t, env: l.env}, op)
			code, out, errOut := l.main(execInfoV1, append([]string{"get-token", "--profile", "kube"}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			tok := decode(t, out).Status.Token
			isJWT := strings.Count(tok, ".") == 2 && !op.Valid(tok)
			if c.wantID && !isJWT {
				t.Errorf("got %.20s..., want the id_token", tok)
			}
			if !c.wantID && !op.Valid(tok) {
				t.Errorf("got %.20s..., want a valid access token", tok)
			}
		})
	}
}

func TestMainErrors(t *testing.T) {
	l := newLocal(t, `[profiles.kube]
token_url = "https://idp.example.com/token"
grant = "client_credentials"
client_id = "x"
client_secret = "env:NOT_SET_ANYWHERE"
`)
	for _, c := range []struct {
		name, execInfo string
		args           []string
		code           int
		stderr         string
	}{
		{"no command", "", nil, 2, "Usage:"},
		{"unknown command", "", []string{"token"}, 2, `unknown command "token"`},
		{"no profile", execInfoV1, []string{"get-token"}, 2, "get-token needs --profile"},
		{"positional profile", execInfoV1, []string{"get-token", "kube"}, 2, `unexpected argument "kube"`},
		{"bad use", execInfoV1, []string{"get-token", "--profile", "kube", "--use", "refresh_token"}, 2, `--use "refresh_token" is not valid`},
		{"unknown flag", execInfoV1, []string{"get-token", "--profile", "kube", "--audience", "x"}, 2, "flag provided but not defined: -audience"},
		{"unknown profile", execInfoV1, []string{"get-token", "--profile", "nope"}, 2, `"nope"`},
		{"v1alpha1", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`, []string{"get-token", "--profile", "kube"}, 2, "does not speak"},
		{"secret missing", execInfoV1, []string{"get-token", "--profile", "kube"}, 1, "NOT_SET_ANYWHERE"},
		{"setup without profile", "", []string{"setup"}, 2, "setup needs --profile"},
		{"setup profile and cluster-aware", "", []string{"setup", "--profile", "kube", "--cluster-aware"}, 2, "--profile or --cluster-aware, not both"},
		{"setup bad interactive mode", "", []string{"setup", "--cluster-aware", "--interactive-mode", "never"}, 2, `--interactive-mode "never" is not valid`},
		{"cluster no profile serves", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com"},"interactive":false}}`, []string{"get-token"}, 1, `no lanyard profile serves cluster https://k8s.example.com: add match = ["https://k8s.example.com"]`},
		{"cluster names an unknown profile", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com","config":{"profile":"nope"}},"interactive":false}}`, []string{"get-token"}, 2, `cluster https://k8s.example.com names a profile in its kubeconfig extension client.authentication.k8s.io/exec: profile "nope" not found`},
		{"setup unknown profile", "", []string{"setup", "--profile", "nope"}, 2, `"nope"`},
		{"setup bad api version", "", []string{"setup", "--profile", "kube", "--api-version", "v1alpha1"}, 2, `--api-version "v1alpha1" is not supported`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := l.main(c.execInfo, c.args...)
			if code != c.code {
				t.Errorf("got exit %d, want %d (stderr: %s)", code, c.code, errOut)
			}
			if out != "" && c.code != 0 {
				t.Errorf("got stdout %q, want nothing", out)
			}
			if !strings.Contains(errOut, c.stderr) {
				t.Errorf("got stderr %q, want it to contain %q", errOut, c.stderr)
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		code, out, _ := l.main("", "--help")
		if code != 0 || !strings.Contains(out, "kubectl lanyard setup") {
			t.Errorf("got exit %d and %q", code, out)
		}
	})
}

// A second request from the same client-go process (here: the test) for
// a token it already holds means the API server answered 401: the token
// is dropped and refreshed once. Without KUBERNETES_EXEC_INFO (a person
// or script), repeats are plain cache hits.
func TestGetTokenRepeatRefreshes(t *testing.T) {
	op := startOP(t, 0)
	l := newLocal(t, clientCredentials(op))
	l.env.Set("KUBE_TEST_SECRET", op.ConfidentialClientSecret)
	get := func(execInfo string) string {
		t.Helper()
		code, out, errOut := l.main(execInfo, "get-token", "--profile", "kube")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return decode(t, out).Status.Token
	}
	t1 := get("")
	for range 2 {
		if get("") != t1 || op.TokenRequests() != 1 {
			t.Fatalf("repeats without exec info: %d token requests, want 1", op.TokenRequests())
		}
	}
	if get(execInfoV1) != t1 || op.TokenRequests() != 1 {
		t.Fatalf("first request from this client: %d token requests, want 1 (cache hit)", op.TokenRequests())
	}
	t2 := get(execInfoV1)
	if t2 == t1 || op.TokenRequests() != 2 {
		t.Fatalf("repeat from the same client: %d token requests, want 2 and a new token", op.TokenRequests())
	}
	// Asking again within 30s: no second forced refresh (a server that
	// rejects every token must not turn a client into a refresh loop).
	if t3 := get(execInfoV1); t3 != t2 || op.TokenRequests() != 2 {
		t.Fatalf("third request: %d token requests, want still 2", op.TokenRequests())
	}
}

// spec.interactive=true lets get-token run the browser login; the URL and
// prompts go to stderr, stdout carries only the ExecCredential.
func TestGetTokenInteractiveLogin(t *testing.T) {
	op := startOP(t, 0)
	l := newLocal(t, `[profiles.kube]
issuer = "`+op.Issuer+`"
grant = "authorization_code"
client_id = "`+op.PublicClientID+`"
client_auth = "none"
redirect_uri = "http://127.0.0.1:0/callback"
scopes = ["openid", "offline_access"]
`)
	urlFile := filepath.Join(l.env.Home, "browser-url")
	script := filepath.Join(l.env.Home, "browser.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+urlFile+".tmp && mv "+urlFile+".tmp "+urlFile+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l.env.Set("BROWSER", script)

	// Non-interactive first: fails at once, opens nothing.
	start := time.Now()
	code, out, errOut := l.main(execInfoV1, "get-token", "--profile", "kube")
	if code != 3 || out != "" || !strings.Contains(errOut, "run: lanyard login kube") || time.Since(start) > time.Second {
		t.Fatalf("non-interactive: exit %d after %s, stdout %q, stderr %q", code, time.Since(start), out, errOut)
	}
	if _, err := os.Stat(urlFile); err == nil {
		t.Fatal("non-interactive request opened a browser")
	}

	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := l.main(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`, "get-token", "--profile", "kube")
		done <- result{code, out, errOut}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var authURL []byte
	for authURL == nil {
		select {
		case r := <-done:
			t.Fatalf("get-token ended before the login: exit %d, stderr %s", r.code, r.errOut)
		case <-ctx.Done():
			t.Fatal("no browser was opened within 30s")
		case <-time.After(20 * time.Millisecond):
		}
		authURL, _ = os.ReadFile(urlFile)
	}
	loc, err := op.ScriptedLogin(ctx, string(authURL))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(loc.String()) // the browser follows the redirect to the listener
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("get-token did not finish after the login")
	}
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	cred := decode(t, r.out)
	if cred.APIVersion != kubectl.APIVersionV1Beta1 || !op.Valid(cred.Status.Token) {
		t.Errorf("got %s, want a valid v1beta1 credential", r.out)
	}
	if !strings.Contains(r.errOut, "127.0.0.1") {
		t.Errorf("stderr does not tell the person where the browser returns:\n%s", r.errOut)
	}
	// Logged in now: a request without a terminal is a cache hit.
	code, out, errOut = l.main("", "get-token", "--profile", "kube")
	if code != 0 || decode(t, out).Status.Token != cred.Status.Token {
		t.Fatalf("after login: exit %d, stderr %s", code, errOut)
	}
}

// Setup through Main: the profile must exist; the kubeconfig comes from
// --kubeconfig, else the first entry of KUBECONFIG, else ~/.kube/config.
func TestSetupPaths(t *testing.T) {
	l := newLocal(t, `[profiles.corp]
token_url = "https://idp.example.com/token"
grant = "client_credentials"
client_id = "x"
client_secret = "env:X"
`)
	home := l.env.Getenv("HOME")
	if got := kubeconfig.KubeconfigPath("", l.env.Getenv); got != filepath.Join(home, ".kube", "config") {
		t.Errorf("got %s, want ~/.kube/config", got)
	}
	first, second := filepath.Join(home, "a", "config"), filepath.Join(home, "b", "config")
	l.env.Set("KUBECONFIG", string(os.PathListSeparator)+first+string(os.PathListSeparator)+second)
	if got := kubeconfig.KubeconfigPath("", l.env.Getenv); got != first {
		t.Errorf("got %s, want the first KUBECONFIG entry %s", got, first)
	}
	if got := kubeconfig.KubeconfigPath("/x/y", l.env.Getenv); got != "/x/y" {
		t.Errorf("got %s, want --kubeconfig", got)
	}

	code, out, errOut := l.main("", "setup", "--profile", "corp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `added user "lanyard-corp"`) || !strings.Contains(out, "kubectl config set-context --current --user=lanyard-corp") {
		t.Errorf("got %q", out)
	}
	st, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("got mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(first + ".lock"); err == nil {
		t.Error("the lock file was left behind")
	}
	before, _ := os.ReadFile(first)
	code, out, _ = l.main("", "setup", "--profile", "corp")
	after, _ := os.ReadFile(first)
	if code != 0 || !strings.Contains(out, "already runs") || !bytes.Equal(before, after) {
		t.Errorf("second setup: exit %d, %q, file changed: %v", code, out, !bytes.Equal(before, after))
	}

	// kubectl's lock file held: refuse, change nothing.
	if err := os.WriteFile(first+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = l.main("", "setup", "--profile", "corp", "--user", "other")
	if code != 1 || !strings.Contains(errOut, "is locked by another kubectl") {
		t.Errorf("got exit %d, %q", code, errOut)
	}
	os.Remove(first + ".lock")

	// A symlinked kubeconfig is written through, the link stays.
	link := filepath.Join(home, "link-config")
	if err := os.Symlink(first, link); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := l.main("", "setup", "--profile", "corp", "--kubeconfig", link, "--user", "via-link"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced")
	}
	if b, _ := os.ReadFile(first); !strings.Contains(string(b), "name: via-link") {
		t.Error("the link target was not updated")
	}
}

// Many calls at once from one parent (not what client-go does, but a
// script might) that all hold a token the parent already got: they
// converge on one refresh, not one each.
func TestGetTokenSameParentBurst(t *testing.T) {
	op := startOP(t, 0)
	l := newLocal(t, clientCredentials(op))
	l.env.Set("KUBE_TEST_SECRET", op.ConfidentialClientSecret)
	if code, _, errOut := l.main(execInfoV1, "get-token", "--profile", "kube"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const n = 16
	tokens := make(chan string, n)
	for range n {
		go func() {
			code, out, errOut := l.main(execInfoV1, "get-token", "--profile", "kube")
			if code != 0 {
				t.Errorf("exit %d: %s", code, errOut)
				tokens <- ""
				return
			}
			tokens <- decode(t, out).Status.Token
		}()
	}
	seen := map[string]bool{}
	for range n {
		seen[<-tokens] = true
	}
	if got := op.TokenRequests(); got != 2 {
		t.Errorf("got %d token requests, want 2 (the first call, one refresh)", got)
	}
	if len(seen) != 1 {
		t.Errorf("got %d different tokens, want 1", len(seen))
	}
	// And a loop afterwards keeps hitting the cache.
	for range 5 {
		l.main(execInfoV1, "get-token", "--profile", "kube")
	}
	if got := op.TokenRequests(); got != 2 {
		t.Errorf("after a loop: got %d token requests, want still 2", got)
	}
}
