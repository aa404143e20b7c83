package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// whiplashProfile is a Whiplash profile as the README gives it, served by
// the emulator at wl.
func whiplashProfile(name string, wl *testprovider.Whiplash, gitHost, registry string) string {
	return fmt.Sprintf(`[profiles.%s]
token_url = %q
auth_url = %q
grant = "authorization_code"
client_id = %q
client_secret = "env:LANYARD_BENCH_WL_SECRET"
client_auth = "post"
redirect_uri = %q
scopes = ["user_manage"]
match = ["https://%s/", "https://%s"]
`, name, wl.TokenURL, wl.AuthURL, wl.ClientID, wl.CallbackURL, gitHost, registry)
}

// startWhiplash starts an emulator and logs profile in with a refresh
// token it issued (lanyard login --refresh-token-stdin).
func (b *bench) startWhiplash(ctx context.Context, profile, gitHost, registry string, ttl time.Duration) (*testprovider.Whiplash, error) {
	if _, ok := b.built.Path[cmdLanyard]; !ok {
		return nil, fmt.Errorf("lanyard %s", b.built.Missing[cmdLanyard])
	}
	wl, err := testprovider.StartWhiplash()
	if err != nil {
		return nil, err
	}
	wl.SetAccessTTL(ttl)
	b.profiles = append(b.profiles, whiplashProfile(profile, wl, gitHost, registry))
	if err := b.writeConfig(); err != nil {
		wl.Close()
		return nil, err
	}
	login := b.spec(cmdLanyard, "lanyard login", wl.IssueRefreshToken()+"\n", nil, "", "login", profile, "--refresh-token-stdin")
	if r := Start(ctx, login); r.Err != nil {
		wl.Close()
		return nil, r.Err
	}
	return wl, nil
}

// concurrent starts opt.Concurrent helpers at once (the four helpers in
// turn) on an expired token of a rotating-refresh-token server: exactly one
// token request may reach it, and all must print the one new token.
func (b *bench) concurrent(ctx context.Context) {
	n := b.opt.Concurrent
	var avail []string
	for _, h := range helpers {
		if _, ok := b.built.Path[h]; ok {
			avail = append(avail, h)
		}
	}
	figure := fmt.Sprintf("%d helpers at once, expired token", n)
	target := fmt.Sprintf("1 request, %d ok", n)
	sec := Section{Title: fmt.Sprintf("concurrency, Whiplash emulator (refresh tokens rotate, reuse revokes the grant):\n  %d helpers (%s in turn) started together on an expired token;\n  %d x lanyard token --min-ttl 3h in %d waves of %d: every process refreshes (tokens live 2h)",
		n, strings.Join(avail, ", "), b.opt.Waves*b.opt.WaveSize, b.opt.Waves, b.opt.WaveSize)}
	defer func() { b.table.Sections = append(b.table.Sections, sec) }()
	na := func(why string) {
		sec.Rows = append(sec.Rows, Row{Figure: figure, Measured: NA + " (" + why + ")", Target: target, Result: NA, Store: "file"})
	}

	const ttl = 2 * time.Second
	wl, err := b.startWhiplash(ctx, "wl64", "git.wl64.bench.test", "registry.wl64.bench.test", ttl)
	if err != nil {
		na(err.Error())
		return
	}
	defer wl.Close()
	// Let the stored token expire (Whiplash: created_at + expires_in, whole
	// seconds); tokens refreshed from now on live an hour.
	time.Sleep(ttl + 200*time.Millisecond)
	wl.SetAccessTTL(time.Hour)

	specs := make([]Spec, n)
	for i := range specs {
		s, why := b.helperSpec(avail[i%len(avail)], "wl64", "git.wl64.bench.test", "registry.wl64.bench.test")
		if why != "" {
			na(why)
			return
		}
		if avail[i%len(avail)] == cmdKubectl {
			s = ownParent(s)
		}
		specs[i] = s
	}
	b.logf("%s", figure)
	before := wl.TokenRequests()
	runs, wall := together(ctx, specs)
	requests := wl.TokenRequests() - before

	cur := Start(ctx, b.spec(cmdLanyard, "lanyard token", "", nil, "", "token", "wl64"))
	token := strings.TrimSpace(cur.Stdout)
	ok, firstErr := 0, ""
	for _, r := range runs {
		switch {
		case r.Err != nil:
			if firstErr == "" {
				firstErr = r.Err.Error()
			}
		case token != "" && strings.Contains(r.Stdout, token):
			ok++
			continue
		case firstErr == "":
			firstErr = "a helper printed another token than the stored one"
		}
		if b.opt.Debug {
			b.logf("%s: %v\nstdout: %s\nstderr: %s", r.Name, r.Err, r.Stdout, r.Stderr)
		}
	}
	measured := fmt.Sprintf("%d token request(s), %d/%d ok (one token), %d reuse, wall %s", requests, ok, n, wl.ReuseDetections(), secs(wall))
	if firstErr != "" {
		measured += "; first failure: " + firstLine(firstErr)
	}
	sec.Rows = append(sec.Rows, Row{Figure: figure, Measured: measured, Target: target, Result: verdict(requests == 1 && ok == n && wl.ReuseDetections() == 0), Store: "file"})

	b.wavesInto(ctx, &sec)
}

