//go:build !windows

package mcp_test

// End to end with the official TypeScript SDK (testdata/node): its MCP
// server on 127.0.0.1 (Streamable HTTP, sessions, resumable streams, the
// SDK's bearer middleware asking the Whiplash emulator whether a token is
// valid) and its stdio client, which starts the built `lanyard mcp`. The
// Whiplash emulator rotates refresh tokens on every use and revokes the
// whole grant when a rotated one comes back, so a relay that wastes or
// races refresh tokens fails these tests.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// sdkDir is the npm project with @modelcontextprotocol/sdk, or a skip
// (a failure under LANYARD_E2E_REQUIRED).
func sdkDir(t *testing.T) string {
	t.Helper()
	testbin.NeedTool(t, "node")
	dir, err := filepath.Abs(filepath.Join("testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		if os.Getenv("LANYARD_E2E_REQUIRED") != "" {
			t.Fatalf("the MCP TypeScript SDK is required (LANYARD_E2E_REQUIRED is set) but not installed in %s; .ci/install.d/45-mcp-sdk.sh installs it", dir)
		}
		t.Skipf("the MCP TypeScript SDK is not installed in %s; run: (cd %s && npm ci)", dir, dir)
	}
	return dir
}

// world is one MCP server behind the Whiplash emulator, and a HOME with a
// profiles file at the default path.
type world struct {
	t      *testing.T
	bin    string
	sdk    string
	w      *testprovider.Whiplash
	home   string
	server string // the MCP endpoint
	extra  map[string]string
	env    []string

	tokenReqs atomic.Int64
	mu        sync.Mutex
	resources []string
	delay     atomic.Int64 // token endpoint delay, ns
	arrived   chan struct{}
}

func newWorld(t *testing.T, settings ...string) *world {
	t.Helper()
	sdk := sdkDir(t)
	bin := testbin.Build(t, "lanyard")
	w, err := testprovider.StartWhiplash()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	wd := &world{t: t, bin: bin, sdk: sdk, w: w, arrived: make(chan struct{}, 16)}

	// The token endpoint, seen through a recorder: which resource each
	// request names, and a delay to kill a relay during a refresh.
	target, _ := url.Parse(w.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	tokens := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		wd.tokenReqs.Add(1)
		wd.mu.Lock()
		wd.resources = append(wd.resources, strings.Join(form["resource"], " "))
		wd.mu.Unlock()
		select {
		case wd.arrived <- struct{}{}:
		default:
		}
		time.Sleep(time.Duration(wd.delay.Load()))
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(tokens.Close)

	// The MCP server asks this endpoint (Whiplash's API, behind its
	// bearer check) whether a token is valid.
	wd.server = startServer(t, sdk, w.URL+"/verify")

	// Only HOME and PATH, as MCP clients give a server they start, plus
	// the file keyring's settings a desktop would not need.
	wd.home, err = os.MkdirTemp("", "lym")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(wd.home) })
	wd.extra = map[string]string{
		"LANYARD_KEYRING_BACKEND":    "file",
		"LANYARD_KEYRING_PASSPHRASE": "test-passphrase",
		"WHIPLASH_CLIENT_SECRET":     w.ClientSecret,
	}
	if env.Env(os.Getenv).AgentOff() {
		wd.extra["LANYARD_AGENT"] = "off"
	}
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		wd.extra[k] = v
	}
	wd.env = []string{"HOME=" + wd.home, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C"}
	for k, v := range wd.extra {
		wd.env = append(wd.env, k+"="+v)
	}
	t.Cleanup(func() { wd.lanyard("", "agent", "stop") })

	cfgDir := filepath.Join(wd.home, ".config", "lanyard")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`[profiles.wl]
grant = "refresh_token"
token_url = %q
client_id = %q
client_secret = "env:WHIPLASH_CLIENT_SECRET"
client_auth = "post"

[profiles.browser]
grant = "authorization_code"
auth_url = %q
token_url = %q
client_id = %q
client_secret = "env:WHIPLASH_CLIENT_SECRET"
client_auth = "post"
redirect_uri = %q
`, tokens.URL+"/oauth/token", w.ClientID, w.AuthURL, w.TokenURL, w.ClientID, w.CallbackURL)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := wd.lanyard(w.IssueRefreshToken()+"\n", "login", "wl", "--refresh-token-stdin"); code != 0 {
		t.Fatalf("lanyard login wl: exit %d: %s", code, out)
	}
	return wd
}

