package cargo_test

// End-to-end: the real cargo fetches a dependency from, and publishes a
// crate to, a sparse registry with auth-required on 127.0.0.1 that takes
// only tokens the in-process OpenID provider issued, with
// cargo-credential-lanyard as the registry's credential provider. With
// LANYARD_AGENT=off in the environment (make test-agent-off) every
// provider call answers in-process instead of through the agent.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/tokentest"
)

const secretVar = "LANYARD_TEST_OP_SECRET"

type world struct {
	t     *testing.T
	cargo string
	bin   string
	env   *testbin.Env
	home  string // CARGO_HOME
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cargo := testbin.NeedTool(t, "cargo")
	bin := testbin.Build(t, "lanyard", "cargo-credential-lanyard")
	env := testbin.NewEnv(t, bin)
	w := &world{t: t, cargo: cargo, bin: bin, env: env, home: filepath.Join(env.Home, ".cargo")}
	env.Set("CARGO_HOME", w.home)
	env.Set(secretVar, testprovider.OPConfidentialClientSecret)
	env.Set("CARGO_TERM_COLOR", "never")
	env.Set("CARGO_NET_RETRY", "0")
	// rustup's cargo proxy finds its toolchains under RUSTUP_HOME, by
	// default in the real HOME, not the test's.
	if os.Getenv("RUSTUP_HOME") != "" {
		env.Set("RUSTUP_HOME", os.Getenv("RUSTUP_HOME"))
	} else if h, err := os.UserHomeDir(); err == nil {
		env.Set("RUSTUP_HOME", filepath.Join(h, ".rustup"))
	}
	return w
}

