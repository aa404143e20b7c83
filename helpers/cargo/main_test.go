package cargo

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/golden"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/tokentest"
)

// unitProfiles never reach a network: their tokens are seeded in the store
// (valid until 2100), and "nologin" has none and no way to get one without
// a person.
const unitProfiles = `
[profiles.acme]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://crates.example.com/"]

[profiles.bare]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://bare.example.com/"]
cargo_auth = "bare"

[profiles.nologin]
grant = "refresh_token"
token_url = "https://auth.example.com/token"
client_id = "c"
match = ["https://login.example.com/"]
`

var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

func unitEnv(t *testing.T) *testbin.Env {
	t.Helper()
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, unitProfiles)
	for _, name := range []string{"acme", "bare"} {
		tokentest.Seed(t, env, name, &engine.Token{AccessToken: "tok-" + name, Expiry: farFuture})
	}
	return env
}

func runMain(env *testbin.Env, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errb, env.Getenv, agent.InProcess(env.Getenv, &errb, false))
	return code, out.String(), errb.String()
}

func req(kind, index, extra string) string {
	return fmt.Sprintf(`{"v":1,"registry":{"index-url":%q,"name":"r"},"kind":%q%s,"args":[]}`+"\n", index, kind, extra)
}

// TestMainGolden: what cargo writes -> exactly what the provider answers,
// kept in testdata/main/NAME.golden (go test -update rewrites them).
func TestMainGolden(t *testing.T) {
	env := unitEnv(t)
	read := `,"operation":"read"`
	tests := []struct {
		name      string
		args      []string
		stdin     string
		stderrHas string // "" means stderr must be empty
	}{
		{name: "get-read", args: []string{PluginFlag}, stdin: req("get", "sparse+https://crates.example.com/index/", read)},
		{name: "get-publish", args: []string{PluginFlag}, stdin: req("get", "sparse+https://crates.example.com/index/", `,"operation":"publish","name":"a","vers":"0.1.0","cksum":"00"`)},
		{name: "get-bare", args: []string{PluginFlag}, stdin: req("get", "sparse+https://bare.example.com/", read)},
		{name: "get-two-requests", args: []string{PluginFlag}, stdin: req("get", "sparse+https://crates.example.com/index/", read) + req("get", "sparse+https://other.example.com/index/", read)},
		{name: "get-unknown-registry", args: []string{PluginFlag}, stdin: req("get", "sparse+https://other.example.com/index/", read)},
		{name: "get-crates-io", args: []string{PluginFlag}, stdin: req("get", "https://github.com/rust-lang/crates.io-index", read)},
		{name: "get-other-port", args: []string{PluginFlag}, stdin: req("get", "sparse+https://crates.example.com:8443/index/", read)},
		{name: "get-login-required", args: []string{PluginFlag}, stdin: req("get", "sparse+https://login.example.com/", read)},
		{name: "login-managed", args: []string{PluginFlag}, stdin: req("login", "sparse+https://crates.example.com/index/", `,"token":"pasted-secret"`)},
		{name: "login-unknown-registry", args: []string{PluginFlag}, stdin: req("login", "sparse+https://other.example.com/", `,"token":"pasted-secret"`)},
		{name: "logout-managed", args: []string{PluginFlag}, stdin: req("logout", "sparse+https://crates.example.com/index/", "")},
		{name: "unknown-kind", args: []string{PluginFlag}, stdin: req("rotate", "sparse+https://crates.example.com/index/", "")},
		{name: "version-2", args: []string{PluginFlag}, stdin: `{"v":2,"registry":{"index-url":"u"},"kind":"get"}` + "\n" + req("get", "sparse+https://crates.example.com/index/", read)},
		{name: "not-json", args: []string{PluginFlag}, stdin: "hello\n"},
		{name: "no-newline-at-eof", args: []string{PluginFlag}, stdin: strings.TrimSuffix(req("get", "sparse+https://crates.example.com/index/", read), "\n")},
		{name: "blank-lines", args: []string{PluginFlag}, stdin: "\n\r\n"},
		{name: "too-large", args: []string{PluginFlag}, stdin: strings.Repeat("x", MaxRequest+1)},
		{name: "empty-stdin", args: []string{PluginFlag}, stdin: ""},
		{name: "no-args", args: nil, stderrHas: "usage: cargo-credential-lanyard"},
		{name: "extra-arg", args: []string{PluginFlag, "--profile"}, stderrHas: `unknown argument "--profile"`},
		{name: "help", args: []string{"--help"}, stderrHas: "usage: cargo-credential-lanyard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(env, tt.stdin, tt.args...)
			golden.Check(t, "main/"+tt.name+".golden", fmt.Appendf(nil, "exit %d\n--- stdout\n%s", code, stdout))
			if tt.stderrHas == "" && stderr != "" {
				t.Errorf("stderr: got %q, want nothing", stderr)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.stderrHas)
			}
			if strings.Contains(stdout, "pasted-secret") {
				t.Errorf("stdout repeats the token cargo login was given: %s", stdout)
			}
		})
	}
}

func TestMainNoProfilesFile(t *testing.T) {
	env := testbin.NewEnv(t, t.TempDir())
	code, stdout, stderr := runMain(env, req("get", "sparse+https://crates.example.com/index/", `,"operation":"read"`), PluginFlag)
	want := Hello + `{"Err":{"kind":"url-not-supported"}}` + "\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Errorf("got exit %d stdout %q stderr %q, want 0, %q and nothing: cargo must go on to its next provider", code, stdout, stderr, want)
	}
}
