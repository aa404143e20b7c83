package git

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/desktop"

	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

var update = flag.Bool("update", false, "rewrite testdata/main/*.golden")

// unitProfiles never reach a network: their tokens are seeded in the store
// (valid until 2100), and "nologin" has none and no way to get one without
// a person.
const unitProfiles = `
[profiles.alpha]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://git.example.com/"]

[profiles.acme]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://git.example.com/acme/"]
git_username = "x-access-token"

[profiles.pinned]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"

[profiles.idtok]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
use = "id_token"
match = ["https://id.example.com"]

[profiles.bearer]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://bearer.example.com/"]
git_auth = "bearer"

[profiles.basic]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:UNUSED"
match = ["https://basic.example.com/"]
git_auth = "basic"

[profiles.nologin]
grant = "refresh_token"
token_url = "https://auth.example.com/token"
client_id = "c"
match = ["https://login.example.com/"]
`

var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// unitEnv is an isolated lanyard environment with unitProfiles and their
// seeded tokens.
func unitEnv(t *testing.T) (*testbin.Env, *engine.Engine, *config.File) {
	t.Helper()
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, unitProfiles)
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(env.Getenv, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]*engine.Token{
		"alpha":  {AccessToken: "tok-alpha", RefreshToken: "rt-alpha"},
		"acme":   {AccessToken: "tok-acme"},
		"pinned": {AccessToken: "tok-pinned"},
		"idtok":  {AccessToken: "tok-idtok", IDToken: "id-idtok"},
		"bearer": {AccessToken: "tok-bearer"},
		"basic":  {AccessToken: "tok-basic"},
	} {
		tok.Key, tok.Expiry, tok.Obtained = cfg.Profiles[name].CacheKey(), farFuture, time.Now()
		if err := eng.Store.SaveToken(name, tok); err != nil {
			t.Fatal(err)
		}
	}
	return env, eng, cfg
}

func runMain(env *testbin.Env, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errb, env.Getenv, agent.InProcess(env.Getenv, &errb, false))
	return code, out.String(), errb.String()
}