// shortToken makes the profile's current token one that expires in 2s.
func (wd *world) shortToken() {
	wd.t.Helper()
	wd.w.SetAccessTTL(2 * time.Second)
	if out, code := wd.lanyard("", "token", "wl", "--force-refresh"); code != 0 {
		wd.t.Fatalf("lanyard token --force-refresh: exit %d: %s", code, out)
	}
}

// lanyard runs the lanyard binary in the world's environment.
func (wd *world) lanyard(stdin string, args ...string) (string, int) {
	cmd := exec.Command(filepath.Join(wd.bin, "lanyard"), args...)
	cmd.Env, cmd.Dir, cmd.Stdin = wd.env, wd.home, strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		wd.t.Fatal(err)
	}
	return string(out), 0
}

func startServer(t *testing.T, sdk, verify string, env ...string) string {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(sdk, "server.mjs"))
	cmd.Dir = sdk
	cmd.Env = append(append(os.Environ(), "VERIFY_URL="+verify), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		var v struct{ URL string }
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.URL == "" {
			t.Fatalf("MCP server said %q", l)
		}
		return v.URL
	case <-time.After(30 * time.Second):
		t.Fatal("the MCP server did not listen within 30s")
	}
	return ""
}

// stats are the MCP server's counters.
type stats struct {
	Post, Get, Delete, Unauthorized, Sessions, Calls, Resumed int
	Deleted                                                   []string
	ProtocolVersions                                          []string
}

func (wd *world) stats() stats {
	wd.t.Helper()
	u := strings.TrimSuffix(wd.server, "/mcp") + "/_stats"
	resp, err := http.Get(u)
	if err != nil {
		wd.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		wd.t.Fatal(err)
	}
	return s
}

// seen is what the SDK client reports.
type seen struct {
	Server        string
	Tools         []string
	Echo          []string
	Notify        string
	Notifications []string
	Error         string
	Stderr        string
}

// mcpClient is a running client.mjs.
type mcpClient struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Reader
}

func (wd *world) start(steps string, args ...string) *mcpClient {
	wd.t.Helper()
	return wd.startCmd(steps, append([]string{filepath.Join(wd.bin, "lanyard"), "mcp", wd.server}, args...))
}

// startCmd starts client.mjs with server (the stdio server's argv).
func (wd *world) startCmd(steps string, server []string) *mcpClient {
	wd.t.Helper()
	extra, _ := json.Marshal(wd.extra)
	argv := append([]string{filepath.Join(wd.sdk, "client.mjs"), steps}, server...)
	cmd := exec.Command("node", argv...)
	cmd.Dir = wd.home
	cmd.Env = append(slices.Clone(wd.env), "EXTRA_ENV="+string(extra))
	// A process group of its own: a test kills the client and lanyard mcp
	// together, as a client's crash would.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		wd.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		wd.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		wd.t.Fatal(err)
	}
	wd.t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return &mcpClient{cmd: cmd, stdin: stdin, lines: bufio.NewReader(out)}
}

// result waits (bounded) for the client's report.
func (c *mcpClient) result(t *testing.T) seen {
	t.Helper()
	s, ok := c.resultWithin(t, 60*time.Second)
	if !ok {
		t.Fatal("the MCP client did not finish within 60s")
	}
	return s
}

