package postman

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// bearerAPI is a resource server that accepts only tokens the test OP says
// are valid, in the Authorization header or the access_token parameter.
type bearerAPI struct {
	op       *testprovider.OP
	mu       sync.Mutex
	ok, bad  int
	accepted []string
}

func (a *bearerAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	via, tok := "", ""
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		via, tok = "header", v
	} else if v := r.URL.Query().Get("access_token"); v != "" {
		via, tok = "query", v
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if tok == "" || !a.op.Valid(tok) {
		a.bad++
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	a.ok++
	a.accepted = append(a.accepted, tok)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"via": via})
}

func (a *bearerAPI) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ok + a.bad
}

// serve is a running `lanyard serve` process.
type serve struct {
	cmd     *exec.Cmd
	stderr  *bytes.Buffer
	URL     string `json:"url"`
	KeyFile string `json:"key_file"`
	Key     string
}

// startServe starts lanyard serve and reads the JSON line it prints on
// stdout once it listens: no sleeping, no polling.
func startServe(t *testing.T, env *testbin.Env, args ...string) *serve {
	t.Helper()
	s := &serve{stderr: &bytes.Buffer{}}
	s.cmd = env.Command("lanyard", append([]string{"serve"}, args...)...)
	s.cmd.Stderr = s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		_ = s.cmd.Wait()
		t.Fatalf("lanyard serve printed no address: %v\nstderr: %s", err, s.stderr)
	}
	if err := json.Unmarshal(line, s); err != nil || s.URL == "" || s.KeyFile == "" {
		t.Fatalf("lanyard serve printed %q on stdout, want {\"url\":..,\"key_file\":..}: %v", line, err)
	}
	b, err := os.ReadFile(s.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s.Key = strings.TrimSpace(string(b))
	return s
}

// stop sends SIGTERM and waits: serve must shut down cleanly, exit 0.
func (s *serve) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("lanyard serve after SIGTERM: %v, want exit 0\nstderr: %s", err, s.stderr)
	}
}

type newmanRun struct {
	t      *testing.T
	newman string
	env    *testbin.Env
}

// run runs the example collection with the given variables.
func (n *newmanRun) run(vars map[string]string) (code int, out string) {
	n.t.Helper()
	args := []string{"run", filepath.Join(testbin.Root(n.t), "helpers", "postman", "testdata", collectionFile),
		"--reporters", "cli", "--color", "off", "--disable-unicode", "--timeout-request", "30000"}
	for k, v := range vars {
		args = append(args, "--env-var", k+"="+v)
	}
	cmd := n.env.Command(n.newman, args...)
	b, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		n.t.Fatal(err)
	}
	return code, string(b)
}

