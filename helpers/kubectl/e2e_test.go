package kubectl_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// apiServer is a TLS endpoint that answers like a Kubernetes API server,
// only to "Authorization: Bearer T" where valid(T).
type apiServer struct {
	*httptest.Server
	valid func(string) bool

	mu       sync.Mutex
	accepted []string // tokens accepted, in order
	rejected int
}

func startAPI(t *testing.T, valid func(string) bool) *apiServer {
	t.Helper()
	a := &apiServer{valid: valid}
	a.Server = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "Bearer" || tok == "" || !a.valid(tok) {
		a.mu.Lock()
		a.rejected++
		a.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{
			"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
			"status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
		})
		return
	}
	a.mu.Lock()
	a.accepted = append(a.accepted, tok)
	a.mu.Unlock()
	switch r.URL.Path {
	case "/version":
		writeJSON(w, http.StatusOK, map[string]string{
			"major": "1", "minor": "30", "gitVersion": "v1.30.0", "gitCommit": "7c48c2bd72b9bf5c44d21d7338cc7bea77d0ad2a",
			"gitTreeState": "clean", "buildDate": "2024-04-17T17:27:03Z", "goVersion": "go1.22.2", "compiler": "gc", "platform": "linux/amd64",
		})
	case "/api":
		writeJSON(w, http.StatusOK, map[string]any{
			"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []map[string]string{{"clientCIDR": "0.0.0.0/0", "serverAddress": r.Host}},
		})
	case "/apis":
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{}})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{
			"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
			"status": "Failure", "message": "the server could not find the requested resource", "reason": "NotFound", "code": 404,
		})
	}
}

func (a *apiServer) stats() (accepted []string, rejected int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.accepted...), a.rejected
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// kube is one isolated kubectl + lanyard setup: its own HOME, keyring,
// profiles file, kubeconfig and kubectl cache directory.
type kube struct {
	t          *testing.T
	env        *testbin.Env
	kubectl    string
	plugin     string
	kubeconfig string
	cacheDir   string
}

// newKubeEnv is an isolated kubectl + lanyard setup with profileTOML as the
// profiles file and kubeconfig as $KUBECONFIG.
func newKubeEnv(t *testing.T, profileTOML, kubeconfig string) *kube {
	t.Helper()
	kubectl := testbin.NeedTool(t, "kubectl")
	dir := testbin.Build(t, "kubectl-lanyard")
	env := testbin.NewEnv(t, dir)
	k := &kube{t: t, env: env, kubectl: kubectl, plugin: filepath.Join(dir, "kubectl-lanyard"),
		kubeconfig: filepath.Join(env.Home, "kube", "config"), cacheDir: filepath.Join(env.Home, "kubecache")}
	env.Set("KUBECONFIG", k.kubeconfig)
	env.WriteConfig(t, profileTOML)
	if err := os.MkdirAll(filepath.Dir(k.kubeconfig), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.kubeconfig, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// caData is api's certificate as kubeconfig certificate-authority-data.
func caData(api *apiServer) string {
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}))
}

