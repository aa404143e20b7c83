package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// agentBackends are the keyring backends the agent rows use: the agent
// opens the keyring once, so a hit costs the same on each.
var agentBackends = []string{"file", "secret-service"}

// Targets of the agent rows (issue 14).
const (
	targetAgentRatio = 1.3 // goal; targetHelloRatio (1.5) is the must
	targetAgentRSS   = 5 * 1024
)

// useAgent gives env an agent of its own (a short socket path: unix
// socket paths are limited to about 100 bytes); stop stops it.
func (b *bench) useAgent(env *Env) (stop func(), err error) {
	dir, err := os.MkdirTemp("", "lyb")
	if err != nil {
		return nil, err
	}
	env.Set("LANYARD_AGENT", "on")
	env.Set("LANYARD_AGENT_SOCK", filepath.Join(dir, "agent.sock"))
	return func() {
		Start(context.Background(), Spec{Name: "agent stop", Path: b.built.Path[cmdLanyard], Args: []string{"agent", "stop"}, Env: env.Vars()})
		os.RemoveAll(dir)
	}, nil
}

// helperSpecIn is helperSpec for the processes of another environment.
func (b *bench) helperSpecIn(env *Env, h, profile, gitHost, registry string) (Spec, string) {
	saved := b.env
	b.env = env
	defer func() { b.env = saved }()
	return b.helperSpec(h, profile, gitHost, registry)
}

// agentHits measures every helper's cache hit with the agent running, per
// keyring backend, round-robin with hello-world, and their peak RSS.
func (b *bench) agentHits(ctx context.Context) {
	sec := Section{Title: fmt.Sprintf("cache hit with the agent running (one socket round trip): min / median of %d runs each,\n  round-robin with hello-world; peak RSS of the helper process", b.opt.Rounds)}
	defer func() { b.table.Sections = append(b.table.Sections, sec) }()
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: time.Hour})
	if err != nil {
		sec.Rows = append(sec.Rows, Row{Figure: "agent", Measured: NA + " (" + err.Error() + ")", Result: NA})
		return
	}
	defer op.Close()
	const gitHost, registry = "git.agent.bench.test", "registry.agent.bench.test"
	profile := fmt.Sprintf("[profiles.ag]\nissuer = %q\ngrant = \"client_credentials\"\nclient_id = %q\nclient_secret = \"env:LANYARD_BENCH_OP_SECRET\"\nmatch = [\"https://%s/\", \"https://%s\"]\n", op.Issuer, op.ConfidentialClientID, gitHost, registry)
	work := filepath.Dir(b.env.Home)

	specs := []Spec{b.spec(cmdHello, "hello-world", "", nil, "hello, world")}
	type row struct{ figure, backend string }
	var rows []row
	for _, name := range agentBackends {
		be, why := b.backendEnv(filepath.Join(work, "ag-"+name), name, op.ConfidentialClientSecret, profile)
		if why != "" {
			b.logf("agent, keyring backend %s: %s", name, why)
			sec.Rows = append(sec.Rows, Row{Figure: "helpers, " + name, Measured: NA + " (" + why + ")", Target: fmt.Sprintf("≤ %.1fx hello (must %.1fx)", targetAgentRatio, targetHelloRatio), Result: NA, Store: name})
			continue
		}
		defer be.Close()
		stop, err := b.useAgent(be.env)
		if err != nil {
			sec.Rows = append(sec.Rows, Row{Figure: "helpers, " + name, Measured: NA + " (" + err.Error() + ")", Result: NA, Store: name})
			continue
		}
		defer stop()
		for _, h := range append(helpers, agentOnly...) {
			s, why := b.helperSpecIn(be.env, h, "ag", gitHost, registry)
			if why != "" {
				continue
			}
			s.Name += ", " + name
			if r := Start(ctx, s); r.Err != nil { // the first one starts the agent and gets the token
				b.logf("agent: %v", r.Err)
				sec.Rows = append(sec.Rows, Row{Figure: s.Name, Measured: NA + " (" + firstLine(r.Err.Error()) + ")", Result: NA, Store: name})
				continue
			}
			specs = append(specs, s)
			rows = append(rows, row{s.Name, name})
		}
	}
	before := op.TokenRequests()
	b.logf("cache hit with the agent: %d binaries x %d rounds", len(specs), b.opt.Rounds)
	samples, err := RoundRobin(ctx, specs, b.opt.Warmup, b.opt.Rounds, func(s Spec) error {
		if n := op.TokenRequests(); n != before {
			return fmt.Errorf("%s made a token request: not a cache hit", s.Name)
		}
		return nil
	})
	if err != nil {
		sec.Rows = append(sec.Rows, Row{Figure: "agent", Measured: NA + " (" + firstLine(err.Error()) + ")", Result: NA})
		return
	}
	rss, rssSource := b.peakRSS(ctx, specs)
	hello := samples[0]
	helloRSS := ""
	if rss != nil {
		helloRSS = ", " + mib(rss[0])
	}
	sec.Rows = append([]Row{{Figure: "hello-world", Measured: minMed(hello) + helloRSS, Target: "baseline", Result: Ref, Store: "-"}}, sec.Rows...)
	for i, r := range rows {
		s := samples[i+1]
		rh := ratio(s.Median(), hello.Median())
		measured := fmt.Sprintf("%s, %.2fx [%.2fx] hello", minMed(s), rh, ratio(s.Min(), hello.Min()))
		ok := rh <= targetHelloRatio
		target := fmt.Sprintf("≤ %.1fx hello (must %.1fx)", targetAgentRatio, targetHelloRatio)
		if rss != nil {
			measured += ", " + mib(rss[i+1])
			target += ", ≤ " + mib(targetAgentRSS)
			ok = ok && rss[i+1] <= targetAgentRSS
		} else {
			measured += ", RSS " + NA + " (" + rssSource + ")"
		}
		sec.Rows = append(sec.Rows, Row{Figure: r.figure, Measured: measured, Target: target, Result: verdict(ok), Store: r.backend})
	}
}

