package docker_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/helpers/docker"
	"github.com/lanyardhq/lanyard/helpers/docker/dockerconfig"
	"github.com/lanyardhq/lanyard/internal/golden"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// TestMain silences the test OpenID provider's request log unless -v.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}

// fixture is a profiles file served by real token endpoints: the test
// OpenID provider (client_credentials) and the Shopware emulator (the
// password grant, which store may log in with).
type fixture struct {
	env  *testbin.Env
	op   *testprovider.OP
	shop *testprovider.Shopware
}

// fixtureProfiles: several profiles share registry.example.com so that
// host-only and path matching are both exercised.
const fixtureProfiles = `
[profiles.registry]
grant = "client_credentials"
token_url = "{{OP}}"
client_id = "{{CLIENT}}"
client_secret = "env:LANYARD_TEST_CLIENT_SECRET"
match = ["https://registry.example.com/"]

[profiles.team]
grant = "client_credentials"
token_url = "{{OP}}"
client_id = "{{CLIENT}}"
client_secret = "env:LANYARD_TEST_CLIENT_SECRET"
scopes = ["openid"]
match = ["https://registry.example.com/team/", "https://ghcr.io/acme/"]
docker_username = "team-bot"

[profiles.hub]
grant = "client_credentials"
token_url = "{{OP}}"
client_id = "{{CLIENT}}"
client_secret = "env:LANYARD_TEST_CLIENT_SECRET"
scopes = ["openid", "profile"]
match = ["https://index.docker.io/"]

[profiles.local]
grant = "client_credentials"
token_url = "{{OP}}"
client_id = "{{CLIENT}}"
client_secret = "env:LANYARD_TEST_CLIENT_SECRET"
scopes = ["email"]
match = ["http://127.0.0.1:5000"]

[profiles.portal]
grant = "refresh_token"
token_url = "{{OP}}"
client_id = "lanyard-cli"
match = ["https://portal.example.com:5000/"]

[profiles.shop]
grant = "password"
token_url = "{{SHOP}}"
client_id = "administration"
token_request = "json"
scope_param = "scopes"
username = "admin"
match = ["https://shop.example.com/"]

[profiles.nomatch]
grant = "client_credentials"
token_url = "{{OP}}"
client_id = "{{CLIENT}}"
client_secret = "env:LANYARD_TEST_CLIENT_SECRET"
`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	op, err := testprovider.StartOP(testprovider.OPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	shop, err := testprovider.StartShopware()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shop.Close() })
	env := testbin.NewEnv(t, t.TempDir())
	env.Set("LANYARD_TEST_CLIENT_SECRET", op.ConfidentialClientSecret)
	env.WriteConfig(t, strings.NewReplacer("{{OP}}", op.TokenURL, "{{SHOP}}", shop.TokenURL, "{{CLIENT}}", op.ConfidentialClientID).Replace(fixtureProfiles))
	return &fixture{env: env, op: op, shop: shop}
}

// run calls Main in-process as a client would run the binary.
func (f *fixture) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = dockerconfig.Main(args, strings.NewReader(stdin), &out, &errOut, f.env.Getenv)
	return code, out.String(), errOut.String()
}

// get returns the credentials get answers for server, failing the test otherwise.
func (f *fixture) get(t *testing.T, server string) docker.Credentials {
	t.Helper()
	code, out, errOut := f.run(t, server, "get")
	if code != 0 {
		t.Fatalf("get %s: exit %d: %s%s", server, code, out, errOut)
	}
	var c docker.Credentials
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("get %s: %v: %q", server, err, out)
	}
	return c
}

var secretRE = regexp.MustCompile(`"Secret":"[^"]*"`)

// normalize replaces tokens, temp paths and the not-found text by markers
// in what the golden files hold: the text is written exactly once in this
// package (protocol.go).
func (f *fixture) normalize(s string) string {
	s = secretRE.ReplaceAllString(s, `"Secret":"{{TOKEN}}"`)
	s = strings.ReplaceAll(s, f.env.Home, "{{HOME}}")
	s = strings.ReplaceAll(s, f.op.Issuer, "{{OP}}")
	s = strings.ReplaceAll(s, f.shop.URL, "{{SHOP}}")
	s = strings.ReplaceAll(s, docker.ErrCredentialsNotFound.Error(), "{{ErrCredentialsNotFound}}")
	return s
}