// newKube writes profileTOML and a kubeconfig with cluster and context
// "test" pointing at api, then runs "kubectl lanyard setup" (through
// kubectl's plugin mechanism) for profile "kube" with apiVersion.
func newKube(t *testing.T, api *apiServer, profileTOML, apiVersion string, setupArgs ...string) *kube {
	t.Helper()
	k := newKubeEnv(t, profileTOML, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: %s
    server: %s
  name: test
contexts:
- context:
    cluster: test
    user: nobody
  name: test
current-context: test
users: []
`, caData(api), api.URL))
	k.mustRun(append([]string{"lanyard", "setup", "--profile", "kube", "--context", "test", "--api-version", apiVersion}, setupArgs...)...)
	return k
}

// run runs kubectl with the isolated environment and its own cache dir.
func (k *kube) run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := args
	if args[0] != "lanyard" { // kubectl refuses flags before a plugin name
		full = append(append([]string(nil), args...), "--cache-dir", k.cacheDir, "--request-timeout", "30s")
	}
	cmd := exec.CommandContext(ctx, k.kubectl, full...)
	cmd.Env = k.env.Vars()
	cmd.Dir = k.env.Home
	cmd.Stdin = strings.NewReader("") // not a terminal: kubectl sends spec.interactive=false
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// mustRun runs kubectl and fails the test unless it succeeds.
func (k *kube) mustRun(args ...string) string {
	k.t.Helper()
	out, errOut, err := k.run(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// execAPIVersion is the newest ExecCredential version the kubectl on PATH
// speaks: v1 from 1.22 on; Debian bookworm's kubernetes-client is 1.20.
func execAPIVersion(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(testbin.NeedTool(t, "kubectl"), "version", "--client", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl version --client: %v", err)
	}
	var v struct{ ClientVersion struct{ Major, Minor string } }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("kubectl version --client: %v\n%s", err, out)
	}
	minor, _ := strconv.Atoi(strings.TrimRight(v.ClientVersion.Minor, "+"))
	if v.ClientVersion.Major == "1" && minor < 22 {
		return "v1beta1"
	}
	return "v1"
}

func startOP(t *testing.T, ttl time.Duration) *testprovider.OP {
	t.Helper()
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return op
}

// clientCredentials is a profile the plugin can fill without a login.
func clientCredentials(op *testprovider.OP) string {
	return fmt.Sprintf(`[profiles.kube]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = "env:KUBE_TEST_SECRET"
`, op.Issuer, op.ConfidentialClientID)
}

func checkVersion(t *testing.T, out string) {
	t.Helper()
	var v struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
		GitVersion    string                      `json:"gitVersion"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if v.ServerVersion.GitVersion != "v1.30.0" && v.GitVersion != "v1.30.0" {
		t.Fatalf("got %s, want server gitVersion v1.30.0", out)
	}
}

func TestKubectlExecPlugin(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"v1", "v1beta1"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			if version == "v1" && execAPIVersion(t) != "v1" {
				t.Skip("this kubectl predates client.authentication.k8s.io/v1 (Kubernetes 1.22)")
			}
			op := startOP(t, 0)
			api := startAPI(t, op.Valid)
			k := newKube(t, api, clientCredentials(op), version, "--command", filepath.Join(testbin.Build(t, "kubectl-lanyard"), "kubectl-lanyard"))
			k.env.Set("KUBE_TEST_SECRET", op.ConfidentialClientSecret)

			kc, err := os.ReadFile(k.kubeconfig)
			if err != nil {
				t.Fatal(err)
			}
			if want := "apiVersion: client.authentication.k8s.io/" + version + "\n"; !strings.Contains(string(kc), want) {
				t.Fatalf("kubeconfig has no %q:\n%s", want, kc)
			}

			checkVersion(t, k.mustRun("version", "-o", "json"))
			checkVersion(t, k.mustRun("get", "--raw", "/version"))
			checkVersion(t, k.mustRun("get", "--raw", "/version"))
			if n := op.TokenRequests(); n != 1 {
				t.Fatalf("got %d token requests, want 1 (later kubectl runs use the cache)", n)
			}
			accepted, rejected := api.stats()
			if len(accepted) < 3 || rejected != 0 {
				t.Fatalf("API server accepted %d and rejected %d requests, want at least 3 and 0", len(accepted), rejected)
			}
		})
	}
}

