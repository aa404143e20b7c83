// Package bench is `make bench`: it builds lanyard's binaries, a hello-world
// Go program and kubelogin, starts the test OpenID provider and the Whiplash
// emulator in-process, and measures side by side, on one machine in one run:
// cache-hit latency and peak RSS of every helper (as ratios to hello-world
// and kubelogin), 64 concurrent helpers on an expired token, and 200
// parallel refreshes against rotating refresh tokens. It prints one table
// with each figure, its target and PASS/FAIL.
package bench

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// Options are the bench's settings (flags of lanyard-bench).
type Options struct {
	Root       string // repository root (go.mod)
	Work       string // where binaries and the temporary HOME go
	Rounds     int    // recorded cache-hit rounds
	Warmup     int    // unrecorded rounds first
	RSSRuns    int    // /usr/bin/time runs per binary
	Concurrent int    // helpers started at once on an expired token
	Waves      int    // waves of parallel lanyard token processes
	WaveSize   int    // processes per wave
	Kubelogin  bool   // build and measure kubelogin
	Strict     bool   // exit 1 when a target is missed
	Time       string // /usr/bin/time
	Debug      bool   // LANYARD_DEBUG=1 for lanyard processes; failing runs' stderr to the log
}

// The helpers measured, by command name, and the hello-world baseline.
const (
	cmdLanyard = "lanyard"
	cmdGit     = "git-credential-lanyard"
	cmdDocker  = "docker-credential-lanyard"
	cmdKubectl = "kubectl-lanyard"
	cmdHello   = "hello"
	// cmdGoauth is `lanyard goauth URL` (the thin front as the go command
	// runs it after a 401).
	cmdGoauth    = "lanyard goauth"
	cmdCargo     = "cargo-credential-lanyard"
	cmdTerraform = "terraform-credentials-lanyard"
	cmdKube      = "kubelogin"
)

var helpers = []string{cmdLanyard, cmdGit, cmdDocker, cmdKubectl}

// agentOnly are the tools measured with the agent only, beside
// hello-world: without it every thin helper pays the same oneshot child,
// which the rows of helpers already show.
var agentOnly = []string{cmdGoauth, cmdCargo, cmdTerraform}

// cargoGet is the request cargo writes to its credential provider before
// fetching from a registry (after the provider's hello line).
const cargoGet = `{"v":1,"registry":{"index-url":"sparse+https://%s/index/","name":"acme"},"kind":"get","operation":"read"}` + "\n"

// startupLabel names the start-up-only reference row.
const startupLabel = "git-credential-lanyard store"

// Targets (DESIGN.md, "Quality bars").
const (
	targetHelloRatio     = 1.5 // cache hit ≤ 1.5x hello-world
	targetKubeloginRatio = 0.5 // kubectl-lanyard ≤ half of kubelogin
	designKubeloginRSS   = 12 * 1024
)