// TestProtocol runs every verb through Main with buffers, as docker's
// credentials_test.go does, and compares stdout and the exit code with
// golden files.
func TestProtocol(t *testing.T) {
	f := newFixture(t)
	// The secret get hands out must be a token its issuer accepts.
	validOP := func(t *testing.T, out string) {
		var c docker.Credentials
		if err := json.Unmarshal([]byte(out), &c); err != nil || !f.op.Valid(c.Secret) {
			t.Errorf("secret of %q is not a valid token of the provider (%v)", out, err)
		}
	}
	tests := []struct {
		name  string
		args  []string
		stdin func(t *testing.T) string
		check func(t *testing.T, out string)
	}{
		{name: "get-bare-host", args: []string{"get"}, stdin: lit("registry.example.com\n"), check: validOP},
		{name: "get-host-port-default", args: []string{"get"}, stdin: lit("registry.example.com:443"), check: validOP},
		{name: "get-host-repo", args: []string{"get"}, stdin: lit("registry.example.com/team/app"), check: validOP},
		{name: "get-other-repo", args: []string{"get"}, stdin: lit("registry.example.com/other/app"), check: validOP},
		{name: "get-path-only-profile", args: []string{"get"}, stdin: lit("ghcr.io"), check: validOP},
		{name: "get-docker-hub-key", args: []string{"get"}, stdin: lit("https://index.docker.io/v1/"), check: validOP},
		{name: "get-docker-hub-name", args: []string{"get"}, stdin: lit("docker.io/library/alpine"), check: validOP},
		{name: "get-http-profile", args: []string{"get"}, stdin: lit("127.0.0.1:5000"), check: validOP},
		{name: "get-unknown", args: []string{"get"}, stdin: lit("unknown.example.com")},
		{name: "get-unknown-port", args: []string{"get"}, stdin: lit("registry.example.com:5000")},
		{name: "get-not-a-url", args: []string{"get"}, stdin: lit("ftp://registry.example.com")},
		{name: "get-empty-stdin", args: []string{"get"}, stdin: lit("")},
		{name: "get-blank-stdin", args: []string{"get"}, stdin: lit("\n  \n")},
		{name: "get-login-required", args: []string{"get"}, stdin: lit("portal.example.com:5000")},

		{name: "store-empty-stdin", args: []string{"store"}, stdin: lit("")},
		{name: "store-malformed-json", args: []string{"store"}, stdin: lit(`{"ServerURL":"registry.example.com",`)},
		{name: "store-not-an-object", args: []string{"store"}, stdin: lit(`"registry.example.com"`)},
		{name: "store-missing-server", args: []string{"store"}, stdin: lit(`{"Username":"alice","Secret":"hunter2"}`)},
		{name: "store-missing-username", args: []string{"store"}, stdin: lit(`{"ServerURL":"registry.example.com","Secret":"hunter2"}`)},
		{name: "store-password-refused", args: []string{"store"}, stdin: lit(`{"ServerURL":"registry.example.com","Username":"alice","Secret":"hunter2"}`)},
		{name: "store-wrong-token-refused", args: []string{"store"}, stdin: lit(`{"ServerURL":"registry.example.com","Username":"oauth2accesstoken","Secret":"not-the-token"}`)},
		{name: "store-identity-token-refused", args: []string{"store"}, stdin: lit(`{"ServerURL":"registry.example.com","Username":"<token>","Secret":"rt"}`)},
		{name: "store-unknown-server", args: []string{"store"}, stdin: lit(`{"ServerURL":"unknown.example.com","Username":"alice","Secret":"hunter2"}`)},
		{name: "store-password-grant-wrong-user", args: []string{"store"}, stdin: lit(`{"ServerURL":"shop.example.com","Username":"alice","Secret":"shopware"}`)},
		{name: "store-password-grant-wrong-password", args: []string{"store"}, stdin: lit(`{"ServerURL":"shop.example.com","Username":"admin","Secret":"wrong"}`)},
		// docker login stores back what get handed out after checking it.
		{name: "store-echo-of-get", args: []string{"store"}, stdin: func(t *testing.T) string {
			c := f.get(t, "registry.example.com")
			c.ServerURL = "registry.example.com"
			b, _ := json.Marshal(c)
			return string(b)
		}},
		{name: "store-password-grant", args: []string{"store"}, stdin: lit(`{"ServerURL":"https://shop.example.com","Username":"admin","Secret":"shopware"}`),
			check: func(t *testing.T, _ string) {
				if c := f.get(t, "shop.example.com"); c.Username != docker.DefaultUsername || !f.shop.Valid(c.Secret) {
					t.Errorf("after store, get = %+v; want a valid Shopware token", c)
				}
			}},

		{name: "erase-known", args: []string{"erase"}, stdin: lit("registry.example.com")},
		{name: "erase-unknown", args: []string{"erase"}, stdin: lit("unknown.example.com")},
		{name: "erase-empty-stdin", args: []string{"erase"}, stdin: lit("")},

		{name: "list", args: []string{"list"}, stdin: lit("unused")},
		{name: "version", args: []string{"version"}, stdin: lit("")},
		{name: "version-flag", args: []string{"--version"}},
		{name: "version-short-flag", args: []string{"-v"}},
		{name: "help", args: []string{"--help"}},
		{name: "no-verb", args: nil},
		{name: "two-args", args: []string{"get", "registry.example.com"}},
		{name: "unknown-verb", args: []string{"frobnicate"}, stdin: lit("registry.example.com")},
		{name: "verb-case-matters", args: []string{"GET"}, stdin: lit("registry.example.com")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := ""
			if tt.stdin != nil {
				stdin = tt.stdin(t)
			}
			code, out, errOut := f.run(t, stdin, tt.args...)
			if errOut != "" {
				t.Errorf("stderr not empty (LANYARD_DEBUG is unset): %q", errOut)
			}
			if strings.Contains(out, f.op.ConfidentialClientSecret) {
				t.Errorf("stdout leaks the client secret: %q", out)
			}
			golden.Check(t, filepath.Join("golden", tt.name+".golden"), []byte(fmt.Sprintf("exit %d\n%s", code, f.normalize(out))))
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

func lit(s string) func(*testing.T) string { return func(*testing.T) string { return s } }

func TestGetUsernames(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ server, user string }{
		{"registry.example.com", docker.DefaultUsername},
		{"registry.example.com/team/app", "team-bot"},
		{"ghcr.io/acme/app", "team-bot"},
		{"https://index.docker.io/v1/", docker.DefaultUsername},
	}
	for _, tt := range tests {
		c := f.get(t, tt.server)
		if c.ServerURL != tt.server || c.Username != tt.user {
			t.Errorf("get %s: got ServerURL %q Username %q, want %q %q", tt.server, c.ServerURL, c.Username, tt.server, tt.user)
		}
		if c.Username == "<token>" {
			t.Errorf("get %s: Username <token> would make the token an identity token", tt.server)
		}
	}
}

// A cached token is served without a token request; erase drops it, and
// the next get mints a new one.
func TestGetCachesAndEraseInvalidates(t *testing.T) {
	f := newFixture(t)
	first := f.get(t, "registry.example.com")
	n := f.op.TokenRequests()
	if again := f.get(t, "registry.example.com"); again.Secret != first.Secret || f.op.TokenRequests() != n {
		t.Fatalf("second get: new token or %d token requests; want the cached token and none", f.op.TokenRequests()-n)
	}
	if code, out, _ := f.run(t, "registry.example.com\n", "erase"); code != 0 || out != "" {
		t.Fatalf("erase: exit %d, stdout %q; want 0 and nothing", code, out)
	}
	next := f.get(t, "registry.example.com")
	if next.Secret == first.Secret || f.op.TokenRequests() != n+1 {
		t.Fatalf("get after erase: same token or %d token requests; want a new token from one request", f.op.TokenRequests()-n)
	}
	if !f.op.Valid(next.Secret) {
		t.Error("new token is not valid")
	}
}

func TestNoProfilesFile(t *testing.T) {
	env := testbin.NewEnv(t, t.TempDir()) // LANYARD_CONFIG points at a file that does not exist
	var out, errOut bytes.Buffer
	if code := dockerconfig.Main([]string{"get"}, strings.NewReader("registry.example.com"), &out, &errOut, env.Getenv); code != 1 || !docker.IsCredentialsNotFound(fmt.Errorf("%s", out.String())) {
		t.Errorf("get: exit %d, stdout %q; want exit 1 and not-found", code, out.String())
	}
	out.Reset()
	if code := dockerconfig.Main([]string{"list"}, strings.NewReader(""), &out, &errOut, env.Getenv); code != 0 || out.String() != "{}\n" {
		t.Errorf("list: exit %d, stdout %q; want {}", code, out.String())
	}
}

func TestBrokenProfilesFile(t *testing.T) {
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, "[profiles.a]\ngrant = \"client_credentials\"\nscope = [\"x\"]\n")
	var out, errOut bytes.Buffer
	code := dockerconfig.Main([]string{"get"}, strings.NewReader("registry.example.com"), &out, &errOut, env.Getenv)
	if code != 1 || !strings.Contains(out.String(), "config.toml:3") || !strings.Contains(out.String(), "profiles.a.scope") {
		t.Errorf("exit %d, stdout %q; want exit 1 and the file:line of the bad key", code, out.String())
	}
}

func TestDebugLogsToStderrWithoutTokens(t *testing.T) {
	f := newFixture(t)
	f.env.Set("LANYARD_DEBUG", "1")
	code, out, errOut := f.run(t, "registry.example.com", "get")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var c docker.Credentials
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("stdout is not only the answer: %v: %q", err, out)
	}
	if !strings.Contains(errOut, `profile "registry" matches`) {
		t.Errorf("stderr %q does not say which profile matched", errOut)
	}
	if strings.Contains(errOut, c.Secret) {
		t.Errorf("stderr leaks the token: %q", errOut)
	}
	_, _, errOut = f.run(t, "unknown.example.com", "get")
	if !strings.Contains(errOut, "no profile matches") {
		t.Errorf("stderr %q does not say no profile matches", errOut)
	}
}