// slowTokenEndpoint puts a reverse proxy in front of op that answers token
// requests after delay: a real provider's 80-300 ms.
func slowTokenEndpoint(op *testprovider.OP, delay time.Duration) (tokenURL string, closeFn func(), err error) {
	target, err := url.Parse(op.Issuer)
	if err != nil {
		return "", nil, err
	}
	tu, err := url.Parse(op.TokenURL)
	if err != nil {
		return "", nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == tu.Path {
			time.Sleep(delay)
		}
		proxy.ServeHTTP(w, r)
	})}
	ln, err := listenLoopback()
	if err != nil {
		return "", nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + tu.Path, func() { srv.Close() }, nil
}

// lifetimes runs lanyard token every 100 ms for three token lifetimes,
// with and without the agent, against a token endpoint that answers in
// 300 ms, and reports the worst caller latency after the first login.
func (b *bench) lifetimes(ctx context.Context) {
	const ttl, delay, every = 6 * time.Second, 300 * time.Millisecond, 100 * time.Millisecond
	sec := Section{Title: fmt.Sprintf("worst caller latency over three token lifetimes: lanyard token P every %s, tokens live %s,\n  the token endpoint answers in %s; the first call (the grant) excluded", every, ttl, delay)}
	defer func() { b.table.Sections = append(b.table.Sections, sec) }()
	if _, ok := b.built.Path[cmdLanyard]; !ok {
		sec.Rows = append(sec.Rows, Row{Figure: "lanyard token", Measured: NA, Result: NA})
		return
	}
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: ttl})
	if err != nil {
		sec.Rows = append(sec.Rows, Row{Figure: "lanyard token", Measured: NA + " (" + err.Error() + ")", Result: NA})
		return
	}
	defer op.Close()
	tokenURL, closeProxy, err := slowTokenEndpoint(op, delay)
	if err != nil {
		sec.Rows = append(sec.Rows, Row{Figure: "lanyard token", Measured: NA + " (" + err.Error() + ")", Result: NA})
		return
	}
	defer closeProxy()
	profile := fmt.Sprintf("[profiles.lt]\ntoken_url = %q\ngrant = \"client_credentials\"\nclient_id = %q\nclient_secret = \"env:LANYARD_BENCH_OP_SECRET\"\n", tokenURL, op.ConfidentialClientID)
	work := filepath.Dir(b.env.Home)
	for _, agent := range []bool{true, false} {
		label, dir := "with the agent", "lt-agent"
		if !agent {
			label, dir = "LANYARD_AGENT=off", "lt-off"
		}
		env, err := NewEnv(filepath.Join(work, dir), b.built.Dir)
		if err == nil {
			err = env.WriteConfig(profile)
		}
		if err != nil {
			sec.Rows = append(sec.Rows, Row{Figure: label, Measured: NA + " (" + err.Error() + ")", Result: NA})
			continue
		}
		env.Set("LANYARD_BENCH_OP_SECRET", op.ConfidentialClientSecret)
		if agent {
			stop, err := b.useAgent(env)
			if err != nil {
				sec.Rows = append(sec.Rows, Row{Figure: label, Measured: NA + " (" + err.Error() + ")", Result: NA})
				continue
			}
			defer stop()
		}
		tok := Spec{Name: "lanyard token P, " + label, Path: b.built.Path[cmdLanyard], Args: []string{"token", "lt"}, Env: env.Vars()}
		if r := Start(ctx, tok); r.Err != nil {
			sec.Rows = append(sec.Rows, Row{Figure: tok.Name, Measured: NA + " (" + firstLine(r.Err.Error()) + ")", Result: NA})
			continue
		}
		b.logf("%s: %s of calls", tok.Name, 3*ttl)
		before := op.TokenRequests()
		var worst time.Duration
		var calls, failed int
		end := time.Now().Add(3 * ttl)
		for time.Now().Before(end) {
			r := Start(ctx, tok)
			calls++
			if r.Err != nil {
				failed++
			}
			worst = max(worst, r.Wall)
			time.Sleep(every)
		}
		refreshes := op.TokenRequests() - before
		measured := fmt.Sprintf("worst %s of %d calls (%d failed), %d refreshes", worst.Round(time.Millisecond), calls, failed, refreshes)
		if agent {
			sec.Rows = append(sec.Rows, Row{Figure: tok.Name, Measured: measured, Target: fmt.Sprintf("< %s: no call waits for the endpoint", delay), Result: verdict(worst < delay && failed == 0), Store: "file"})
		} else {
			sec.Rows = append(sec.Rows, Row{Figure: tok.Name, Measured: measured, Target: "reference", Result: Ref, Store: "file"})
		}
	}
}