const execInfo = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`

// Main runs the bench with command-line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	opt := Options{}
	fs := flag.NewFlagSet("lanyard-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opt.Root, "root", ".", "repository root")
	fs.StringVar(&opt.Work, "work", ".bench", "directory for binaries and the temporary HOME")
	fs.IntVar(&opt.Rounds, "rounds", 40, "recorded cache-hit rounds (each runs every binary once)")
	fs.IntVar(&opt.Warmup, "warmup", 3, "unrecorded rounds first")
	fs.IntVar(&opt.RSSRuns, "rss-runs", 5, "runs under /usr/bin/time per binary")
	fs.IntVar(&opt.Concurrent, "concurrent", 64, "helpers started at once on an expired token")
	fs.IntVar(&opt.Waves, "waves", 4, "waves of parallel lanyard token processes")
	fs.IntVar(&opt.WaveSize, "wave-size", 50, "processes per wave")
	fs.BoolVar(&opt.Kubelogin, "kubelogin", true, "build and measure kubelogin "+KubeloginModule)
	fs.BoolVar(&opt.Strict, "strict", false, "exit 1 when a figure misses its target")
	fs.StringVar(&opt.Time, "time", "/usr/bin/time", "GNU time, for peak RSS")
	fs.BoolVar(&opt.Debug, "debug", false, "run lanyard processes with LANYARD_DEBUG=1 and log the stderr of failing runs (slower: do not trust the figures)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx := context.Background()
	t, err := Measure(ctx, opt, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lanyard-bench: %v\n", err)
		return 1
	}
	t.Write(stdout)
	if opt.Strict && t.Failed() > 0 {
		return 1
	}
	return 0
}

// bench holds what the phases share.
type bench struct {
	opt   Options
	log   io.Writer
	built *Built
	env   *Env
	table *Table
	start time.Time
	// profiles are the [profiles.NAME] tables written so far.
	profiles []string
}

func (b *bench) writeConfig() error {
	return b.env.WriteConfig(strings.Join(b.profiles, "\n"))
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench [%5.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// Measure builds, measures and returns the table; progress goes to log.
func Measure(ctx context.Context, opt Options, log io.Writer) (*Table, error) {
	b := &bench{opt: opt, log: log, table: &Table{}, start: time.Now()}
	root, err := filepath.Abs(opt.Root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.Work, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(opt.Work, "run-")
	if err != nil {
		return nil, err
	}
	work, _ = filepath.Abs(work)
	defer os.RemoveAll(work)
	binDir := filepath.Join(work, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, err
	}
	b.built = &Built{Dir: binDir, Path: map[string]string{}, Missing: map[string]string{}}

	b.logf("building %s, %s, %s (go build %s)", strings.Join(helpers, ", "), cmdCargo, cmdTerraform, strings.Join(buildFlags, " "))
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // a loaded 2-core machine
	b.built.BuildLanyard(bctx, root, append(helpers, cmdCargo, cmdTerraform, "lanyard-engine"))
	cancel()
	b.built.BuildHello(ctx)
	if _, ok := b.built.Path[cmdHello]; !ok {
		return nil, fmt.Errorf("could not build the hello-world baseline: %s", b.built.Missing[cmdHello])
	}
	if opt.Kubelogin {
		b.logf("building %s from the module proxy", KubeloginModule)
		b.built.BuildKubelogin(ctx, 3*time.Minute)
	} else {
		b.built.Missing[cmdKube] = "skipped (-kubelogin=false)"
	}
	for _, n := range append(helpers, cmdCargo, cmdTerraform, cmdKube) {
		if why, ok := b.built.Missing[n]; ok {
			b.logf("%s: %s", n, why)
		}
	}

	if b.env, err = NewEnv(work, binDir); err != nil {
		return nil, err
	}
	if opt.Debug {
		b.env.Set("LANYARD_DEBUG", "1")
	}
	b.header(root)
	if err := b.cacheHit(ctx); err != nil {
		return nil, err
	}
	b.concurrent(ctx)
	b.shared(ctx)
	b.backends(ctx)
	b.agentHits(ctx)
	b.proxyLatency(ctx)
	b.lifetimes(ctx)
	b.killLoop(ctx)
	b.logf("done")
	b.table.Notes = append(b.table.Notes,
		fmt.Sprintf("bench took %s; progress and any n/a reasons went to stderr. See docs/benchmarks.md for how to read this.", time.Since(b.start).Round(time.Second)))
	return b.table, nil
}

// header describes the machine and the settings.
func (b *bench) header(root string) {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	load := ""
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(raw))
		if len(f) >= 3 {
			load = ", load average " + strings.Join(f[:3], " ")
		}
	}
	kernel := ""
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = " " + strings.TrimSpace(string(raw))
	}
	rev := "unknown"
	if out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output(); err == nil {
		rev = strings.TrimSpace(string(out))
	}
	b.table.Header = []string{
		fmt.Sprintf("lanyard bench %s at %s", rev, time.Now().UTC().Format("2006-01-02 15:04 MST")),
		fmt.Sprintf("machine: %s/%s%s, %d CPUs (%s)%s, %s", runtime.GOOS, runtime.GOARCH, kernel, runtime.NumCPU(), cpu, load, runtime.Version()),
		fmt.Sprintf("binaries: %sgo build %s (as make build); hello-world and kubelogin %s built the same way", strings.Join(append(buildEnv(), ""), " "), strings.Join(buildFlags, " "), strings.TrimPrefix(KubeloginModule, "github.com/int128/kubelogin@")),
		"token store: lanyard = keyring backend \"file\" (encrypted; LANYARD_KEYRING_BACKEND=file, LANYARD_KEYRING_PASSPHRASE) with its hot cache (hits need no unlock where keyctl works), kubelogin = --token-cache-storage=disk (plain JSON)",
	}
}

// cacheHit measures every helper on a cached token against the OP.
func (b *bench) cacheHit(ctx context.Context) error {
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: time.Hour})
	if err != nil {
		return fmt.Errorf("starting the OpenID provider: %w", err)
	}
	defer op.Close()
	b.env.Set("LANYARD_BENCH_OP_SECRET", op.ConfidentialClientSecret)
	b.env.Set("LANYARD_BENCH_WL_SECRET", testprovider.WhiplashClientSecret)
	b.profiles = append(b.profiles, fmt.Sprintf(`[profiles.op]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = "env:LANYARD_BENCH_OP_SECRET"
