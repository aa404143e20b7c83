package httpie

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// api is a resource server on 127.0.0.1 that accepts only tokens the test
// OP says are valid, as a Bearer header or an access_token query parameter
// (Whisk takes both).
type api struct {
	op       *testprovider.OP
	mu       sync.Mutex
	ok       int // requests answered 200
	rejected int // requests answered 401
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	via, tok := "", ""
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		via, tok = "header", v
	} else if v := r.URL.Query().Get("access_token"); v != "" {
		via, tok = "query", v
	}
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	if tok == "" || !a.op.Valid(tok) {
		a.rejected++
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	a.ok++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"via": via, "method": r.Method, "body": string(body)})
}

func (a *api) counts() (ok, rejected int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ok, a.rejected
}

// httpie runs Debian's real `http` with the plugin from a temp site
// directory on PYTHONPATH, as install.sh --target puts it there.
type httpie struct {
	t    *testing.T
	http string
	env  *testbin.Env
}

type result struct {
	code           int
	stdout, stderr string
}

func (h *httpie) run(args ...string) result {
	h.t.Helper()
	args = append([]string{"--ignore-stdin", "--check-status", "--print=b", "--timeout=30"}, args...)
	cmd := h.env.Command(h.http, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func (h *httpie) ok(want string, args ...string) map[string]string {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("http %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		h.t.Fatalf("http %s printed %q: %v", strings.Join(args, " "), r.stdout, err)
	}
	if got["via"] != want {
		h.t.Errorf("the API got the token via %q, want %q", got["via"], want)
	}
	return got
}

// fails checks a clean HTTPie error: exit 1, the message, no traceback.
func (h *httpie) fails(says string, args ...string) {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 1 {
		h.t.Errorf("http %s: exit %d, want 1\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, says) {
		h.t.Errorf("stderr %q does not say %q", r.stderr, says)
	}
	if strings.Contains(r.stderr, "Traceback") || strings.Contains(r.stderr, `File "`) {
		h.t.Errorf("stderr has a Python traceback:\n%s", r.stderr)
	}
}

func installPlugin(t *testing.T, target string) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(testbin.Root(t), "helpers", "httpie", "install.sh"), "install", "--target", target)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install.sh install: %v\n%s", err, out)
	}
}

// newHTTPie sets up the environment `http` runs in: lanyard on PATH,
// HTTPie's config dir in a temp dir (no update checks: no network), and
// the plugin on PYTHONPATH.
func newHTTPie(t *testing.T, bin, site string, op *testprovider.OP, apiURL string) *httpie {
	t.Helper()
	httpBin := testbin.NeedTool(t, "http")
	env := testbin.NewEnv(t, bin)
	env.Set("LANYARD_TEST_OP_SECRET", op.ConfidentialClientSecret)
	env.WriteConfig(t, strings.ReplaceAll(strings.ReplaceAll(`
[profiles.api]
issuer = "ISSUER"
grant = "client_credentials"
client_id = "lanyard-confidential"
client_secret = "env:LANYARD_TEST_OP_SECRET"
match = ["API/"]

[profiles.nomatch]
issuer = "ISSUER"
grant = "client_credentials"
client_id = "lanyard-confidential"
client_secret = "env:LANYARD_TEST_OP_SECRET"

[profiles.needslogin]
issuer = "ISSUER"
grant = "refresh_token"
client_id = "lanyard-cli"
match = ["API/"]
`, "ISSUER", op.Issuer), "API", apiURL))
	cfgDir := filepath.Join(env.Home, "httpie")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"disable_update_warnings": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env.Set("HTTPIE_CONFIG_DIR", cfgDir)
	env.Set("PYTHONPATH", site)
	env.Set("PYTHONDONTWRITEBYTECODE", "1")
	return &httpie{t: t, http: httpBin, env: env}
}