// TestNewman runs the example collection (collection-level pre-request
// script = pre-request.js) in real newman against real lanyard serve and a
// bearer-checking API.
func TestNewman(t *testing.T) {
	newman := testbin.NeedTool(t, "newman")
	bin := testbin.Build(t, "lanyard")
	op := startOP(t, 5*time.Minute)
	env := testEnv(t, bin, op)
	a := &bearerAPI{op: op}
	api := httptest.NewServer(a)
	defer api.Close()

	s := startServe(t, env)
	wantKeyFile := filepath.Join(env.Getenv("XDG_STATE_HOME"), "lanyard", "serve.key")
	if s.KeyFile != wantKeyFile {
		t.Errorf("key file %s, want %s", s.KeyFile, wantKeyFile)
	}
	if fi, err := os.Stat(s.KeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v, want 0600", fi.Mode().Perm(), err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("serve URL %s, want http://127.0.0.1:PORT", s.URL)
	}

	n := &newmanRun{t: t, newman: newman, env: env}
	vars := func(kv ...string) map[string]string {
		m := map[string]string{"lanyard_url": s.URL, "lanyard_key": s.Key, "lanyard_profile": "api", "api_url": api.URL}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	t.Run("header", func(t *testing.T) {
		before := a.requests()
		if code, out := n.run(vars()); code != 0 {
			t.Fatalf("newman: exit %d\n%s", code, out)
		}
		if got := a.requests() - before; got != 2 || a.bad != 0 {
			t.Errorf("the API got %d requests (%d refused), want 2 accepted", got, a.bad)
		}
	})
	t.Run("query", func(t *testing.T) {
		if code, out := n.run(vars("lanyard_mode", "query")); code != 0 {
			t.Fatalf("newman: exit %d\n%s", code, out)
		}
	})
	if n := op.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for 4 API calls, want 1 (serve hands out the cached token)", n)
	}

	// Failures: the request is not sent, and newman says why.
	failures := []struct {
		name string
		vars map[string]string
		says string
	}{
		{"needs login", vars("lanyard_profile", "needslogin"), "run: lanyard login needslogin"},
		{"unknown profile", vars("lanyard_profile", "nope"), `profile "nope" not found`},
		{"wrong key", vars("lanyard_key", "wrong"), "X-Lanyard-Key header is wrong"},
		{"variables missing", map[string]string{"api_url": api.URL}, "set the variable(s) lanyard_url, lanyard_key, lanyard_profile"},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			before := a.requests()
			code, out := n.run(f.vars)
			if code == 0 || !strings.Contains(out, f.says) {
				t.Errorf("newman: exit %d, want non-zero and output saying %q\n%s", code, f.says, out)
			}
			if got := a.requests() - before; got != 0 {
				t.Errorf("the request was sent anyway (%d API requests)", got)
			}
		})
	}

	s.stop(t)
	logs := s.stderr.String()
	if strings.Count(logs, s.Key) != 1 {
		t.Errorf("serve's stderr shows the key %d times, want once at start:\n%s", strings.Count(logs, s.Key), logs)
	}
	for _, tok := range a.accepted {
		if strings.Contains(logs, tok) {
			t.Fatalf("serve's stderr holds a token:\n%s", logs)
		}
	}
	if !strings.Contains(logs, `GET "/token/api" 200`) || !strings.Contains(logs, `GET "/token/needslogin" 409`) {
		t.Errorf("serve's request log lacks lines:\n%s", logs)
	}

	t.Run("serve down", func(t *testing.T) {
		before := a.requests()
		code, out := n.run(vars())
		if code == 0 || !strings.Contains(out, "lanyard serve is not reachable at "+s.URL) || !strings.Contains(out, "ECONNREFUSED") {
			t.Errorf("newman with serve stopped: exit %d, want non-zero and a readable message\n%s", code, out)
		}
		if got := a.requests() - before; got != 0 {
			t.Errorf("the request was sent without a token (%d API requests)", got)
		}
	})
}

// TestServeProcess checks the command itself: loopback only, the key file
// kept across restarts, --new-key, and the token JSON over real TCP.
func TestServeProcess(t *testing.T) {
	bin := testbin.Build(t, "lanyard")
	op := startOP(t, 5*time.Minute)
	env := testEnv(t, bin, op)

	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0"} {
		cmd := env.Command("lanyard", "serve", "--addr", addr)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "loopback only") {
			t.Errorf("lanyard serve --addr %s: %v\n%s\nwant exit 1 saying loopback only", addr, err, out)
		}
	}

	keyFile := filepath.Join(env.Home, "keys", "serve.key")
	s := startServe(t, env, "--key-file", keyFile)
	req, _ := http.NewRequest("GET", s.URL+"/token/api", nil)
	req.Header.Set(KeyHeader, s.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok TokenResponse
	if err := json.Unmarshal(body, &tok); err != nil || resp.StatusCode != 200 || !op.Valid(tok.AccessToken) {
		t.Fatalf("GET /token/api: %d %v, want 200 with a valid token", resp.StatusCode, err)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	// A DNS-rebinding request over real TCP: Host names another site.
	req, _ = http.NewRequest("GET", s.URL+"/token/api", nil)
	req.Host = "evil.example"
	req.Header.Set(KeyHeader, s.Key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("Host evil.example: %v %v, want 403", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	s.stop(t)

	again := startServe(t, env, "--key-file", keyFile)
	if again.Key != s.Key {
		t.Error("a restart made a new key; want the kept one (Postman keeps working)")
	}
	again.stop(t)
	rotated := startServe(t, env, "--key-file", keyFile, "--new-key")
	if rotated.Key == s.Key || !validKey(rotated.Key) {
		t.Error("--new-key kept the old key")
	}
	rotated.stop(t)
}
