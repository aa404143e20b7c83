package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/lanyardhq/lanyard/internal/keyringenv"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// keyringBackends are the backends whose cache hit the bench measures,
// file first (the reference the others stand beside).
var keyringBackends = []string{"file", "secret-service", "pass", "keyctl"}

// backendTools are what each backend needs on this machine.
var backendTools = map[string][]string{
	"secret-service": {"dbus-run-session", "gnome-keyring-daemon"},
	"pass":           {"pass", "gpg", "gpgconf"},
	"keyctl":         {"keyctl"},
}

// backendEnv is one throw-away HOME using one keyring backend.
type backendEnv struct {
	name  string
	env   *Env
	close []func()
}

// setUp makes a HOME under base with backend name and what it needs (a
// D-Bus session with gnome-keyring unlocked, a gpg key for pass). The
// returned string says why it cannot run here.
func (b *bench) backendEnv(base, name, opSecret string, profile string) (*backendEnv, string) {
	for _, tool := range backendTools[name] {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, tool + " not installed"
		}
	}
	env, err := NewEnv(base, b.built.Dir)
	if err != nil {
		return nil, err.Error()
	}
	be := &backendEnv{name: name, env: env}
	env.Set("LANYARD_KEYRING_BACKEND", name)
	env.Set("LANYARD_BENCH_OP_SECRET", opSecret)
	switch name {
	case "secret-service":
		run := filepath.Join(base, "run")
		if err := os.MkdirAll(run, 0o700); err != nil {
			return nil, err.Error()
		}
		env.Set("XDG_RUNTIME_DIR", run)
		s, err := keyringenv.StartSecretService(env.Vars(), env.Home, true)
		if err != nil {
			return nil, err.Error()
		}
		be.close = append(be.close, s.Close)
		env.Set("DBUS_SESSION_BUS_ADDRESS", s.Addr)
	case "pass":
		gnupg := filepath.Join(base, "gnupg")
		if err := os.MkdirAll(gnupg, 0o700); err != nil {
			return nil, err.Error()
		}
		env.Set("GNUPGHOME", gnupg)
		env.Set("PASSWORD_STORE_DIR", filepath.Join(base, "password-store"))
		stop, err := keyringenv.InitPass(env.Vars(), env.Home)
		if err != nil {
			return nil, err.Error()
		}
		be.close = append(be.close, stop)
	}
	if err := env.WriteConfig(profile); err != nil {
		be.Close()
		return nil, err.Error()
	}
	return be, ""
}

func (be *backendEnv) Close() {
	for _, f := range be.close {
		f()
	}
}

// backends measures, without the agent, the cache hit of lanyard token and
// git-credential-lanyard get on each keyring backend this machine has,
// beside the file backend's, round-robin with hello-world.
func (b *bench) backends(ctx context.Context) {
	sec := Section{Title: fmt.Sprintf("cache hit per keyring backend, without the agent (LANYARD_AGENT=off): min / median of %d runs each,\n  round-robin with hello-world; token state sealed beside the keyring except for file", b.opt.Rounds)}
	defer func() { b.table.Sections = append(b.table.Sections, sec) }()
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: time.Hour})
	if err != nil {
		sec.Rows = append(sec.Rows, Row{Figure: "keyring backends", Measured: NA + " (" + err.Error() + ")", Result: NA})
		return
	}
	defer op.Close()
	const gitHost = "git.backends.bench.test"
	profile := fmt.Sprintf("[profiles.kr]\nissuer = %q\ngrant = \"client_credentials\"\nclient_id = %q\nclient_secret = \"env:LANYARD_BENCH_OP_SECRET\"\nmatch = [\"https://%s/\"]\n", op.Issuer, op.ConfidentialClientID, gitHost)
	work := filepath.Dir(b.env.Home)

	specs := []Spec{b.spec(cmdHello, "hello-world", "", nil, "hello, world")}
	type row struct{ figure, backend string }
	var rows []row
	for _, name := range keyringBackends {
		be, why := b.backendEnv(filepath.Join(work, "kr-"+name), name, op.ConfidentialClientSecret, profile)
		if why != "" {
			b.logf("keyring backend %s: %s", name, why)
			sec.Rows = append(sec.Rows, Row{Figure: "lanyard token P, " + name, Measured: NA + " (" + why + ")", Target: fmt.Sprintf("≤ %.1fx hello", targetHelloRatio), Result: NA, Store: name})
			continue
		}
		defer be.Close()
		tok := Spec{Name: "lanyard token P, " + name, Path: b.built.Path[cmdLanyard], Args: []string{"token", "kr"}, Env: be.env.Vars()}
		if r := Start(ctx, tok); r.Err != nil { // logs in: the grant
			b.logf("keyring backend %s: %v", name, r.Err)
			sec.Rows = append(sec.Rows, Row{Figure: tok.Name, Measured: NA + " (" + firstLine(r.Err.Error()) + ")", Result: NA, Store: name})
			continue
		}
		// keyctl keys outlive the bench: log out at the end.
		logout := Spec{Name: "logout", Path: b.built.Path[cmdLanyard], Args: []string{"logout", "kr"}, Env: be.env.Vars()}
		defer Start(context.WithoutCancel(ctx), logout)
		specs = append(specs, tok)
		rows = append(rows, row{tok.Name, name})
		if p, ok := b.built.Path[cmdGit]; ok {
			git := Spec{Name: "git-credential-lanyard get, " + name, Path: p, Args: []string{"get"}, Stdin: "protocol=https\nhost=" + gitHost + "\n\n", Env: be.env.Vars(), Want: "password="}
			specs = append(specs, git)
			rows = append(rows, row{git.Name, name})
		}
	}
	before := op.TokenRequests()
	b.logf("cache hit per keyring backend: %d binaries x %d rounds", len(specs), b.opt.Rounds)
	samples, err := RoundRobin(ctx, specs, b.opt.Warmup, b.opt.Rounds, func(s Spec) error {
		if n := op.TokenRequests(); n != before {
			return fmt.Errorf("%s made a token request: not a cache hit", s.Name)
		}
		return nil
	})
	if err != nil {
		sec.Rows = append(sec.Rows, Row{Figure: "keyring backends", Measured: NA + " (" + firstLine(err.Error()) + ")", Result: NA})
		return
	}
	hello := samples[0]
	sec.Rows = append([]Row{{Figure: "hello-world", Measured: minMed(hello), Target: "baseline", Result: Ref, Store: "-"}}, sec.Rows...)
	for i, r := range rows {
		s := samples[i+1]
		rh := ratio(s.Median(), hello.Median())
		sec.Rows = append(sec.Rows, Row{Figure: r.figure, Measured: fmt.Sprintf("%s, %.2fx [%.2fx] hello", minMed(s), rh, ratio(s.Min(), hello.Min())), Target: fmt.Sprintf("≤ %.1fx hello", targetHelloRatio), Result: verdict(rh <= targetHelloRatio), Store: r.backend})
	}
}
