package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// Shared-tier fleet: machines x processes per machine.
const (
	fleetMachines = 8
	fleetPerHost  = 16
)

// shared measures the team tier on a local redis-server (appendfsync
// always): a fleet of machines, each with its own HOME and keyring, asking
// at once on an expired token; and what a shared hit costs a machine whose
// local cache is empty, beside a local hit.
func (b *bench) shared(ctx context.Context) {
	sec := Section{Title: fmt.Sprintf("shared tier, Redis on 127.0.0.1 (appendfsync always), Whiplash emulator:\n  %d machines (own HOME and keyring) x %d lanyard token on an expired token;\n  lanyard token: a local hit, and a hit in Redis on a machine whose local cache was emptied", fleetMachines, fleetPerHost)}
	defer func() { b.table.Sections = append(b.table.Sections, sec) }()
	fleetFig := fmt.Sprintf("%d x %d processes, expired token", fleetMachines, fleetPerHost)
	fleetTarget := fmt.Sprintf("1 request, %d ok", fleetMachines*fleetPerHost)
	na := func(why string) {
		sec.Rows = append(sec.Rows, Row{Figure: fleetFig, Measured: NA + " (" + why + ")", Target: fleetTarget, Result: NA, Store: "file"})
	}
	lanyard, ok := b.built.Path[cmdLanyard]
	if !ok {
		na("lanyard " + b.built.Missing[cmdLanyard])
		return
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		na("redis-server not installed")
		return
	}
	base := filepath.Join(filepath.Dir(b.env.Home), "shared")
	stop, addr, err := startRedis(ctx, redisBin, filepath.Join(base, "redis"))
	if err != nil {
		na(err.Error())
		return
	}
	defer stop()
	wl, err := testprovider.StartWhiplash()
	if err != nil {
		na(err.Error())
		return
	}
	defer wl.Close()
	var k [32]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	machines := make([]*Env, fleetMachines)
	for i := range machines {
		env, err := NewEnv(filepath.Join(base, "machine"+strconv.Itoa(i)), b.built.Dir)
		if err == nil {
			env.Set("LANYARD_BENCH_WL_SECRET", wl.ClientSecret)
			env.Set("LANYARD_BENCH_TEAM_KEY", key)
			err = env.WriteConfig(fmt.Sprintf("[shared.bench]\nurl = \"redis://%s/0\"\nkey = \"env:LANYARD_BENCH_TEAM_KEY\"\n\n", addr) +
				whiplashProfile("wlshared", wl, "git.shared.bench.test", "registry.shared.bench.test") + "shared = \"bench\"\n")
		}
		if err != nil {
			na(err.Error())
			return
		}
		machines[i] = env
	}
	run := func(env *Env, stdin string, args ...string) Spec {
		return Spec{Name: "lanyard " + args[0], Path: lanyard, Args: args, Stdin: stdin, Env: env.Vars()}
	}
	// Tokens minted at login live 1h; the fleet asks for 61 min: expired for
	// all of them, and the one refresh (1h2m) satisfies everyone.
	wl.SetAccessTTL(time.Hour)
	if r := Start(ctx, run(machines[0], wl.IssueRefreshToken()+"\n", "login", "wlshared", "--refresh-token-stdin")); r.Err != nil {
		na(r.Err.Error())
		return
	}
	wl.SetAccessTTL(time.Hour + 2*time.Minute)
	var specs []Spec
	for _, m := range machines {
		for range fleetPerHost {
			specs = append(specs, run(m, "", "token", "wlshared", "--min-ttl", "61m"))
		}
	}
	b.logf("%s", fleetFig)
	before := wl.TokenRequests()
	runs, wall := together(ctx, specs)
	requests := wl.TokenRequests() - before
	good, first, firstErr := 0, "", ""
	for _, r := range runs {
		tok := strings.TrimSpace(r.Stdout)
		switch {
		case r.Err != nil:
			if firstErr == "" {
				firstErr = r.Err.Error()
			}
		case first == "" || tok == first:
			first = tok
			good++
		case firstErr == "":
			firstErr = "processes got different tokens"
		}
	}
	measured := fmt.Sprintf("%d token request(s), %d/%d ok (one token), %d reuse, wall %s", requests, good, len(specs), wl.ReuseDetections(), secs(wall))
	if firstErr != "" {
		measured += "; first failure: " + firstLine(firstErr)
	}
	sec.Rows = append(sec.Rows, Row{Figure: fleetFig, Measured: measured, Target: fleetTarget, Result: verdict(requests == 1 && good == len(specs) && wl.ReuseDetections() == 0), Store: "file"})

	// Hits on one machine: local (hot cache or keyring), and shared (the
	// local token store emptied before each run: Redis read, local save).
	m := machines[1]
	local := run(m, "", "token", "wlshared")
	sharedHit := local
	keyring := filepath.Join(m.Home, ".local", "share", "lanyard", "keyring")
	sharedHit.Before = func() error { return os.RemoveAll(keyring) }
	rounds := max(b.opt.Rounds/2, 5)
	cases := []struct {
		name  string
		s     Spec
		walls []time.Duration
		err   error
	}{{name: "lanyard token, local hit", s: local}, {name: "lanyard token, shared hit (local cache empty)", s: sharedHit}}
	for range rounds { // round-robin, so machine noise hits both alike
		for i := range cases {
			if cases[i].err != nil {
				continue
			}
			r := Start(ctx, cases[i].s)
			cases[i].walls, cases[i].err = append(cases[i].walls, r.Wall), r.Err
		}
	}
	for _, c := range cases {
		row := Row{Figure: c.name, Target: "-", Result: "-", Store: "file"}
		if c.err != nil {
			row.Measured, row.Result = NA+" ("+firstLine(c.err.Error())+")", NA
		} else {
			row.Measured = fmt.Sprintf("min %.1f / median %.1f ms of %d runs", float64(slices.Min(c.walls).Microseconds())/1000, float64(median(c.walls).Microseconds())/1000, rounds)
		}
		sec.Rows = append(sec.Rows, row)
	}
	if after := wl.TokenRequests() - before; after != 1 {
		sec.Rows = append(sec.Rows, Row{Figure: "token requests during the hits", Measured: strconv.FormatInt(after-1, 10), Target: "0", Result: verdict(false), Store: "file"})
	}
}

// startRedis runs redis-server on a free 127.0.0.1 port with the settings
// docs/shared.md asks for, and waits until it answers.
func startRedis(ctx context.Context, bin, dir string) (stop func(), addr string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr = l.Addr().String()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	conf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(conf, []byte("bind 127.0.0.1\nport "+port+"\ndir "+dir+"\nappendonly yes\nappendfsync always\nsave \"\"\nlogfile "+filepath.Join(dir, "redis.log")+"\n"), 0o600); err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, bin, conf)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 16)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return stop, addr, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, "", fmt.Errorf("redis-server on %s did not answer", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