// resultWithin is result, with ok false (and the client killed) after d.
func (c *mcpClient) resultWithin(t *testing.T, d time.Duration) (seen, bool) {
	t.Helper()
	ch := make(chan string, 1)
	go func() {
		for {
			l, err := c.lines.ReadString('\n')
			if err != nil || !strings.Contains(l, `"holding"`) {
				ch <- l
				return
			}
		}
	}()
	select {
	case l := <-ch:
		_ = c.cmd.Wait()
		var s seen
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("MCP client said %q", l)
		}
		return s, true
	case <-time.After(d):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		return seen{}, false
	}
}

// hold waits until the client is at its hold step.
func (c *mcpClient) hold(t *testing.T) {
	t.Helper()
	ch := make(chan string, 1)
	go func() { l, _ := c.lines.ReadString('\n'); ch <- l }()
	select {
	case l := <-ch:
		if !strings.Contains(l, `"holding"`) {
			t.Fatalf("MCP client said %q, want it holding", l)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the MCP client did not reach its hold step within 60s")
	}
}

func (c *mcpClient) release() { _, _ = io.WriteString(c.stdin, "go\n") }

func (wd *world) run(steps string, args ...string) seen {
	wd.t.Helper()
	return wd.start(steps, args...).result(wd.t)
}

func TestRelay(t *testing.T) {
	wd := newWorld(t)
	got := wd.run("init,list,echo,notify,drop", "--profile", "wl")
	if got.Error != "" {
		t.Fatalf("client error %q; lanyard mcp said:\n%s", got.Error, got.Stderr)
	}
	if got.Server != "lanyard-e2e" {
		t.Errorf("got server %q, want lanyard-e2e", got.Server)
	}
	if want := []string{"drop", "echo", "notify"}; !slices.Equal(got.Tools, want) {
		t.Errorf("got tools %q, want %q", got.Tools, want)
	}
	if want := []string{"echo: hi"}; !slices.Equal(got.Echo, want) {
		t.Errorf("got echo %q, want %q", got.Echo, want)
	}
	// "after the drop" was sent while the GET stream was closed: only a
	// resumption with Last-Event-ID brings it.
	for _, n := range []string{"on the request stream", "on the GET stream", "after the drop"} {
		if !slices.Contains(got.Notifications, n) {
			t.Errorf("got notifications %q, want %q among them", got.Notifications, n)
		}
	}
	s := wd.stats()
	if s.Resumed == 0 {
		t.Errorf("the GET stream was never resumed with Last-Event-ID (%d GETs)", s.Get)
	}
	if s.Sessions != 1 || s.Delete != 1 || len(s.Deleted) != 1 {
		t.Errorf("got %d sessions, %d DELETEs (%q), want 1 session deleted on shutdown", s.Sessions, s.Delete, s.Deleted)
	}
	if !slices.ContainsFunc(s.ProtocolVersions, func(v string) bool { return strings.HasPrefix(v, "GET ") }) ||
		!slices.ContainsFunc(s.ProtocolVersions, func(v string) bool { return strings.HasPrefix(v, "DELETE ") }) {
		t.Errorf("got MCP-Protocol-Version on %q, want it on the GET stream and the DELETE too", s.ProtocolVersions)
	}
	// RFC 8707: the token requests name the server's canonical URI.
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if len(wd.resources) == 0 {
		t.Fatal("no token request")
	}
	for _, r := range wd.resources[1:] { // [0] is lanyard login's check
		if r != wd.server {
			t.Errorf("got resource %q on a token request, want %q", r, wd.server)
		}
	}
}

// TestRelayFiveAcrossExpiry: five client windows start at once on an
// expired token; one token request serves them all, and the rotated
// refresh token is never presented twice.
func TestRelayFiveAcrossExpiry(t *testing.T) {
	// No refresh ahead: the five callers themselves meet the expired token.
	wd := newWorld(t, "LANYARD_AGENT_REFRESH_AHEAD=0")
	wd.shortToken()
	wd.w.SetAccessTTL(time.Hour)
	time.Sleep(2500 * time.Millisecond) // the 2 s token is gone
	before := wd.tokenReqs.Load()
	var clients []*mcpClient
	for range 5 {
		clients = append(clients, wd.start("init,echo", "--profile", "wl"))
	}
	for i, c := range clients {
		if got := c.result(t); got.Error != "" || len(got.Echo) != 1 {
			t.Errorf("client %d: %+v", i, got)
		}
	}
	if n := wd.tokenReqs.Load() - before; n != 1 {
		t.Errorf("got %d token requests for five clients across one expiry, want 1", n)
	}
	if n := wd.w.ReuseDetections(); n != 0 {
		t.Errorf("got %d refresh token reuse detections, want 0", n)
	}
}

// TestRelayRevokedMidSession: the server stops accepting the token in the
// middle of a session; the next call gets one refresh and succeeds.
func TestRelayRevokedMidSession(t *testing.T) {
	wd := newWorld(t)
	c := wd.start("init,echo,hold,echo", "--profile", "wl")
	c.hold(t)
	before, s0 := wd.tokenReqs.Load(), wd.stats()
	wd.w.RevokeAllAccessTokens()
	c.release()
	got := c.result(t)
	if got.Error != "" || len(got.Echo) != 2 {
		t.Fatalf("got %+v, want two echoes", got)
	}
	if n := wd.tokenReqs.Load() - before; n != 1 {
		t.Errorf("got %d token requests after the revocation, want 1", n)
	}
	if n := wd.stats().Unauthorized - s0.Unauthorized; n != 1 {
		t.Errorf("the server refused %d requests after the revocation, want 1 (one retry, no loop)", n)
	}
}

// TestRelayKilledDuringRefresh: the client and its lanyard mcp are killed
// while the refresh is at the token endpoint; the refresh completes in the
// agent, and the next client works without a login.
func TestRelayKilledDuringRefresh(t *testing.T) {
	wd := newWorld(t, "LANYARD_AGENT_REFRESH_AHEAD=0")
	if env.Env(os.Getenv).AgentOff() {
		t.Skip("LANYARD_AGENT=off: the refresh runs in the killed process")
	}
	wd.shortToken()
	time.Sleep(2500 * time.Millisecond)
	for len(wd.arrived) > 0 {
		<-wd.arrived
	}
	wd.delay.Store(int64(1500 * time.Millisecond))
	c := wd.start("init,echo", "--profile", "wl")
	select {
	case <-wd.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("no token request within 30s")
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	_ = c.cmd.Wait()
	wd.delay.Store(0)
	wd.w.SetAccessTTL(time.Hour)
	got := wd.run("init,echo", "--profile", "wl")
	if got.Error != "" || len(got.Echo) != 1 {
		t.Fatalf("after the kill: %+v", got)
	}
	if n := wd.w.ReuseDetections(); n != 0 {
		t.Errorf("got %d refresh token reuse detections, want 0", n)
	}
}

// TestRelayNoBrowser: a profile that needs a login, no browser (no
// DISPLAY, no BROWSER): initialize fails at once with the command to run.
func TestRelayNoBrowser(t *testing.T) {
	wd := newWorld(t)
	start := time.Now()
	got := wd.run("init", "--profile", "browser")
	took := time.Since(start)
	if !strings.Contains(got.Error, "run: lanyard login browser") {
		t.Errorf("got client error %q, want it to name: run: lanyard login browser", got.Error)
	}
	if !strings.Contains(got.Stderr, "run: lanyard login browser") {
		t.Errorf("got stderr %q, want it to name: run: lanyard login browser", got.Stderr)
	}
	if took > 15*time.Second {
		t.Errorf("took %s, want it fast", took)
	}
}

func TestSetupMcp(t *testing.T) {
	dir := testbin.Build(t, "lanyard")
	env := testbin.NewEnv(t, dir)
	out, errOut, code := env.Run(t, "", "lanyard", "setup", "mcp", "https://mcp.example.com/mcp", "--profile", "acme")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		MCPServers map[string]struct {
			Command string
			Args    []string
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	s, ok := v.MCPServers["mcp-example-com"]
	if want := []string{"mcp", "https://mcp.example.com/mcp", "--profile", "acme"}; !ok || s.Command != "lanyard" || !slices.Equal(s.Args, want) {
		t.Errorf("got %s, want mcp-example-com running lanyard %q", out, want)
	}
}

// TestRelayDiscovers: no --profile and no profile yet. lanyard mcp follows
// the server's 401 to its resource metadata and authorization server,
// registers a public client, appends a profile without secrets, logs in
// in the (test's) browser with PKCE and resource, and relays. The next
// start reuses the profile, the client and the tokens.
func TestRelayDiscovers(t *testing.T) {
	sdk := sdkDir(t)
	bin := testbin.Build(t, "lanyard")
	as, err := testprovider.StartMCPAuth()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	wd := &world{t: t, bin: bin, sdk: sdk}
	wd.server = startServer(t, sdk, as.URL+"/verify", "AS_URL="+as.URL)
	as.SetResource(wd.server)
	wd.home, err = os.MkdirTemp("", "lym")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(wd.home) })
	wd.extra = map[string]string{
		"LANYARD_KEYRING_BACKEND":    "file",
		"LANYARD_KEYRING_PASSPHRASE": "test-passphrase",
		"BROWSER":                    "node " + filepath.Join(sdk, "browser.mjs"),
	}
	if env.Env(os.Getenv).AgentOff() {
		wd.extra["LANYARD_AGENT"] = "off"
	}
	wd.env = []string{"HOME=" + wd.home, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C"}
	for k, v := range wd.extra {
		wd.env = append(wd.env, k+"="+v)
	}
	t.Cleanup(func() { wd.lanyard("", "agent", "stop") })

	for i := range 2 {
		got := wd.run("init,list,echo")
		if got.Error != "" || len(got.Echo) != 1 {
			t.Fatalf("start %d: %+v", i+1, got)
		}
	}
	if n := as.Registrations(); n != 1 {
		t.Errorf("got %d client registrations for two starts, want 1", n)
	}
	if n := as.TokenRequests(); n != 1 {
		t.Errorf("got %d token requests for two starts, want 1 (the code exchange)", n)
	}
	for _, r := range as.Resources() {
		if r != wd.server {
			t.Errorf("got resource %q on an authorization or token request, want %q", r, wd.server)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(wd.home, ".config", "lanyard", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Written by lanyard mcp", `client_id = "dyn_`, `client_auth = "none"`, `resource = ["` + wd.server + `"]`} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("profiles file lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(string(cfg), "client_secret") {
		t.Errorf("profiles file holds a client secret:\n%s", cfg)
	}
}

// TestRelayNoServerAuth: without --profile, a server that cannot say how
// to authorize (here: nothing listens) fails initialize with the reason.
func TestRelayNoServerAuth(t *testing.T) {
	wd := newWorld(t)
	wd.server = "http://127.0.0.1:1/mcp"
	start := time.Now()
	got := wd.run("init")
	if !strings.Contains(got.Error, "could not reach the MCP server") {
		t.Errorf("got client error %q, want it to say the server could not be reached", got.Error)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("took %s, want it fast", took)
	}
}

// kill kills the client and the stdio server it started.
func (c *mcpClient) kill() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// TestRelayBadURL: a URL lanyard refuses (plain http to another host)
// fails initialize with what to change.
func TestRelayBadURL(t *testing.T) {
	wd := newWorld(t)
	wd.server = "http://mcp.example.com/mcp"
	got := wd.run("init", "--profile", "wl")
	if !strings.Contains(got.Error, "use https") {
		t.Errorf("got client error %q, want it to say: use https", got.Error)
	}
}
