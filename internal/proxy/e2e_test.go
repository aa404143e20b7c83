package proxy_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

const secretVar = "LANYARD_TEST_CLIENT_SECRET"

// upstream is a TLS test server that records the Authorization headers it
// saw and serves a git repository through git http-backend.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func (u *upstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.auth...)
}

// token extracts the OAuth token from a Bearer or Basic header ("" if none).
func token(h string) string {
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return t
	}
	if b, ok := strings.CutPrefix(h, "Basic "); ok {
		raw, _ := base64.StdEncoding.DecodeString(b)
		_, pw, _ := strings.Cut(string(raw), ":")
		return pw
	}
	return ""
}

func startUpstream(t *testing.T, ca *testprovider.CA, valid func(string) bool, gitRoot string) *upstream {
	t.Helper()
	cert, err := ca.Issue("127.0.0.1", true)
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		u.mu.Lock()
		u.auth = append(u.auth, h)
		u.mu.Unlock()
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		if valid != nil && !valid(token(h)) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "no valid token", http.StatusUnauthorized)
			return
		}
		if gitRoot != "" && strings.HasPrefix(r.URL.Path, "/repo.git") {
			(&cgi.Handler{Path: "/usr/bin/git", Args: []string{"http-backend"}, Root: "/",
				Env: []string{"GIT_PROJECT_ROOT=" + gitRoot, "GIT_HTTP_EXPORT_ALL=1"}}).ServeHTTP(w, r)
			return
		}
		fmt.Fprintln(w, "hello from upstream")
	}))
	u.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	u.StartTLS()
	t.Cleanup(u.Close)
	return u
}

// world is a profiles file with one profile matching the first upstream, a
// second upstream no profile matches, and the CA both are signed by.
type world struct {
	env        *testbin.Env
	op         *testprovider.OP
	api, other *upstream
	caFile     string
}