// loginRefreshToken logs profile "kube" in with a refresh token of the
// OP's public client, as lanyard login --refresh-token-stdin would.
func loginRefreshToken(t *testing.T, k *kube, op *testprovider.OP) {
	t.Helper()
	ctx := context.Background()
	oc := &oauth2.Config{
		ClientID:    op.PublicClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: op.AuthURL, TokenURL: op.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:5000/callback",
		Scopes:      []string{"openid", "offline_access"},
	}
	v := oauth2.GenerateVerifier()
	loc, err := op.ScriptedLogin(ctx, oc.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oc.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(k.env.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Profile("kube")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(k.env.Getenv, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Login(ctx, p, engine.LoginOptions{RefreshToken: tok.RefreshToken}); err != nil {
		t.Fatal(err)
	}
}

func refreshTokenProfile(op *testprovider.OP) string {
	return fmt.Sprintf(`[profiles.kube]
issuer = %q
grant = "refresh_token"
client_id = %q
client_auth = "none"
scopes = ["openid", "offline_access"]
`, op.Issuer, op.PublicClientID)
}

// After the API server starts rejecting the cached token, client-go runs
// the plugin again in the same kubectl process; the plugin recognises the
// repeat and refreshes once.
func TestKubectlRefreshAfter401(t *testing.T) {
	t.Parallel()
	op := startOP(t, 0)
	api := startAPI(t, op.Valid)
	k := newKube(t, api, refreshTokenProfile(op), execAPIVersion(t))
	loginRefreshToken(t, k, op)
	base := op.TokenRequests() // the code exchange and the login's refresh

	checkVersion(t, k.mustRun("get", "--raw", "/version"))
	if n := op.TokenRequests() - base; n != 0 {
		t.Fatalf("got %d token requests for a cached token, want 0", n)
	}

	op.RevokeAllAccessTokens()
	// kubectl version sends /version; the 401 makes client-go rerun the
	// plugin, which refreshes.
	out, errOut, err := k.run("version", "-o", "json")
	t.Logf("kubectl version after revocation: err=%v\nstdout: %s\nstderr: %s", err, out, errOut)
	if n := op.TokenRequests() - base; n != 1 {
		t.Fatalf("got %d token requests after the 401, want exactly 1 refresh", n)
	}
	if err != nil {
		// client-go does not resend the rejected request itself; the
		// fresh token is used from the next request on.
		if !strings.Contains(errOut, "Unauthorized") && !strings.Contains(errOut, "provide credentials") {
			t.Fatalf("kubectl failed for another reason than the 401: %v\n%s", err, errOut)
		}
	} else {
		checkVersion(t, out)
	}
	checkVersion(t, k.mustRun("get", "--raw", "/version"))
	checkVersion(t, k.mustRun("version", "-o", "json"))
	if n := op.TokenRequests() - base; n != 1 {
		t.Fatalf("got %d token requests in all, want 1: the refreshed token is cached", n)
	}
	if op.ReuseDetections() != 0 {
		t.Fatalf("refresh token reuse detected %d times", op.ReuseDetections())
	}
}

// 16 kubectl processes find the cached token expired at once: one refresh.
func TestKubectlParallelExpired(t *testing.T) {
	t.Parallel()
	op := startOP(t, 2*time.Second)
	api := startAPI(t, op.Valid)
	k := newKube(t, api, clientCredentials(op), "v1beta1")
	k.env.Set("KUBE_TEST_SECRET", op.ConfidentialClientSecret)
	// The callers must find the token expired: no refresh ahead.
	k.env.Set("LANYARD_AGENT_REFRESH_AHEAD", "0")

	// Cache a 2s token (straight from the plugin: a kubectl run could
	// outlast it on a busy machine), then let it expire.
	out, err := k.env.Command(k.plugin, "get-token", "--profile", "kube").Output()
	if err != nil {
		t.Fatalf("get-token: %v", err)
	}
	var cred struct{ Status struct{ Token string } }
	if err := json.Unmarshal(out, &cred); err != nil || !op.Valid(cred.Status.Token) {
		t.Fatalf("get-token printed %s (%v), want a valid token", out, err)
	}
	first := cred.Status.Token
	op.SetAccessTTL(5 * time.Minute) // the refreshed token outlives the test
	deadline := time.Now().Add(10 * time.Second)
	for op.Valid(first) {
		if time.Now().After(deadline) {
			t.Fatal("the 2s token is still valid after 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	base := op.TokenRequests()

	const n = 16
	errs := make(chan error, n)
	for range n {
		go func() {
			out, errOut, err := k.run("get", "--raw", "/version")
			if err != nil {
				err = fmt.Errorf("%v\nstdout: %s\nstderr: %s", err, out, errOut)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := op.TokenRequests() - base; got != 1 {
		t.Fatalf("got %d token requests for %d parallel kubectl runs, want 1", got, n)
	}
}

// With spec.interactive=false (kubectl without a terminal), a profile that
// needs a login fails at once with the command to run: no browser, no
// listener, no request to the provider.
func TestKubectlNonInteractiveFailsFast(t *testing.T) {
	t.Parallel()
	var hits sync.Map
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		http.NotFound(w, r)
	}))
	defer idp.Close()
	// The redirect port is held by the test: a login that tried to listen
	// would fail with "already in use" instead of naming the login command.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	profile := fmt.Sprintf(`[profiles.kube]
issuer = %q
grant = "authorization_code"
client_id = "kubectl"
redirect_uri = "http://%s/callback"
scopes = ["openid"]
`, idp.URL, ln.Addr())

	api := startAPI(t, func(string) bool { return true })
	k := newKube(t, api, profile, execAPIVersion(t))
	browserLog := filepath.Join(k.env.Home, "browser-opened")
	k.env.Set("BROWSER", "/bin/sh -c 'echo \"$0\" > "+browserLog+"'")

	t.Run("plugin", func(t *testing.T) {
		cmd := k.env.Command(k.plugin, "get-token", "--profile", "kube")
		cmd.Env = append(cmd.Env, `KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if err == nil {
			t.Fatalf("get-token succeeded without a login: %s", out.String())
		}
		if code := cmd.ProcessState.ExitCode(); code != 3 {
			t.Errorf("got exit code %d, want 3 (login required)", code)
		}
		if took > time.Second {
			t.Errorf("took %s, want < 1s", took)
		}
		if !strings.Contains(errOut.String(), "run: lanyard login kube") {
			t.Errorf("got stderr %q, want it to name: run: lanyard login kube", errOut.String())
		}
		if out.Len() != 0 {
			t.Errorf("got stdout %q, want nothing", out.String())
		}
	})
	t.Run("kubectl", func(t *testing.T) {
		out, errOut, err := k.run("get", "--raw", "/version")
		if err == nil {
			t.Fatalf("kubectl succeeded without a login: %s", out)
		}
		if !strings.Contains(errOut, "run: lanyard login kube") {
			t.Errorf("got stderr %q, want it to name: run: lanyard login kube", errOut)
		}
	})
	if _, err := os.Stat(browserLog); err == nil {
		t.Error("a browser was opened")
	}
	hits.Range(func(k, _ any) bool {
		t.Errorf("the provider got a request for %s", k)
		return true
	})
	select {
	case <-accepted:
		t.Error("something connected to the redirect port")
	default:
	}
}
