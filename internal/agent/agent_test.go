package agent

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

const secretVar = "LANYARD_TEST_CLIENT_SECRET"

// fixture is an agent serving client_credentials profiles of a real OP on
// a socket of its own.
type fixture struct {
	env  *testbin.Env
	op   *testprovider.OP
	h    *Handler
	srv  *Server
	sock string
}

func profiles(op *testprovider.OP, names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "[profiles.%s]\ngrant = \"client_credentials\"\nissuer = %q\nclient_id = %q\nclient_secret = \"env:%s\"\nmatch = [\"https://%s.example.com/\"]\n\n",
			n, op.Issuer, op.ConfidentialClientID, secretVar, n)
	}
	return b.String()
}

func newFixture(t *testing.T, srv *Server, names ...string) *fixture {
	t.Helper()
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	env := testbin.NewEnv(t, t.TempDir())
	env.Set(secretVar, op.ConfidentialClientSecret)
	env.Set("LANYARD_AGENT", "on") // its clients talk to this test's server, whatever make target runs it
	env.WriteConfig(t, profiles(op, names...))
	h := &Handler{Getenv: env.Getenv, Recent: -1, Open: func() (*engine.Engine, error) {
		return engine.New(env.Getenv, io.Discard, false)
	}}
	f := &fixture{env: env, op: op, h: h, srv: srv, sock: env.AgentSocket}
	ln, closeLn, err := Listen(f.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeLn)
	srv.Serve(ln, h, f.sock)
	return f
}