func newWorld(t *testing.T, gitRoot string) *world {
	t.Helper()
	bin := testbin.Build(t, "lanyard")
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	ca, err := testprovider.NewCA("upstream test CA")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{op: op, env: testbin.NewEnv(t, bin)}
	w.api = startUpstream(t, ca, op.Valid, gitRoot)
	w.other = startUpstream(t, ca, nil, "")
	w.caFile = filepath.Join(t.TempDir(), "upstream-ca.pem")
	if err := os.WriteFile(w.caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	w.env.Set(secretVar, op.ConfidentialClientSecret)
	// The proxy verifies upstreams against SSL_CERT_FILE, as everywhere.
	w.env.Set("SSL_CERT_FILE", w.caFile)
	w.env.WriteConfig(t, fmt.Sprintf("[profiles.api]\ngrant = \"client_credentials\"\nissuer = %q\nclient_id = %q\nclient_secret = \"env:%s\"\nmatch = [%q]\n",
		op.Issuer, op.ConfidentialClientID, secretVar, w.api.URL+"/"))
	return w
}

type running struct {
	addr, ca string
	cmd      *exec.Cmd
	stderr   *strings.Builder
	done     chan struct{} // closed when the proxy has exited
}

// startProxy runs lanyard proxy and waits (bounded) for its two lines.
func (w *world) startProxy(t *testing.T, args ...string) *running {
	t.Helper()
	cmd := w.env.Command("lanyard", append([]string{"proxy", "--profiles", "api"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan []string, 1)
	go func() {
		br := bufio.NewReader(out)
		a, _ := br.ReadString('\n')
		c, _ := br.ReadString('\n')
		lines <- []string{strings.TrimSpace(a), strings.TrimSpace(c)}
		_, _ = br.WriteTo(io_discard{})
		_ = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		// SIGTERM: the proxy finishes, writing what its audit log queued.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-r.done
		}
	})
	select {
	case l := <-lines:
		r.addr, r.ca = l[0], l[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("lanyard proxy printed nothing within 30s; stderr: %s", r.stderr)
	}
	if !strings.HasPrefix(r.addr, "http://127.0.0.1:") || r.ca == "" {
		t.Fatalf("lanyard proxy printed %q and %q; stderr: %s", r.addr, r.ca, r.stderr)
	}
	return r
}

type io_discard struct{}

func (io_discard) Write(b []byte) (int, error) { return len(b), nil }

// curl runs curl through the proxy and returns stdout, stderr and its exit code.
func (w *world) curl(t *testing.T, p *running, cacert string, args ...string) (string, string, int) {
	t.Helper()
	curl := testbin.NeedTool(t, "curl")
	return w.env.Run(t, "", curl, append([]string{"-sS", "--max-time", "20", "--proxy", p.addr, "--cacert", cacert}, args...)...)
}

func (w *world) log(t *testing.T, args ...string) []audit.Event {
	t.Helper()
	out, errOut, code := w.env.Run(t, "", "lanyard", append([]string{"log", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("lanyard log --json: exit %d: %s", code, errOut)
	}
	var evs []audit.Event
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("lanyard log --json line %q: %v", l, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// waitLog waits (bounded) until the audit log has an event that ok accepts.
func (w *world) waitLog(t *testing.T, ok func(audit.Event) bool) audit.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, e := range w.log(t) {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such audit event; the log: %+v", w.log(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestProxyCurlGitAndTunnel(t *testing.T) {
	gitBin := testbin.NeedTool(t, "git")
	root := t.TempDir()
	src := filepath.Join(root, "src")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", src},
		{"-C", src, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "first"},
		{"clone", "-q", "--bare", src, filepath.Join(root, "repo.git")},
	} {
		if out, err := exec.Command(gitBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	w := newWorld(t, root)
	p := w.startProxy(t)

	// curl to the profile's host: the sandbox's own credentials are replaced
	// by the profile's token, which the sandbox never sees.
	out, errOut, code := w.curl(t, p, p.ca, "--fail", "-H", "Authorization: Bearer sandbox-own", w.api.URL+"/hello")
	if code != 0 || !strings.Contains(out, "hello from upstream") {
		t.Fatalf("curl through the proxy: exit %d, %q, %s; proxy: %s", code, out, errOut, p.stderr)
	}
	seen := w.api.seen()
	tok := token(seen[len(seen)-1])
	if !w.op.Valid(tok) || !strings.HasPrefix(seen[len(seen)-1], "Bearer ") {
		t.Fatalf("upstream saw %q, want the profile's Bearer token", seen[len(seen)-1])
	}

	// A host no profile matches is tunnelled untouched: the client sees its
	// own certificate (trusting only the upstream CA works, only the
	// proxy's CA fails) and its own header.
	out, errOut, code = w.curl(t, p, w.caFile, "--fail", "-H", "Authorization: Bearer mine", w.other.URL+"/x")
	if code != 0 || !strings.Contains(out, "hello") {
		t.Fatalf("curl to a tunnelled host with its own CA: exit %d, %q, %s", code, out, errOut)
	}
	if s := w.other.seen(); len(s) != 1 || s[0] != "Bearer mine" {
		t.Errorf("the tunnelled host saw %q, want the client's own header only", s)
	}
	if _, _, code := w.curl(t, p, p.ca, w.other.URL+"/x"); code == 0 {
		t.Errorf("a tunnelled host verified with the proxy's CA: the proxy intercepted it")
	}

	// An upstream redirect to another host comes back to the client
	// unfollowed; the other host never sees the token.
	out, _, code = w.curl(t, p, p.ca, "-o", "/dev/null", "-w", "%{http_code}", w.api.URL+"/redirect?to="+w.other.URL+"/stolen")
	if code != 0 || out != "302" {
		t.Errorf("redirect through the proxy: exit %d, status %q, want 302", code, out)
	}
	if n := len(w.other.seen()); n != 1 {
		t.Errorf("the proxy followed a redirect: the other host got %d requests", n)
	}

	// Real git, no credential helper: the proxy adds the token as git's Basic.
	before := len(w.api.seen())
	out, errOut, code = w.env.Run(t, "", gitBin, "-c", "credential.helper=", "-c", "http.proxy="+p.addr, "-c", "http.sslCAInfo="+p.ca,
		"ls-remote", w.api.URL+"/repo.git")
	if code != 0 || !strings.Contains(out, "refs/heads/main") {
		t.Fatalf("git ls-remote through the proxy: exit %d, %q, %s; proxy: %s", code, out, errOut, p.stderr)
	}
	for _, h := range w.api.seen()[before:] {
		if !strings.HasPrefix(h, "Basic ") || !w.op.Valid(token(h)) {
			t.Errorf("git's request reached the server with %q, want Basic oauth2:TOKEN", h)
		}
	}

	// The audit log names the hand-outs by fingerprint, never the token.
	e := w.waitLog(t, func(e audit.Event) bool { return e.Kind == audit.KindHandout && e.Tool == "proxy" })
	if e.Profile != "api" || e.Fingerprint != audit.Fingerprint(tok) || !strings.HasPrefix(e.URL, w.api.URL) || e.Addr == "" {
		t.Errorf("hand-out event %+v; want profile api, fingerprint %s, the URL and the caller", e, audit.Fingerprint(tok))
	}
	w.waitLog(t, func(e audit.Event) bool { return e.Kind == audit.KindProxyOpen })
	b, err := os.ReadFile(env.Env(w.env.Getenv).AuditPath())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), tok) {
		t.Error("the audit log holds the token")
	}
	if fi, _ := os.Stat(env.Env(w.env.Getenv).AuditPath()); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %o, want 600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(p.ca); strings.Contains(string(b), "PRIVATE KEY") || !strings.Contains(string(b), "CERTIFICATE") {
		t.Errorf("the CA file holds %q; want the certificate only", b)
	}
}

func TestProxyDenyOthersAndTTL(t *testing.T) {
	w := newWorld(t, "")
	p := w.startProxy(t, "--deny-others", "--ttl", "4s")
	_, errOut, code := w.curl(t, p, w.caFile, w.other.URL+"/x")
	if code == 0 || len(w.other.seen()) != 0 {
		t.Fatalf("--deny-others let a request to another host through (exit %d, %s)", code, errOut)
	}
	if out, _, code := w.curl(t, p, p.ca, "--fail", w.api.URL+"/hello"); code != 0 || !strings.Contains(out, "hello") {
		t.Fatalf("the profile's host through --deny-others: exit %d, %q", code, out)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("lanyard proxy --ttl 4s still runs after 30s")
	}
	if _, _, code := w.curl(t, p, p.ca, w.api.URL+"/hello"); code == 0 {
		t.Error("the proxy answered after its TTL")
	}
	w.waitLog(t, func(e audit.Event) bool {
		return e.Kind == audit.KindRefusal && strings.Contains(e.Reason, "deny-others")
	})
	w.waitLog(t, func(e audit.Event) bool { return e.Kind == audit.KindProxyClose && e.Reason == "ttl" })
}

func TestProxyConfirm(t *testing.T) {
	w := newWorld(t, "")
	dir := t.TempDir()
	script := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pidFile := filepath.Join(dir, "hung.pid")
	cases := []struct {
		name, program string
		allowed       bool
	}{
		{"allows", script("allow", `echo "$1" > `+filepath.Join(dir, "asked")+`; exit 0`), true},
		{"refuses", script("refuse", "exit 1"), false},
		{"hangs", script("hang", "echo $$ > "+pidFile+"; exec sleep 300"), false},
		{"missing", filepath.Join(dir, "no-such-program"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.env.Set("LANYARD_CONFIRM_PROGRAM", c.program)
			p := w.startProxy(t, "--confirm", "--confirm-timeout", "2s")
			_, _, code := w.curl(t, p, p.ca, "--fail", w.api.URL+"/hello")
			if (code == 0) != c.allowed {
				t.Fatalf("confirm program that %s: curl exit %d; proxy: %s", c.name, code, p.stderr)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "asked")); !strings.Contains(string(b), "profile api") {
		t.Errorf("the confirm program was asked %q; want a line naming the profile", b)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("the hung confirm program (pid %d) still runs", pid)
	}
	w.waitLog(t, func(e audit.Event) bool {
		return e.Kind == audit.KindRefusal && strings.Contains(e.Reason, "no answer within")
	})
}
