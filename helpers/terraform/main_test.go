package terraform

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

// unitProfiles never reach a network: "tfe" has a seeded token valid
// until 2100; "nologin" has none and no way to get one without a person.
const unitProfiles = `
[profiles.tfe]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://tf.example.com/", "https://127.0.0.1:8443/"]

[profiles.nologin]
grant = "refresh_token"
token_url = "https://auth.example.com/token"
client_id = "c"
match = ["https://login.example.com/"]
`

func unitEnv(t *testing.T) *testbin.Env {
	t.Helper()
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, unitProfiles)
	tokentest.Seed(t, env, "tfe", &engine.Token{AccessToken: "tok-tfe", Expiry: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)})
	return env
}

// TestMainGolden: Terraform's command line -> exactly what the helper
// prints, kept in testdata/main/NAME.golden (go test -update rewrites them).
func TestMainGolden(t *testing.T) {
	env := unitEnv(t)
	tests := []struct {
		name      string
		args      []string
		stdin     string
		stderrHas string // "" means stderr must be empty
	}{
		{name: "get", args: []string{"get", "tf.example.com"}},
		{name: "get-port", args: []string{"get", "127.0.0.1:8443"}},
		{name: "get-other-port", args: []string{"get", "tf.example.com:8443"}},
		{name: "get-unknown-host", args: []string{"get", "app.terraform.io"}},
		{name: "get-login-required", args: []string{"get", "login.example.com"}, stderrHas: "run: lanyard login nologin"},
		{name: "get-bad-host", args: []string{"get", "tf.example.com/evil"}, stderrHas: "not a Terraform service hostname"},
		{name: "store-managed", args: []string{"store", "tf.example.com"}, stdin: `{"token":"from-terraform-login"}`, stderrHas: "nothing was stored; run: lanyard login tfe"},
		{name: "store-unknown-host", args: []string{"store", "app.terraform.io"}, stdin: `{"token":"from-terraform-login"}`, stderrHas: `add match = ["https://app.terraform.io/"]`},
		{name: "forget-managed", args: []string{"forget", "tf.example.com"}, stderrHas: "nothing was forgotten; run: lanyard logout tfe"},
		{name: "args-before-verb", args: []string{"--debug", "get", "app.terraform.io"}, stderrHas: "no profile serves this host"},
		{name: "unknown-verb", args: []string{"list", "tf.example.com"}, stderrHas: `unknown verb "list"`},
		{name: "no-host", args: []string{"get"}, stderrHas: "want a verb and a hostname"},
		{name: "help", args: []string{"--help"}, stderrHas: "usage: terraform-credentials-lanyard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, strings.NewReader(tt.stdin), &out, &errb, env.Getenv, agent.InProcess(env.Getenv, &errb, false))
			golden.Check(t, "main/"+tt.name+".golden", fmt.Appendf(nil, "exit %d\n--- stdout\n%s", code, out.String()))
			stderr := errb.String()
			if tt.stderrHas == "" && stderr != "" {
				t.Errorf("stderr: got %q, want nothing", stderr)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.stderrHas)
			}
			if strings.Contains(out.String()+stderr, "from-terraform-login") {
				t.Errorf("the token terraform login stored leaked: %s %s", out.String(), stderr)
			}
		})
	}
}

func TestMainNoProfilesFile(t *testing.T) {
	env := testbin.NewEnv(t, t.TempDir())
	var out, errb bytes.Buffer
	code := Main([]string{"get", "tf.example.com"}, strings.NewReader(""), &out, &errb, env.Getenv, agent.InProcess(env.Getenv, &errb, false))
	if code != 0 || out.String() != NoCredentials || errb.Len() != 0 {
		t.Errorf("got exit %d stdout %q stderr %q, want 0, {} and nothing", code, out.String(), errb.String())
	}
}