match = ["https://git.op.bench.test/", "https://registry.op.bench.test"]
`, op.Issuer, op.ConfidentialClientID))
	if err := b.writeConfig(); err != nil {
		return err
	}

	specs := []Spec{b.spec(cmdHello, "hello-world", "", nil, "hello, world")}
	missing := map[string]string{}
	for _, h := range helpers {
		s, why := b.helperSpec(h, "op", "git.op.bench.test", "registry.op.bench.test")
		if why != "" {
			missing[h] = why
			continue
		}
		specs = append(specs, s)
	}
	// Populate the cache once through each helper (the first does the
	// client_credentials grant, the rest must already hit).
	for i := 1; i < len(specs); i++ {
		if r := Start(ctx, specs[i]); r.Err != nil {
			b.logf("%s failed, dropping it: %v", specs[i].Name, r.Err)
			missing[helperOf(specs[i])] = "failed: " + firstLine(r.Err.Error())
			specs = append(specs[:i], specs[i+1:]...)
			i--
		}
	}
	// Start-up alone: the git helper's store is a no-op that reads stdin and
	// exits, without the profiles file or the keyring. The difference to
	// the get row is what the cache hit itself costs.
	startup := Spec{}
	if p, ok := b.built.Path[cmdGit]; ok {
		startup = Spec{Name: startupLabel, Path: p, Args: []string{"store"}, Stdin: "protocol=https\nhost=git.op.bench.test\n\n", Env: b.env.Vars()}
		specs = append(specs, startup)
	}
	kubeSpec, kubeWhy := b.kubelogin(ctx, op)
	if kubeWhy == "" {
		specs = append(specs, kubeSpec)
	} else {
		missing[cmdKube] = kubeWhy
	}

	before := op.TokenRequests()
	b.logf("cache hit: %d binaries x %d rounds (+%d warm-up), round-robin", len(specs), b.opt.Rounds, b.opt.Warmup)
	samples, err := RoundRobin(ctx, specs, b.opt.Warmup, b.opt.Rounds, func(s Spec) error {
		if n := op.TokenRequests(); n != before {
			return fmt.Errorf("%s made a token request: not a cache hit", s.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache-hit runs: %w", err)
	}
	rss, rssSource := b.peakRSS(ctx, specs)

	byCmd := map[string]Sample{}
	rssBy := map[string]int64{}
	var startupSample Sample
	for i, s := range specs {
		if s.Name == startupLabel {
			startupSample = samples[i]
			continue
		}
		byCmd[helperOf(s)] = samples[i]
		if rss != nil {
			rssBy[helperOf(s)] = rss[i]
		}
	}
	hello := byCmd[cmdHello]
	kube, haveKube := byCmd[cmdKube]

	lat := Section{Title: fmt.Sprintf("cache hit, whole process, without the agent (LANYARD_AGENT=off): min / median of %d runs each, round-robin after %d warm-up rounds\n  (no token request during them); ratios of medians, [ratios of minimums]", b.opt.Rounds, b.opt.Warmup)}
	lat.Rows = append(lat.Rows, Row{Figure: "hello-world", Measured: minMed(hello), Target: "baseline", Result: Ref, Store: "-"})
	mem := Section{Title: "peak RSS of a cache hit (" + rssSource + ")"}
	mem.Rows = append(mem.Rows, Row{Figure: "hello-world", Measured: mib(rssBy[cmdHello]), Target: "baseline", Result: Ref, Store: "-"})
	kubeRSS := int64(designKubeloginRSS)
	kubeRSSLabel := fmt.Sprintf("< %s (kubelogin, DESIGN.md; not measured)", mib(kubeRSS))
	if haveKube {
		kubeRSS = rssBy[cmdKube]
		kubeRSSLabel = fmt.Sprintf("< kubelogin (%s)", mib(kubeRSS))
	}
	for _, h := range helpers {
		label := helperLabel(h)
		s, ok := byCmd[h]
		if !ok {
			lat.Rows = append(lat.Rows, Row{Figure: label, Measured: NA + " (" + missing[h] + ")", Target: fmt.Sprintf("≤ %.1fx hello", targetHelloRatio), Result: NA, Store: "file"})
			mem.Rows = append(mem.Rows, Row{Figure: label, Measured: NA, Target: kubeRSSLabel, Result: NA, Store: "file"})
			continue
		}
		rh := ratio(s.Median(), hello.Median())
		measured := fmt.Sprintf("%s, %.2fx [%.2fx] hello", minMed(s), rh, ratio(s.Min(), hello.Min()))
		target := fmt.Sprintf("≤ %.1fx hello", targetHelloRatio)
		ok = rh <= targetHelloRatio
		if h == cmdKubectl {
			target += fmt.Sprintf(", ≤ %.1fx kubelogin", targetKubeloginRatio)
			if haveKube {
				rk := ratio(s.Median(), kube.Median())
				measured += fmt.Sprintf(", %.2fx [%.2fx] kubelogin", rk, ratio(s.Min(), kube.Min()))
				ok = ok && rk <= targetKubeloginRatio
			} else {
				measured += ", kubelogin " + NA
			}
		}
		lat.Rows = append(lat.Rows, Row{Figure: label, Measured: measured, Target: target, Result: verdict(ok), Store: "file"})
		mem.Rows = append(mem.Rows, Row{Figure: label, Measured: fmt.Sprintf("%s = %.2fx kubelogin", mib(rssBy[h]), ratio(rssBy[h], kubeRSS)), Target: kubeRSSLabel, Result: verdict(rssBy[h] < kubeRSS), Store: "file"})
	}
	if startup.Path != "" {
		lat.Rows = append(lat.Rows, Row{Figure: startupLabel, Measured: fmt.Sprintf("%s, %.2fx [%.2fx] hello", minMed(startupSample), ratio(startupSample.Median(), hello.Median()), ratio(startupSample.Min(), hello.Min())), Target: "reference: start-up only", Result: Ref, Store: "-"})
	}
	kubeLabel := "kubelogin get-token"
	if haveKube {
		lat.Rows = append(lat.Rows, Row{Figure: kubeLabel, Measured: fmt.Sprintf("%s, %.2fx [%.2fx] hello", minMed(kube), ratio(kube.Median(), hello.Median()), ratio(kube.Min(), hello.Min())), Target: "reference", Result: Ref, Store: "disk"})
		mem.Rows = append(mem.Rows, Row{Figure: kubeLabel, Measured: mib(rssBy[cmdKube]), Target: "reference", Result: Ref, Store: "disk"})
	} else {
		lat.Rows = append(lat.Rows, Row{Figure: kubeLabel, Measured: NA + " (" + missing[cmdKube] + ")", Target: "reference", Result: NA, Store: "disk"})
	}
	if rss == nil {
		for i := range mem.Rows {
			mem.Rows[i].Measured, mem.Rows[i].Result = NA, NA
		}
	}
	b.table.Sections = append(b.table.Sections, lat, mem)
	return nil
}

// peakRSS measures each spec under /usr/bin/time -f %M (median of
// RSSRuns). Without GNU time there is no trustworthy figure: nil.
func (b *bench) peakRSS(ctx context.Context, specs []Spec) ([]int64, string) {
	if _, err := os.Stat(b.opt.Time); err != nil || b.opt.RSSRuns <= 0 {
		return nil, fmt.Sprintf("%s not found: apt install time", b.opt.Time)
	}
	out := make([]int64, len(specs))
	for i, s := range specs {
		var v []int64
		for range b.opt.RSSRuns {
			kb, err := TimeRSS(ctx, b.opt.Time, s)
			if err != nil {
				return nil, err.Error()
			}
			v = append(v, kb)
		}
		out[i] = median(v)
	}
	return out, fmt.Sprintf("%s -f %%M, median of %d runs each", b.opt.Time, b.opt.RSSRuns)
}

// spec starts command name from the bin directory in the bench env.
func (b *bench) spec(name, label, stdin string, extraEnv []string, want string, args ...string) Spec {
	return Spec{Name: label, Path: b.built.Path[name], Args: args, Stdin: stdin, Env: b.env.Vars(extraEnv...), Want: want}
}

// helperSpec is how each tool calls its helper for profile, with the
// hosts the profile's match serves; why says why the helper cannot run.
func (b *bench) helperSpec(h, profile, gitHost, registry string) (Spec, string) {
	if h == cmdGoauth {
		if _, ok := b.built.Path[cmdLanyard]; !ok {
			return Spec{}, b.built.Missing[cmdLanyard]
		}
		return b.spec(cmdLanyard, h+" URL", "HTTP/1.1 401 Unauthorized\n\n", nil, "Authorization: Bearer ", "goauth", "https://"+gitHost+"/mod/@v/list"), ""
	}
	if _, ok := b.built.Path[h]; !ok {
		return Spec{}, b.built.Missing[h]
	}
	label := helperLabel(h)
	switch h {
	case cmdLanyard:
		return b.spec(h, label, "", nil, "", "token", profile), ""
	case cmdGit:
		return b.spec(h, label, "protocol=https\nhost="+gitHost+"\n\n", nil, "password=", "get"), ""
	case cmdDocker:
		return b.spec(h, label, registry+"\n", nil, `"Secret"`, "get"), ""
	case cmdCargo:
		return b.spec(h, label, fmt.Sprintf(cargoGet, registry), nil, `"token":"Bearer `, "--cargo-plugin"), ""
	case cmdTerraform:
		return b.spec(h, label, "", nil, `{"token":`, "get", registry), ""
	case cmdKubectl:
		s := b.spec(h, label, "", []string{"KUBERNETES_EXEC_INFO=" + execInfo}, `"token"`, "get-token", "--profile", profile)
		// kubectl-lanyard remembers, per parent process, the token it
		// handed out: the same parent asking again for the same token is
		// client-go after a 401, and gets a refreshed one. kubectl starts
		// it from a new process each time; the bench is one parent, so it
		// forgets those marks before each run, as a new kubectl would be.
		marks := filepath.Join(b.env.Home, ".local", "state", "lanyard", "kubectl")
		s.Before = func() error { return os.RemoveAll(marks) }
		return s, ""
	}
	return Spec{}, "unknown helper"
}

