package goauth

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
[profiles.proxy]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://proxy.example.com/private/", "https://git.example.com/acme"]

[profiles.nologin]
grant = "refresh_token"
token_url = "https://auth.example.com/token"
client_id = "c"
match = ["https://login.example.com/"]
`

const refused = "HTTP/1.1 401 Unauthorized\nContent-Length: 19\nWww-Authenticate: Bearer realm=\"x\"\n\n"

func unitEnv(t *testing.T) *testbin.Env {
	t.Helper()
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, unitProfiles)
	tokentest.Seed(t, env, "proxy", &engine.Token{AccessToken: "tok-proxy", Expiry: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)})
	return env
}

// TestMainGolden: arguments and stdin from the go command -> exact stdout
// and exit code, in testdata/main/NAME.golden (go test -update rewrites).
func TestMainGolden(t *testing.T) {
	env := unitEnv(t)
	for _, tt := range []struct {
		name      string
		args      []string
		stdin     string
		stderrHas string // "" means stderr must be empty
	}{
		{name: "first-call", args: nil},
		{name: "refused-under-prefix", args: []string{"https://proxy.example.com/private/mod/@v/list"}, stdin: refused},
		{name: "refused-404", args: []string{"https://proxy.example.com/private/mod/@v/v1.0.0.info"}, stdin: "HTTP/1.1 404 Not Found\n\n"},
		{name: "refused-host-only-prefix-from-match", args: []string{"https://git.example.com/acme/tool/x?go-get=1"}, stdin: refused},
		{name: "other-path-same-host", args: []string{"https://proxy.example.com/public/mod/@v/list"}, stdin: refused},
		{name: "unknown-host", args: []string{"https://sum.golang.org/lookup/x@v1"}, stdin: refused},
		{name: "dot-segments", args: []string{"https://proxy.example.com/private/../public/x"}, stdin: refused},
		{name: "no-stdin", args: []string{"https://proxy.example.com/private/mod/@latest"}},
		{name: "garbage-stdin", args: []string{"https://proxy.example.com/private/mod/@latest"}, stdin: "not http\n"},
		{name: "login-required", args: []string{"https://login.example.com/mod/@v/list"}, stdin: refused, stderrHas: `run: lanyard login nologin`},
		{name: "http-url", args: []string{"http://proxy.example.com/private/x"}, stderrHas: "want one https:// URL"},
		{name: "two-args", args: []string{"https://a.example.com/", "b"}, stderrHas: "want one https:// URL"},
		{name: "help", args: []string{"--help"}, stderrHas: "usage: lanyard goauth"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, strings.NewReader(tt.stdin), &out, &errb, env.Getenv, agent.InProcess(env.Getenv, &errb, false))
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

func TestMainTooLarge(t *testing.T) {
	env := unitEnv(t)
	var out, errb bytes.Buffer
	big := "HTTP/1.1 401 U\nX: " + strings.Repeat("x", MaxRequest) + "\n\n"
	code := Main([]string{"https://proxy.example.com/private/x"}, strings.NewReader(big), &out, &errb, env.Getenv, agent.InProcess(env.Getenv, &errb, false))
	if code != exitError || out.Len() != 0 || !strings.Contains(errb.String(), "larger than 1 MiB") {
		t.Errorf("got exit %d stdout %q stderr %q", code, out.String(), errb.String())
	}
}