// killLoop kills helper process groups (SIGKILL and SIGINT in turn) at
// random points while they ask the agent for a forced refresh against the
// Whiplash emulator, whose refresh tokens rotate and whose reuse detection
// revokes the grant. The login must survive every kill, with no reuse.
func (b *bench) killLoop(ctx context.Context) {
	const kills = 50
	sec := Section{Title: fmt.Sprintf("kill loop: %d helper process groups (lanyard token --force-refresh) killed at random points,\n  SIGKILL and SIGINT in turn, Whiplash emulator (rotating refresh tokens, reuse revokes the grant), agent running", kills)}
	defer func() { b.table.Sections = append(b.table.Sections, sec) }()
	fail := func(err error) {
		sec.Rows = append(sec.Rows, Row{Figure: "kill loop", Measured: NA + " (" + firstLine(err.Error()) + ")", Result: NA})
	}
	if _, ok := b.built.Path[cmdLanyard]; !ok {
		fail(fmt.Errorf("lanyard %s", b.built.Missing[cmdLanyard]))
		return
	}
	if !canKillGroups {
		fail(fmt.Errorf("no agent and no process groups on %s", runtime.GOOS))
		return
	}
	wl, err := testprovider.StartWhiplash()
	if err != nil {
		fail(err)
		return
	}
	defer wl.Close()
	wl.SetAccessTTL(2 * time.Hour)
	env, err := NewEnv(filepath.Join(filepath.Dir(b.env.Home), "kill"), b.built.Dir)
	if err == nil {
		err = env.WriteConfig(whiplashProfile("wk", wl, "git.wk.bench.test", "registry.wk.bench.test"))
	}
	if err != nil {
		fail(err)
		return
	}
	env.Set("LANYARD_BENCH_WL_SECRET", testprovider.WhiplashClientSecret)
	stop, err := b.useAgent(env)
	if err != nil {
		fail(err)
		return
	}
	defer stop()
	login := Spec{Name: "lanyard login", Path: b.built.Path[cmdLanyard], Args: []string{"login", "wk", "--refresh-token-stdin"}, Stdin: wl.IssueRefreshToken() + "\n", Env: env.Vars()}
	if r := Start(ctx, login); r.Err != nil {
		fail(r.Err)
		return
	}
	// Start the agent before the loop: its start-up is not what is tested.
	if r := Start(ctx, Spec{Name: "lanyard token", Path: b.built.Path[cmdLanyard], Args: []string{"token", "wk"}, Env: env.Vars()}); r.Err != nil {
		fail(r.Err)
		return
	}
	before := wl.TokenRequests()
	landed := 0
	for i := range kills {
		cmd := exec.CommandContext(ctx, b.built.Path[cmdLanyard], "token", "wk", "--force-refresh")
		cmd.Env = env.Vars()
		ownGroup(cmd)
		if err := cmd.Start(); err != nil {
			fail(err)
			return
		}
		time.Sleep(time.Duration(rand.Int64N(int64(8 * time.Millisecond))))
		killGroup(cmd.Process.Pid, i%2 == 1)
		if err := cmd.Wait(); err != nil {
			landed++ // killed (or interrupted) before it answered
		}
	}
	refreshes := wl.TokenRequests() - before
	r := Start(ctx, Spec{Name: "lanyard token after the loop", Path: b.built.Path[cmdLanyard], Args: []string{"token", "wk", "--force-refresh"}, Env: env.Vars()})
	lost := 0
	if r.Err != nil {
		lost = 1
		b.logf("kill loop: the login is lost: %v", r.Err)
	}
	reuse := wl.ReuseDetections()
	sec.Rows = append(sec.Rows, Row{
		Figure:   fmt.Sprintf("%d kills (%d before the helper answered), %d refreshes reached the server", kills, landed, refreshes),
		Measured: fmt.Sprintf("%d lost logins, %d reuse detections", lost, reuse),
		Target:   "0 lost, 0 reuse",
		Result:   verdict(lost == 0 && reuse == 0),
		Store:    "file",
	})
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