func helperLabel(h string) string {
	switch h {
	case cmdLanyard:
		return "lanyard token P"
	case cmdGit:
		return "git-credential-lanyard get"
	case cmdDocker:
		return "docker-credential-lanyard get"
	case cmdKubectl:
		return "kubectl-lanyard get-token"
	case cmdCargo:
		return "cargo-credential-lanyard get"
	case cmdTerraform:
		return "terraform-credentials-lanyard get"
	}
	return h
}

// helperOf maps a spec back to its command name.
func helperOf(s Spec) string { return filepath.Base(s.Path) }

var urlRE = regexp.MustCompile(`https?://[^\s"']+`)

// kubelogin logs kubelogin in once against the OP (authorization code with
// PKCE, the OP's public client; the test user is played by
// ScriptedLogin instead of a browser) and returns the spec of its cache hit.
func (b *bench) kubelogin(ctx context.Context, op *testprovider.OP) (Spec, string) {
	if _, ok := b.built.Path[cmdKube]; !ok {
		return Spec{}, b.built.Missing[cmdKube]
	}
	args := []string{"get-token", "--oidc-issuer-url=" + op.Issuer, "--oidc-client-id=" + op.PublicClientID,
		"--token-cache-dir=" + filepath.Join(b.env.Home, ".kube", "cache", "oidc-login"), "--token-cache-storage=disk",
		"--grant-type=authcode", "--skip-open-browser", "--listen-address=127.0.0.1:0"}
	s := b.spec(cmdKube, "kubelogin get-token", "", []string{"KUBERNETES_EXEC_INFO=" + execInfo}, `"token"`, args...)

	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(lctx, s.Path, s.Args...)
	cmd.Env = s.Env
	var out strings.Builder
	cmd.Stdout = &out
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return Spec{}, err.Error()
	}
	if err := cmd.Start(); err != nil {
		return Spec{}, err.Error()
	}
	var stderr strings.Builder
	loginErr := errors.New("kubelogin printed no URL to visit")
	var wg sync.WaitGroup
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		stderr.WriteString(line + "\n")
		if u := urlRE.FindString(line); u != "" && loginErr != nil && strings.Contains(line, "visit") {
			loginErr = nil
			wg.Go(func() { loginErr = b.browse(lctx, op, u) })
		}
	}
	werr := cmd.Wait()
	wg.Wait()
	switch {
	case loginErr != nil:
		return Spec{}, "login failed: " + loginErr.Error()
	case werr != nil:
		return Spec{}, fmt.Sprintf("login failed: %v: %s", werr, firstLine(stderr.String()))
	case !strings.Contains(out.String(), `"token"`):
		return Spec{}, "login printed no ExecCredential"
	}
	before := op.TokenRequests()
	if r := Start(ctx, s); r.Err != nil || op.TokenRequests() != before {
		return Spec{}, fmt.Sprintf("no cache hit after login: %v", r.Err)
	}
	return s, ""
}

// browse plays the user's browser for kubelogin: open its local URL, log in
// at the OP, and deliver the redirect (code, state) back to kubelogin.
func (b *bench) browse(ctx context.Context, op *testprovider.OP, u string) error {
	back, err := op.ScriptedLogin(ctx, u)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, back.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kubelogin's redirect handler answered HTTP %d", resp.StatusCode)
	}
	return nil
}
