package docker_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lanyardhq/lanyard/helpers/docker"
	"github.com/lanyardhq/lanyard/helpers/docker/dockerconfig"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// fuzzProfiles match two registries with a refresh_token profile that has
// never logged in: get answers "run: lanyard login" without any network.
const fuzzProfiles = `
[profiles.portal]
grant = "refresh_token"
token_url = "https://auth.example.com/token"
client_id = "lanyard-cli"
match = ["https://registry.example.com/", "http://127.0.0.1:5000/", "https://index.docker.io/"]
`

// FuzzDockerInput feeds any verb and any stdin to Main, and the parsers
// beneath it. Main must not panic, must answer with exit 0 or 1, must keep
// stderr quiet, and must give clients exactly the texts they compare; the
// URLs profiles are matched against must be plain http(s) URLs.
func FuzzDockerInput(f *testing.F) {
	env := testbin.NewEnv(f, f.TempDir())
	env.WriteConfig(f, fuzzProfiles)
	// Seeds: testdata/fuzz/FuzzDockerInput.
	f.Fuzz(func(t *testing.T, verb string, in []byte) {
		var out, errOut bytes.Buffer
		code := dockerconfig.Main([]string{verb}, bytes.NewReader(in), &out, &errOut, env.Getenv)
		if code != 0 && code != 1 {
			t.Fatalf("exit %d, want 0 or 1", code)
		}
		if errOut.Len() > 0 {
			t.Fatalf("stderr: %q", errOut.String())
		}
		if code == 1 && (out.Len() == 0 || !bytes.HasSuffix(out.Bytes(), []byte("\n"))) {
			t.Fatalf("exit 1 with stdout %q, want one error line", out.String())
		}

		server, perr := docker.ParseServerURL(in)
		if verb == docker.ActionGet {
			switch {
			case perr != nil:
				if strings.TrimSpace(out.String()) != perr.Error() {
					t.Fatalf("get: stdout %q, want %q", out.String(), perr)
				}
			case code == 0:
				t.Fatalf("get %q: exit 0, but no profile here can have a token", server)
			case dockerconfig.Resolve(mustLoad(t, env), server) == nil:
				if !docker.IsCredentialsNotFound(errString(out.String())) {
					t.Fatalf("get %q: stdout %q, want the not-found text", server, out.String())
				}
			default:
				if !strings.Contains(out.String(), "run: lanyard login portal") {
					t.Fatalf("get %q: stdout %q, want the login command", server, out.String())
				}
			}
		}
		if strings.ContainsAny(server, "@#?") && docker.ServerURLs(server) != nil {
			t.Fatalf("docker.ServerURLs(%q) accepted userinfo, a query or a fragment", server)
		}
		if perr == nil {
			for _, u := range docker.ServerURLs(server) {
				pu, err := url.Parse(u)
				if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || pu.User != nil || pu.RawQuery != "" || pu.Fragment != "" {
					t.Fatalf("docker.ServerURLs(%q) gave %q (%v), not a plain http(s) URL", server, u, err)
				}
			}
		}

		if c, err := docker.ParseCredentials(in); err == nil {
			if c.ServerURL == "" || c.Username == "" {
				t.Fatalf("docker.ParseCredentials accepted %+v without server or username", c)
			}
			if utf8.ValidString(c.ServerURL + c.Username + c.Secret) {
				var back docker.Credentials
				if err := json.Unmarshal(docker.FormatCredentials(*c), &back); err != nil || back != *c {
					t.Fatalf("docker.FormatCredentials round trip: %+v -> %+v (%v)", c, back, err)
				}
			}
		}
	})
}

func mustLoad(t *testing.T, env *testbin.Env) *config.File {
	t.Helper()
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type errString string

func (e errString) Error() string { return string(e) }