// TestMain_ table: stdin from git -> exact stdout and exit code, kept in
// testdata/main/NAME.golden (go test -update rewrites them).
func TestMainGolden(t *testing.T) {
	env, _, _ := unitEnv(t)
	huge := strings.Repeat("h", 2<<20)
	tests := []struct {
		name       string
		args       []string
		stdin      string
		stderrHas  string // substring of stderr; "" means stderr must be empty
		stderrSkip bool
	}{
		{name: "get-host-only", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\n"},
		{name: "get-blank-line-ends-request", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\n\nhost=other.example.com\n"},
		{name: "get-crlf", args: []string{"get"}, stdin: "protocol=https\r\nhost=git.example.com\r\npath=acme/app.git\r\n\r\n"},
		{name: "get-path-most-specific", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\npath=acme/app.git\n"},
		{name: "get-path-other-repo", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\npath=acmeinc/app.git\n"},
		{name: "get-default-port", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com:443\n"},
		{name: "get-unknown-keys", args: []string{"get"}, stdin: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=git.example.com\nwwwauth[]=Basic realm=\"git\"\nauthtype=Basic\npassword_expiry_utc=12\noauth_refresh_token=old\nephemeral=1\nstate[]=x:y\nfuture=1\njunk line\n"},
		{name: "get-git-2.47-auto-bearer-only-server", args: []string{"get"}, stdin: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=git.example.com\nwwwauth[]=Bearer realm=\"git\"\n"},
		{name: "get-git-2.47-auto-basic-server", args: []string{"get"}, stdin: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=git.example.com\nwwwauth[]=Basic realm=\"git\"\nwwwauth[]=Bearer realm=\"git\"\n"},
		{name: "get-git-2.47-bearer", args: []string{"get"}, stdin: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=bearer.example.com\nwwwauth[]=Basic realm=\"git\"\n"},
		{name: "get-git-2.47-basic", args: []string{"get"}, stdin: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=basic.example.com\nwwwauth[]=Bearer realm=\"git\"\n"},
		{name: "get-git-2.39-bearer", args: []string{"get"}, stdin: "protocol=https\nhost=bearer.example.com\n"},
		{name: "get-git-2.41-bearer-only-server", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\nwwwauth[]=Bearer realm=\"git\"\n"},
		{name: "capability", args: []string{"capability"}, stdin: ""},
		{name: "get-url-attribute", args: []string{"get"}, stdin: "url=https://git.example.com/acme/app.git\n"},
		{name: "get-huge-value", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\nwwwauth[]=Basic realm=\"" + huge + "\"\n"},
		{name: "get-too-large", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\nwwwauth[]=" + strings.Repeat("h", MaxRequest) + "\n", stderrHas: "larger than 8 MiB"},
		{name: "get-id-token", args: []string{"get"}, stdin: "protocol=https\nhost=id.example.com\n"},
		{name: "get-unknown-host", args: []string{"get"}, stdin: "protocol=https\nhost=unknown.example.com\n"},
		{name: "get-other-port", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com:8443\n"},
		{name: "get-http-scheme", args: []string{"get"}, stdin: "protocol=http\nhost=git.example.com\n"},
		{name: "get-empty-stdin", args: []string{"get"}, stdin: ""},
		{name: "get-login-required", args: []string{"get"}, stdin: "protocol=https\nhost=login.example.com\n", stderrHas: `profile "nologin": not logged in; run: lanyard login nologin`},
		{name: "get-interactive-without-tty", args: []string{"--interactive", "get"}, stdin: "protocol=https\nhost=login.example.com\n", stderrHas: "run: lanyard login nologin"},
		{name: "get-dot-segments", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\npath=acme/../evil/x.git\n"},
		{name: "get-dot-segment", args: []string{"get"}, stdin: "protocol=https\nhost=git.example.com\npath=acme/./x.git\n"},
		{name: "get-pinned-without-match", args: []string{"--profile", "pinned", "get"}, stdin: "protocol=https\nhost=anything.example.com\n", stderrHas: `set match (the URL prefixes it serves) in [profiles.pinned] at `},
		{name: "get-pinned-flag-after-verb", args: []string{"get", "--profile=acme"}, stdin: "protocol=https\nhost=git.example.com\n"},
		{name: "get-pinned-dot-segments", args: []string{"--profile", "acme", "get"}, stdin: "protocol=https\nhost=git.example.com\npath=acme/../evil/x.git\n", stderrHas: ". or .. segments"},
		{name: "get-pinned-plain-http", args: []string{"--profile", "pinned", "get"}, stdin: "protocol=http\nhost=git.example.com\n", stderrHas: "has no match list"},
		{name: "get-pinned-outside-its-match", args: []string{"--profile", "acme", "get"}, stdin: "protocol=https\nhost=other.example.com\n"},
		{name: "get-pinned-unknown-profile", args: []string{"--profile", "nope", "get"}, stdin: "protocol=https\nhost=git.example.com\n", stderrHas: `profile "nope" not found`},
		{name: "store-is-a-no-op", args: []string{"store"}, stdin: "protocol=https\nhost=git.example.com\nusername=oauth2\npassword=tok-alpha\n"},
		{name: "unknown-operation", args: []string{"capabilities"}, stdin: "protocol=https\nhost=git.example.com\n"},
		{name: "no-operation", args: nil, stdin: "", stderrHas: "missing operation"},
		{name: "unknown-flag", args: []string{"--nope", "get"}, stdin: "", stderrHas: "flag provided but not defined"},
		{name: "help", args: []string{"--help"}, stdin: "", stderrHas: "usage: git-credential-lanyard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(env, tt.stdin, tt.args...)
			got := fmt.Sprintf("exit %d\n--- stdout\n%s", code, stdout)
			golden := filepath.Join("testdata", "main", tt.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s\nstderr: %s", got, want, stderr)
			}
			if tt.stderrHas == "" && stderr != "" {
				t.Errorf("stderr: got %q, want nothing", stderr)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.stderrHas)
			}
		})
	}
}

func TestMainNoProfilesFile(t *testing.T) {
	env := testbin.NewEnv(t, t.TempDir())
	code, stdout, stderr := runMain(env, "protocol=https\nhost=git.example.com\n", "get")
	if code != 0 || stdout != "" || stderr != "" {
		t.Errorf("got exit %d stdout %q stderr %q, want 0 and nothing: a global helper line must not get in the way before lanyard is set up", code, stdout, stderr)
	}
	code, _, stderr = runMain(env, "protocol=https\nhost=git.example.com\n", "--profile", "p", "get")
	if code != 1 || !strings.Contains(stderr, "profiles file does not exist") {
		t.Errorf("pinned: got exit %d stderr %q, want 1 and the missing-file message", code, stderr)
	}
}

func TestMainBrokenProfilesFile(t *testing.T) {
	env := testbin.NewEnv(t, t.TempDir())
	env.WriteConfig(t, "[profiles.a]\ngrant = \"client_credentials\"\nbogus = 1\n")
	code, stdout, stderr := runMain(env, "protocol=https\nhost=git.example.com\n", "get")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "config.toml:3: profiles.a.bogus: unknown key") {
		t.Errorf("got exit %d stdout %q stderr %q, want 1 and the file:line error", code, stdout, stderr)
	}
}

func TestMainErase(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		stdin     string
		profile   string
		wantToken string // access token left in the store
		stderrHas string // "" means stderr must be empty
	}{
		{"other helper's password is not ours", []string{"erase"}, "protocol=https\nhost=git.example.com\nusername=bob\npassword=someone-elses\n", "alpha", "tok-alpha", ""},
		{"unmatched host", []string{"erase"}, "protocol=https\nhost=unknown.example.com\nusername=oauth2\npassword=tok-alpha\n", "alpha", "tok-alpha", ""},
		{"rejected token is dropped", []string{"erase"}, "protocol=https\nhost=git.example.com\nusername=oauth2\npassword=tok-alpha\nwwwauth[]=Basic realm=\"x\"\n", "alpha", "", ""},
		{"pinned", []string{"--profile", "acme", "erase"}, "protocol=https\nhost=git.example.com\npassword=tok-acme\n", "acme", "", "the server refused the token (the next git command gets a new one)"},
		{"path picks the profile", []string{"erase"}, "protocol=https\nhost=git.example.com\npath=acme/x.git\npassword=tok-acme\n", "acme", "", "the server refused the token (the next git command gets a new one)"},
		{"refused Bearer credential is dropped", []string{"erase"}, "capability[]=authtype\ncapability[]=state\nauthtype=Bearer\ncredential=tok-bearer\nprotocol=https\nhost=bearer.example.com\nstate[]=lanyard:profile=bearer\nwwwauth[]=Bearer error=\"invalid_token\"\n", "bearer", "", ""},
		{"Bearer refused where Basic is asked names git_auth", []string{"erase"}, "capability[]=authtype\ncapability[]=state\nauthtype=Bearer\ncredential=tok-bearer\nprotocol=https\nhost=bearer.example.com\nstate[]=lanyard:profile=bearer\nwwwauth[]=Basic realm=\"git\"\n", "bearer", "", `set git_auth = "basic" (or "auto")`},
		{"Basic refused where Bearer is asked names git_auth", []string{"erase"}, "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=basic.example.com\nusername=oauth2\npassword=tok-basic\nstate[]=lanyard:profile=basic\nwwwauth[]=Bearer realm=\"git\"\n", "basic", "", `set git_auth = "bearer" (or "auto")`},
		{"another helper answered (its state, its password)", []string{"erase"}, "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=git.example.com\nusername=bob\npassword=pw\nstate[]=gcm:1\n", "alpha", "tok-alpha", ""},
		{"lanyard's state for another profile", []string{"erase"}, "capability[]=state\nprotocol=https\nhost=git.example.com\nusername=oauth2\npassword=tok-alpha\nstate[]=lanyard:profile=acme\n", "alpha", "tok-alpha", ""},
		{"nothing refused drops nothing", []string{"erase"}, "capability[]=authtype\nprotocol=https\nhost=git.example.com\n", "alpha", "tok-alpha", ""},
		{"a credential that is not ours, without state", []string{"erase"}, "capability[]=authtype\nauthtype=Bearer\ncredential=someone-elses\nprotocol=https\nhost=bearer.example.com\n", "bearer", "tok-bearer", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, eng, cfg := unitEnv(t)
			code, stdout, stderr := runMain(env, tt.stdin, tt.args...)
			if code != 0 || stdout != "" || !strings.Contains(stderr, tt.stderrHas) || tt.stderrHas == "" && stderr != "" {
				t.Fatalf("got exit %d stdout %q stderr %q, want 0, no output and stderr %q", code, stdout, stderr, tt.stderrHas)
			}
			tok, err := eng.Cached(cfg.Profiles[tt.profile])
			if err != nil {
				t.Fatal(err)
			}
			if tok == nil {
				t.Fatalf("token state of %s was deleted; erase must keep the refresh token", tt.profile)
			}
			if tok.AccessToken != tt.wantToken {
				t.Errorf("access token: got %q, want %q", tok.AccessToken, tt.wantToken)
			}
			if tt.profile == "alpha" && tok.RefreshToken != "rt-alpha" {
				t.Errorf("refresh token: got %q, want rt-alpha kept", tok.RefreshToken)
			}
		})
	}
}

func TestInteractiveNeedsPromptsAllowed(t *testing.T) {
	for v, want := range map[string]bool{"": false, "1": false, "true": false, "0": true, "false": true, "no": true, "off": true} {
		if got := refusedByEnv(func(k string) string { return map[string]string{"GIT_TERMINAL_PROMPT": v}[k] }); got != want {
			t.Errorf("GIT_TERMINAL_PROMPT=%q: disabled = %v, want %v", v, got, want)
		}
	}
	for v, want := range map[string]bool{"": false, "0": false, "1": true, "true": true} {
		if got := refusedByEnv(func(k string) string { return map[string]string{"LANYARD_NONINTERACTIVE": v}[k] }); got != want {
			t.Errorf("LANYARD_NONINTERACTIVE=%q: disabled = %v, want %v", v, got, want)
		}
	}
}

func TestDecideLogin(t *testing.T) {
	desk := desktop.Decision{Place: desktop.Desktop, Open: desktop.OS}
	ssh := desktop.Decision{Place: desktop.SSH}
	tests := []struct {
		name               string
		disabled, terminal bool
		d                  desktop.Decision
		want               LoginMode
	}{
		{"IDE on a desktop", false, false, desk, AgentBrowserLogin},
		{"VS Code Remote-SSH (BROWSER set)", false, false, desktop.Decision{Place: desktop.SSH, Open: desktop.BROWSER}, AgentBrowserLogin},
		{"terminal on a desktop", false, true, desk, TerminalLogin},
		{"terminal over SSH (device code)", false, true, ssh, TerminalLogin},
		{"SSH without a terminal", false, false, ssh, NoLogin},
		{"container without a terminal", false, false, desktop.Decision{Place: desktop.Container}, NoLogin},
		{"prompts disabled on a desktop", true, false, desk, NoLogin},
		{"prompts disabled on a terminal", true, true, desk, NoLogin},
	}
	for _, tc := range tests {
		if got := DecideLogin(tc.disabled, tc.terminal, tc.d); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDebugLogRedactsToken(t *testing.T) {
	env, _, _ := unitEnv(t)
	code, stdout, stderr := runMain(env, "protocol=https\nhost=git.example.com\npath=acme/app.git\n", "--debug", "get")
	if code != 0 || !strings.Contains(stdout, "password=tok-acme") {
		t.Fatalf("got exit %d stdout %q", code, stdout)
	}
	if strings.Contains(stderr, "tok-acme") || !strings.Contains(stderr, "profile=acme") {
		t.Errorf("debug log: got %q, want the profile named and the token redacted", stderr)
	}
}