func TestHTTPie(t *testing.T) {
	testbin.NeedTool(t, "http")
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	a := &api{op: op}
	srv := httptest.NewServer(a)
	defer srv.Close()
	site := t.TempDir()
	installPlugin(t, site)
	h := newHTTPie(t, testbin.Build(t, "lanyard"), site, op, srv.URL)
	lanyard := "--auth-type=lanyard"
	url := srv.URL + "/v1/me"

	// Bearer header; the token comes from the OP once, then from the cache.
	h.ok("header", lanyard, "--auth=api", "GET", url)
	h.ok("header", lanyard, "--auth=api", "GET", url)
	// Query parameter mode (Whisk), same cached token.
	h.ok("query", lanyard, "--auth=api:query", "GET", url, "page==2")
	if n := op.TokenRequests(); n != 1 {
		t.Errorf("three calls within the token's life: %d token requests, want 1", n)
	}

	// A token that expires: mint a 1 s one, let it expire, and the next
	// call gets a new token. Token lifetime is wall-clock time, so this
	// waits it out (there is no event to wait for).
	op.SetAccessTTL(time.Second)
	mint := h.env.Command("lanyard", "token", "api", "--force-refresh")
	if out, err := mint.CombinedOutput(); err != nil {
		t.Fatalf("lanyard token --force-refresh: %v\n%s", err, out)
	}
	minted := time.Now()
	op.SetAccessTTL(time.Minute)
	time.Sleep(time.Until(minted.Add(time.Second)))
	h.ok("header", lanyard, "--auth=api", "GET", url)
	if n := op.TokenRequests(); n != 3 {
		t.Errorf("after expiry: %d token requests, want 3 (first, forced, refresh after expiry)", n)
	}

	// Revoked before expiry: the API answers 401, the plugin asks lanyard
	// with --force-refresh once and resends, body included.
	op.RevokeAllAccessTokens()
	_, rejectedBefore := a.counts()
	got := h.ok("header", lanyard, "--auth=api", "POST", url, "name=lanyard")
	if !strings.Contains(got["body"], `"name": "lanyard"`) || got["method"] != "POST" {
		t.Errorf("the resent request lost its body: %q", got)
	}
	if _, rejected := a.counts(); rejected != rejectedBefore+1 {
		t.Errorf("401s: got %d more, want 1 (the revoked token), then success", rejected-rejectedBefore)
	}
	if n := op.TokenRequests(); n != 4 {
		t.Errorf("after revocation: %d token requests, want 4", n)
	}
	op.RevokeAllAccessTokens()
	h.ok("query", lanyard, "--auth=api:query", "GET", url)

	// Errors are HTTPie errors with lanyard's message, no traceback, and no
	// request is sent.
	okBefore, rejBefore := a.counts()
	h.fails(`profile "nope" not found`, lanyard, "--auth=nope", "GET", url)
	h.fails("run: lanyard login needslogin", lanyard, "--auth=needslogin", "GET", url)
	h.fails("use --auth=PROFILE or --auth=PROFILE:query", lanyard, "--auth=api:cookie", "GET", url)
	// match applies: another server (same host, another port) and a
	// profile without match get no token.
	other := &api{op: op}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	h.fails("none of its match prefixes covers the URL", lanyard, "--auth=api", "GET", otherSrv.URL+"/v1/me")
	h.fails("set match (the URL prefixes it serves) in [profiles.nomatch]", lanyard, "--auth=nomatch", "GET", url)
	if okN, rej := other.counts(); okN+rej != 0 {
		t.Errorf("the unmatched server got %d requests, want 0", okN+rej)
	}
	h.env.Set("LANYARD_BIN", filepath.Join(t.TempDir(), "no-such-lanyard"))
	h.fails("check LANYARD_BIN or PATH", lanyard, "--auth=api", "GET", url)
	if okN, rej := a.counts(); okN != okBefore || rej != rejBefore {
		t.Errorf("failed token lookups still sent %d requests", okN-okBefore+rej-rejBefore)
	}
}

// TestInstallScript: install.sh installs the dist-info drop-in HTTPie finds
// by entry point, and uninstall removes every file it wrote.
func TestInstallScript(t *testing.T) {
	httpBin := testbin.NeedTool(t, "http")
	site := t.TempDir()
	installPlugin(t, site)
	entries := readEntryPoints(t, site)
	if !strings.Contains(entries, "[httpie.plugins.auth.v1]\nlanyard = lanyard_httpie:LanyardAuthPlugin") {
		t.Errorf("entry_points.txt:\n%s", entries)
	}
	cmd := exec.Command(httpBin, "--help")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+site, "HTTPIE_CONFIG_DIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"lanyard"`) {
		t.Errorf("http --help does not list the lanyard auth type (%v)", err)
	}

	// `where` names the site directory of the Python that runs http.
	where := exec.Command("bash", filepath.Join(testbin.Root(t), "helpers", "httpie", "install.sh"), "where")
	if out, err := where.CombinedOutput(); err != nil || !strings.Contains(string(out), "-packages") {
		t.Errorf("install.sh where: %v %s", err, out)
	}

	un := exec.Command("bash", filepath.Join(testbin.Root(t), "helpers", "httpie", "install.sh"), "uninstall", "--target", site)
	if out, err := un.CombinedOutput(); err != nil {
		t.Fatalf("install.sh uninstall: %v\n%s", err, out)
	}
	left, _ := os.ReadDir(site)
	if len(left) != 0 {
		t.Errorf("uninstall left %d entries in %s", len(left), site)
	}
}

// TestPipInstall: the pyproject.toml route pip users take builds without a
// package index, with the same entry point. Skipped where the Python that
// runs http has no pip or setuptools.
func TestPipInstall(t *testing.T) {
	httpBin := testbin.NeedTool(t, "http")
	py := interpreter(t, httpBin)
	if exec.Command(py, "-m", "pip", "--version").Run() != nil || exec.Command(py, "-c", "import setuptools").Run() != nil {
		t.Skipf("%s has no pip and setuptools; the pip route is optional", py)
	}
	// pip builds in the source directory: build from a copy.
	src := t.TempDir()
	for _, f := range []string{"pyproject.toml", "lanyard_httpie.py"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	site := t.TempDir()
	cmd := exec.Command(py, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", "--no-deps", "--target", site, src)
	cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_ROOT_USER_ACTION=ignore")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	if entries := readEntryPoints(t, site); !strings.Contains(entries, "lanyard = lanyard_httpie:LanyardAuthPlugin") {
		t.Errorf("entry_points.txt:\n%s", entries)
	}
}

func readEntryPoints(t *testing.T, site string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(site, "httpie_lanyard-*.dist-info", "entry_points.txt"))
	if len(m) != 1 {
		t.Fatalf("found %d httpie_lanyard dist-info entry_points.txt in %s, want 1", len(m), site)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// interpreter reads the #! line of the http script (Debian: /usr/bin/python3,
// not whatever python3 is first on PATH).
func interpreter(t *testing.T, script string) string {
	t.Helper()
	f, err := os.Open(script)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		t.Skipf("%s has no #! line", script)
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		p, err := exec.LookPath(fields[1])
		if err != nil {
			t.Skip(err)
		}
		return p
	}
	return fields[0]
}