// wavesInto starts Waves waves of WaveSize parallel `lanyard token`
// processes that must each refresh (--min-ttl beyond the token lifetime),
// so every process rotates the refresh token under the lock. Any process
// presenting a rotated-away token would be a reuse detection and revoke the
// whole grant.
func (b *bench) wavesInto(ctx context.Context, sec *Section) {
	total := b.opt.Waves * b.opt.WaveSize
	figure := fmt.Sprintf("%d x lanyard token, %d waves", total, b.opt.Waves)
	target := "0 reuse, 0 failed, login kept"
	wl, err := b.startWhiplash(ctx, "wl200", "git.wl200.bench.test", "registry.wl200.bench.test", 2*time.Hour)
	if err != nil {
		sec.Rows = append(sec.Rows, Row{Figure: figure, Measured: NA + " (" + err.Error() + ")", Target: target, Result: NA, Store: "file"})
		return
	}
	defer wl.Close()
	b.logf("%s", figure)
	spec := b.spec(cmdLanyard, "lanyard token --min-ttl 3h", "", nil, "", "token", "wl200", "--min-ttl", "3h")
	before := wl.TokenRequests()
	failures, firstErr := 0, ""
	var wall time.Duration
	for range b.opt.Waves {
		specs := make([]Spec, b.opt.WaveSize)
		for i := range specs {
			specs[i] = spec
		}
		runs, d := together(ctx, specs)
		wall += d
		for _, r := range runs {
			if r.Err != nil {
				failures++
				if firstErr == "" {
					firstErr = r.Err.Error()
				}
			}
		}
	}
	refreshes := wl.TokenRequests() - before
	final := Start(ctx, b.spec(cmdLanyard, "lanyard token --force-refresh", "", nil, "", "token", "wl200", "--force-refresh"))
	kept := final.Err == nil
	keptText := "login kept"
	if !kept {
		keptText = "LOGIN LOST: " + firstLine(final.Err.Error())
	}
	measured := fmt.Sprintf("%d reuse, %d failed, %d refreshes, %s, wall %s",
		wl.ReuseDetections(), failures, refreshes, keptText, secs(wall))
	if firstErr != "" {
		measured += "; first failure: " + firstLine(firstErr)
	}
	sec.Rows = append(sec.Rows, Row{Figure: figure, Measured: measured, Target: target, Result: verdict(wl.ReuseDetections() == 0 && failures == 0 && kept), Store: "file"})
}

// ownParent runs s from its own parent process, a shell, as kubectl runs
// kubectl-lanyard: each kubectl is a process of its own. kubectl-lanyard
// takes a repeated request from one parent for the token that parent
// already holds as client-go's retry after a 401; 16 siblings of one parent
// would look like that.
func ownParent(s Spec) Spec {
	s.Args = append([]string{"-c", `"$0" "$@"; exit $?`, s.Path}, s.Args...)
	s.Path = "/bin/sh"
	s.Before = nil
	return s
}

// together starts every spec at the same moment and returns the runs and
// the wall time from the start to the last exit.
func together(ctx context.Context, specs []Spec) ([]Run, time.Duration) {
	runs := make([]Run, len(specs))
	gate := make(chan struct{})
	var ready, done sync.WaitGroup
	for i, s := range specs {
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-gate
			runs[i] = Start(ctx, s)
		})
	}
	ready.Wait()
	start := time.Now()
	close(gate)
	done.Wait()
	return runs, time.Since(start)
}
