package pykeyring

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

const unitProfiles = `
[profiles.index]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://pypi.example.com/"]
pip_username = "__token__"

[profiles.nologin]
grant = "refresh_token"
token_url = "https://auth.example.com/token"
client_id = "c"
match = ["https://login.example.com/"]
`

func TestMainGolden(t *testing.T) {
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, unitProfiles)
	tokentest.Seed(t, env, "index", &engine.Token{AccessToken: "tok-index", Expiry: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)})
	for _, tt := range []struct {
		name      string
		args      []string
		stderrHas string
	}{
		{name: "index-url", args: []string{"https://pypi.example.com/simple/"}},
		{name: "netloc", args: []string{"pypi.example.com"}},
		{name: "other-host", args: []string{"https://pypi.org/simple/"}},
		{name: "not-a-url", args: []string{"my app"}},
		{name: "login-required", args: []string{"https://login.example.com/simple/"}, stderrHas: "run: lanyard login nologin"},
		{name: "no-args", args: nil, stderrHas: "want one SERVICE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, strings.NewReader(""), &out, &errb, env.Getenv, agent.InProcess(env.Getenv, &errb, false))
			golden.Check(t, "main/"+tt.name+".golden", fmt.Appendf(nil, "exit %d\n--- stdout\n%s", code, out.String()))
			if tt.stderrHas == "" && errb.Len() != 0 {
				t.Errorf("stderr: got %q, want nothing", errb.String())
			}
			if !strings.Contains(errb.String(), tt.stderrHas) {
				t.Errorf("stderr: got %q, want it to contain %q", errb.String(), tt.stderrHas)
			}
		})
	}
}