func (w *world) run(dir string, args ...string) (string, error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.t.Context(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.cargo, args...)
	cmd.Env = w.env.Vars()
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *world) must(dir string, args ...string) string {
	w.t.Helper()
	out, err := w.run(dir, args...)
	if err != nil {
		w.t.Fatalf("cargo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// registryConfig names the registry acme in CARGO_HOME/config.toml (the
// credential provider is lanyard setup's to write).
func (w *world) registryConfig(reg *registry) {
	w.t.Helper()
	if err := os.MkdirAll(w.home, 0o755); err != nil {
		w.t.Fatal(err)
	}
	body := fmt.Sprintf("[registries.acme]\nindex = %q\n", reg.IndexURL())
	if err := os.WriteFile(filepath.Join(w.home, "config.toml"), []byte(body), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// project makes a crate named name depending on deps (from acme).
func (w *world) project(name string, deps ...string) string {
	w.t.Helper()
	dir := filepath.Join(w.t.TempDir(), name)
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		w.t.Fatal(err)
	}
	toml := fmt.Sprintf("[package]\nname = %q\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"test\"\nlicense = \"MIT\"\npublish = [\"acme\"]\n\n[dependencies]\n", name)
	for _, d := range deps {
		toml += fmt.Sprintf("%s = { version = \"0.1\", registry = \"acme\" }\n", d)
	}
	for f, body := range map[string]string{"Cargo.toml": toml, "src/lib.rs": "pub fn f() {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	return dir
}

func startOP(t *testing.T) *testprovider.OP {
	t.Helper()
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return op
}

func ccProfile(name string, op *testprovider.OP, extra string) string {
	return fmt.Sprintf(`
[profiles.%s]
grant = "client_credentials"
issuer = %q
client_id = %q
client_secret = "env:%s"
%s
`, name, op.Issuer, op.ConfidentialClientID, secretVar, extra)
}

// expire makes the cached token of profile look expired to every helper,
// while the server still honours it.
func (w *world) expire(profile string) string {
	w.t.Helper()
	// Inside MinTTL: about to expire.
	return tokentest.SetExpiry(w.t, w.env, profile, time.Now().Add(30*time.Second)).AccessToken
}

func bearerCheck(op *testprovider.OP) func(string) bool {
	return func(auth string) bool {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		return ok && op.Valid(tok)
	}
}

func TestCargoFetchAndPublish(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	reg := startRegistry(t, bearerCheck(op))
	reg.add(t, "dep", "0.1.0")
	w.registryConfig(reg)
	w.env.WriteConfig(t, ccProfile("crates", op, fmt.Sprintf("match = [%q]", reg.URL+"/index/")))

	out, _, code := w.env.Run(t, "", "lanyard", "setup", "cargo", "crates", "--registry", "acme")
	if code != 0 || !strings.Contains(out, `added [registries.acme] credential-provider = ["cargo-credential-lanyard"]`) {
		t.Fatalf("setup cargo: exit %d\n%s", code, out)
	}
	if out, _, _ := w.env.Run(t, "", "lanyard", "setup", "cargo", "crates", "--registry", "acme"); !strings.Contains(out, "nothing to do") {
		t.Errorf("second setup changed something:\n%s", out)
	}

	app := w.project("app", "dep")
	w.must(app, "fetch")
	if n := op.TokenRequests(); n != 1 {
		t.Errorf("token requests after fetch: got %d, want 1", n)
	}
	var authed, dl int
	for _, r := range reg.requests() {
		if r.Auth != "" {
			authed++
			if !strings.HasPrefix(r.Auth, "Bearer ") {
				t.Errorf("%s got Authorization %q, want Bearer", r.Path, r.Auth[:min(len(r.Auth), 10)])
			}
		}
		if strings.HasPrefix(r.Path, "/dl/dep/0.1.0") && r.Auth != "" {
			dl++
		}
	}
	if authed == 0 || dl != 1 {
		t.Errorf("registry saw %d authorized requests, %d authorized downloads; want some and 1:\n%v", authed, dl, reg.requests())
	}

	// publish reuses the read token (operation_independent) and the
	// cached one: no new token request.
	mine := w.project("mine")
	w.must(mine, "publish", "--registry", "acme", "--no-verify", "--allow-dirty")
	if len(reg.published) != 1 || reg.published[0] != "mine-0.1.0" {
		t.Errorf("published: got %v, want [mine-0.1.0]", reg.published)
	}
	if n := op.TokenRequests(); n != 1 {
		t.Errorf("token requests after publish: got %d, want 1 (cached)", n)
	}

	// A token about to expire is refreshed before cargo gets it.
	old := w.expire("crates")
	before := len(reg.requests())
	os.RemoveAll(filepath.Join(w.home, "registry"))
	w.must(app, "fetch")
	if n := op.TokenRequests(); n != 2 {
		t.Errorf("token requests after expiry: got %d, want 2", n)
	}
	for _, r := range reg.requests()[before:] {
		if r.Auth == "Bearer "+old {
			t.Errorf("%s got the token that was about to expire", r.Path)
		}
	}
}

func TestCargoRefusals(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	reg := startRegistry(t, bearerCheck(op))
	reg.add(t, "dep", "0.1.0")
	w.registryConfig(reg)
	app := w.project("app", "dep")
	provider := "\ncredential-provider = [\"cargo-credential-lanyard\"]\n"
	cfgPath := filepath.Join(w.home, "config.toml")
	base, _ := os.ReadFile(cfgPath)
	if err := os.WriteFile(cfgPath, append(base, provider...), 0o644); err != nil {
		t.Fatal(err)
	}

	// No profiles file: lanyard says url-not-supported; cargo has no other
	// provider and says so, with no token sent.
	out, err := w.run(app, "fetch")
	if err == nil || !strings.Contains(out, "no credential providers could handle the request") {
		t.Errorf("fetch without profiles: err %v, want cargo's own refusal:\n%s", err, out)
	}
	// A profile for another host: the same, nothing sent.
	w.env.WriteConfig(t, ccProfile("other", op, `match = ["https://crates.other.example/"]`))
	out, err = w.run(app, "fetch")
	if err == nil || !strings.Contains(out, "no credential providers could handle the request") {
		t.Errorf("fetch with another host's profile: err %v, want cargo's own refusal:\n%s", err, out)
	}
	// A profile that needs a person: fail fast, naming the command.
	w.env.WriteConfig(t, fmt.Sprintf("[profiles.dev]\ngrant = \"refresh_token\"\nissuer = %q\nclient_id = %q\nmatch = [%q]\n", op.Issuer, op.PublicClientID, reg.URL+"/"))
	start := time.Now()
	out, err = w.run(app, "fetch")
	if err == nil || !strings.Contains(out, "run: lanyard login dev") || time.Since(start) > 60*time.Second {
		t.Errorf("fetch needing a login: err %v after %v, want a quick failure naming lanyard login dev:\n%s", err, time.Since(start), out)
	}
	for _, r := range reg.requests() {
		if r.Auth != "" {
			t.Errorf("%s got credentials %q without a serving profile", r.Path, r.Auth[:min(10, len(r.Auth))])
		}
	}
	if n := op.TokenRequests(); n != 0 {
		t.Errorf("token requests: got %d, want 0", n)
	}

	// cargo login and logout: lanyard manages the token.
	w.env.WriteConfig(t, ccProfile("crates", op, fmt.Sprintf("match = [%q]", reg.URL+"/")))
	cmd := exec.Command(w.cargo, "login", "--registry", "acme")
	cmd.Env, cmd.Dir, cmd.Stdin = w.env.Vars(), app, strings.NewReader("pasted-token\n")
	got, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(got), "run: lanyard login crates") || strings.Contains(string(got), "pasted-token") {
		t.Errorf("cargo login: err %v, want a failure naming lanyard login crates:\n%s", err, got)
	}
}