func (f *fixture) ask(t *testing.T, req *wire.Request) *wire.Response {
	t.Helper()
	resp, err := client.New(f.env.Getenv, io.Discard, false).Ask(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *fixture) askErr(req *wire.Request) (*wire.Response, error) {
	return client.New(f.env.Getenv, io.Discard, false).Ask(context.Background(), req)
}

func getToken(profile string) *wire.Request {
	return &wire.Request{Op: wire.OpGet, Tool: wire.ToolToken, Profile: profile}
}

// 64 callers at once on a profile without a token: one token request.
func TestConcurrentCallersShareOneTokenRequest(t *testing.T) {
	f := newFixture(t, &Server{}, "p")
	const n = 64
	for round := range 2 {
		before := f.op.TokenRequests()
		var wg sync.WaitGroup
		tokens := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				resp, err := client.New(f.env.Getenv, io.Discard, false).Ask(context.Background(), getToken("p"))
				switch {
				case err != nil:
					errs[i] = err
				case resp.Status != wire.StatusOK:
					errs[i] = fmt.Errorf("%s: %s", resp.Status, resp.Message)
				default:
					tokens[i] = resp.Token
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := f.op.TokenRequests() - before; got != 1 {
			t.Errorf("round %d: token requests for %d callers: got %d, want 1", round, n, got)
		}
		for _, tok := range tokens {
			if tok != tokens[0] || !f.op.Valid(tok) {
				t.Fatalf("round %d: callers got different or invalid tokens", round)
			}
		}
		// Round 2: the same on an expired token.
		expire(t, f.env, "p")
		f.h.forget("p")
	}
}

// expire marks the stored token of profile as expired.
func expire(t *testing.T, env *testbin.Env, profile string) {
	t.Helper()
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(env.Getenv, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := eng.Cached(cfg.Profiles[profile])
	if err != nil || tok == nil {
		t.Fatalf("no token for %s: %v", profile, err)
	}
	tok.Expiry = time.Now().Add(-time.Second)
	if err := eng.Store.SaveToken(profile, tok); err != nil {
		t.Fatal(err)
	}
	eng.Hot.Drop(profile)
}

// A client that connects and never speaks, and one that announces a huge
// request, are cut off; a client arriving meanwhile is answered at once.
func TestSilentAndOversizeClientsAreCutOff(t *testing.T) {
	f := newFixture(t, &Server{ReadTimeout: 300 * time.Millisecond}, "p")
	silent, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	huge, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer huge.Close()
	if _, err := huge.Write(binary.BigEndian.AppendUint32(nil, 1<<30)); err != nil {
		t.Fatal(err)
	}
	if resp := f.ask(t, getToken("p")); resp.Status != wire.StatusOK {
		t.Fatalf("a normal client next to a silent one: got %s %s", resp.Status, resp.Message)
	}
	for name, c := range map[string]net.Conn{"silent": silent, "huge": huge} {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if n != 0 || err == nil || os.IsTimeout(err) {
			t.Errorf("%s client: got %d bytes, %v; want the agent to hang up", name, n, err)
		}
	}
}

// A peer of another uid gets nothing (the server here pretends to belong to
// someone else, since a test cannot connect as another user).
func TestPeerOfAnotherUserIsRefused(t *testing.T) {
	other := uint32(os.Getuid() + 1)
	f := newFixture(t, &Server{UID: &other}, "p")
	_, err := client.New(f.env.Getenv, io.Discard, false).Ask(context.Background(), getToken("p"))
	if err == nil {
		t.Fatal("got an answer; want the connection refused")
	}
	if n := f.op.TokenRequests(); n != 0 {
		t.Errorf("token requests: %d, want 0", n)
	}
}

// Editing the profiles file takes effect on the next request; a changed
// cache key never serves the old token.
func TestProfileEditIsPickedUp(t *testing.T) {
	f := newFixture(t, &Server{}, "p")
	first := f.ask(t, getToken("p"))
	if first.Status != wire.StatusOK {
		t.Fatalf("%s: %s", first.Status, first.Message)
	}
	if r := f.ask(t, getToken("q")); r.Status != wire.StatusBadConfig || !strings.Contains(r.Message, `profile "q" not found`) {
		t.Fatalf("unknown profile: got %s %q", r.Status, r.Message)
	}
	f.env.WriteConfig(t, profiles(f.op, "p", "q")+"# edited\n")
	if r := f.ask(t, getToken("q")); r.Status != wire.StatusOK {
		t.Fatalf("profile added to the file: got %s %q", r.Status, r.Message)
	}
	f.env.WriteConfig(t, strings.Replace(profiles(f.op, "p"), "match", "scopes = [\"openid\"]\nmatch", 1))
	second := f.ask(t, getToken("p"))
	if second.Status != wire.StatusOK || second.Token == first.Token {
		t.Fatalf("after a scope change: got %s, same token %v; want a new token", second.Status, second.Token == first.Token)
	}
}

// A forwarding socket serves its profiles and nothing else.
func TestForwardServesOnlyItsProfiles(t *testing.T) {
	f := newFixture(t, &Server{}, "a", "b")
	fwdPath := filepath.Join(filepath.Dir(f.sock), "fwd.sock")
	ln, err := ListenForward(fwdPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fwd := &Server{}
	fwd.Serve(ln, &Forwarder{Agent: client.New(f.env.Getenv, io.Discard, false), Profiles: []string{"a"}}, fwdPath)
	remote := func(req *wire.Request) *wire.Response {
		t.Helper()
		resp, err := client.New(func(k string) string {
			if k == "LANYARD_AGENT_SOCK" {
				return fwdPath
			}
			return ""
		}, io.Discard, false).Ask(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := remote(getToken("a")); r.Status != wire.StatusOK || !f.op.Valid(r.Token) {
		t.Errorf("forwarded profile: got %s %q", r.Status, r.Message)
	}
	if r := remote(&wire.Request{Op: wire.OpGet, Tool: wire.ToolGit, URL: "https://a.example.com"}); r.Status != wire.StatusOK || r.Profile != "a" {
		t.Errorf("forwarded profile by URL: got %s %q", r.Status, r.Message)
	}
	if r := remote(getToken("b")); r.Status != wire.StatusBadConfig || r.Token != "" || !strings.Contains(r.Message, `profile "b" not found`) {
		t.Errorf("other profile by name: got %s %q, want not found", r.Status, r.Message)
	}
	if r := remote(&wire.Request{Op: wire.OpGet, Tool: wire.ToolGit, URL: "https://b.example.com"}); r.Status != wire.StatusNoMatch {
		t.Errorf("other profile by URL: got %s %q, want no_match", r.Status, r.Message)
	}
	for _, op := range []string{wire.OpStop, wire.OpForget} {
		if r := remote(&wire.Request{Op: op}); r.Status != wire.StatusError {
			t.Errorf("%s through the forward: got %s", op, r.Status)
		}
	}
	if r := remote(&wire.Request{Op: wire.OpStatus}); r.Agent == nil || len(r.Agent.Profiles) != 1 || r.Agent.Profiles[0].Name != "a" {
		t.Errorf("status through the forward: got %+v, want profile a only", r.Agent)
	}
}

// An agent that dies mid-request (here: reads the request and hangs up)
// costs the client one retry, never a hang or a wrong answer.
func TestClientRetriesWhenAgentDiesMidRequest(t *testing.T) {
	f := newFixture(t, &Server{}, "p")
	dying := filepath.Join(filepath.Dir(f.sock), "dying.sock")
	ln, err := ListenForward(dying)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = wire.ReadRequest(c)
		c.Close() // dies without answering
		f.srv.Serve(ln, f.h, dying)
	}()
	cl := client.New(func(k string) string {
		if k == "LANYARD_AGENT_SOCK" {
			return dying
		}
		return f.env.Getenv(k)
	}, io.Discard, false)
	resp, err := cl.Resolve(context.Background(), getToken("p"))
	if err != nil || resp.Status != wire.StatusOK || !f.op.Valid(resp.Token) {
		t.Fatalf("got %+v, %v; want a valid token after one retry", resp, err)
	}
}

// kubectl with provideClusterInfo: the cluster's extension names the
// profile (only within its match), else the server URL picks it by match.
func TestKubectlClusterPicksProfile(t *testing.T) {
	f := newFixture(t, &Server{}, "a", "b")
	cluster := func(server, named string) *wire.Request {
		return &wire.Request{Op: wire.OpGet, Tool: wire.ToolKubectl, URL: server, ClusterProfile: named}
	}
	for _, tt := range []struct {
		req         *wire.Request
		wantProfile string
		wantErr     string
	}{
		{cluster("https://b.example.com", ""), "b", ""},
		{cluster("https://b.example.com", "b"), "b", ""},
		{cluster("https://a.example.com/", "a"), "a", ""},
		{cluster("https://evil.example.com", "a"), "", `profile "a" will not send its token to https://evil.example.com`},
		{cluster("https://c.example.com", ""), "", `no lanyard profile serves cluster https://c.example.com`},
	} {
		r := f.ask(t, tt.req)
		if tt.wantErr != "" {
			if r.Status == wire.StatusOK || !strings.Contains(r.Message, tt.wantErr) {
				t.Errorf("%s named %q: got %s %q, want %q", tt.req.URL, tt.req.ClusterProfile, r.Status, r.Message, tt.wantErr)
			}
			continue
		}
		if r.Status != wire.StatusOK || r.Profile != tt.wantProfile {
			t.Errorf("%s named %q: got %s %q profile %q, want %q", tt.req.URL, tt.req.ClusterProfile, r.Status, r.Message, r.Profile, tt.wantProfile)
		}
	}
}

// A profile in use is refreshed before callers would find its token
// stale: the next caller gets a new token without a token request of its
// own.
func TestRefreshAhead(t *testing.T) {
	f := newFixture(t, &Server{}, "p")
	f.op.SetAccessTTL(3 * time.Second)
	f.h.Recent = time.Hour
	first := f.ask(t, getToken("p"))
	if first.Status != wire.StatusOK {
		t.Fatalf("%s: %s", first.Status, first.Message)
	}
	f.op.SetAccessTTL(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.h.RefreshAhead(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	// Wait, bounded, for the refresh ahead (due about 2.4s after the
	// first token, before the 0.3s refresh_before window).
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	refreshed := func() bool {
		st := f.h.Status(nil)
		return len(st) == 1 && st[0].Expiry.After(first.Expiry)
	}
	for !refreshed() {
		select {
		case <-deadline:
			t.Fatalf("no refresh ahead within 30s; status %+v", f.h.Status(nil))
		case <-tick.C:
		}
	}
	before := f.op.TokenRequests()
	next := f.ask(t, getToken("p"))
	if next.Status != wire.StatusOK || next.Token == first.Token || !f.op.Valid(next.Token) {
		t.Fatalf("after the refresh ahead: got %s, new token %v, valid %v; status %+v", next.Status, next.Token != first.Token, f.op.Valid(next.Token), f.h.Status(nil))
	}
	if n := f.op.TokenRequests() - before; n != 0 {
		t.Errorf("the caller made %d token requests, want 0", n)
	}
	if st := f.h.Status(nil); len(st) != 1 || st[0].LastError != "" || st[0].NextRefresh.IsZero() {
		t.Errorf("status after a refresh ahead: %+v", st)
	}
}
