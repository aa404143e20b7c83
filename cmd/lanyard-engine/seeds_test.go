package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/helpers/token"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// run runs a lanyard command as a separate process and returns stdout,
// stderr and the exit code.
func run(t *testing.T, env *testbin.Env, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return env.Run(t, stdin, "lanyard", args...)
}

// mustToken runs lanyard token --format json and decodes it.
func mustToken(t *testing.T, env *testbin.Env, profile string, extra ...string) token.TokenJSON {
	t.Helper()
	out, stderr, code := run(t, env, "", append([]string{"token", profile, "--format", "json"}, extra...)...)
	if code != 0 {
		t.Fatalf("lanyard token %s: exit %d: %s", profile, code, stderr)
	}
	var tj token.TokenJSON
	if err := json.Unmarshal([]byte(out), &tj); err != nil {
		t.Fatalf("token json: %v: %q", err, out)
	}
	if tj.Profile != profile || tj.TokenType != "Bearer" || time.Until(tj.ExpiresAt) <= 0 {
		t.Errorf("token json: got %+v", tj)
	}
	return tj
}

func login(t *testing.T, env *testbin.Env, profile, stdin string, flags ...string) {
	t.Helper()
	_, stderr, code := run(t, env, stdin, append([]string{"login", profile}, flags...)...)
	if code != 0 {
		t.Fatalf("lanyard login %s: exit %d: %s", profile, code, stderr)
	}
}

type validator interface {
	Valid(string) bool
	TokenRequests() int64
}

// assertCached checks that a second token call is served from the cache.
func assertCached(t *testing.T, env *testbin.Env, srv validator, profile string, first token.TokenJSON) {
	t.Helper()
	before := srv.TokenRequests()
	again := mustToken(t, env, profile)
	if again.AccessToken != first.AccessToken || srv.TokenRequests() != before {
		t.Errorf("second call: token changed=%v, %d token requests; want the cached token and none", again.AccessToken != first.AccessToken, srv.TokenRequests()-before)
	}
}

func start[T any](t *testing.T, f func() (T, error)) T {
	t.Helper()
	s, err := f()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { any(s).(interface{ Close() error }).Close() })
	return s
}

func newEnv(t *testing.T) *testbin.Env {
	t.Helper()
	return testbin.NewEnv(t, testbin.Build(t, "lanyard"))
}

func TestWhenFresh(t *testing.T) {
	wf := start(t, testprovider.StartWhenFresh)
	env := newEnv(t)
	env.Set("WF_SECRET", wf.MachineClientSecret)
	env.WriteConfig(t, fmt.Sprintf(`
[profiles.dev]
issuer = %q
grant = "refresh_token"
client_id = %q
client_auth = "none"

[profiles.dev-id]
issuer = %[1]q
grant = "refresh_token"
client_id = %[2]q
client_auth = "none"
use = "id_token"

[profiles.machine]
issuer = %[1]q
grant = "client_credentials"
client_id = %[3]q
client_secret = "env:WF_SECRET"
`, wf.URL, wf.DeveloperClientID, wf.MachineClientID))

	// Developer access: the refresh token from "My Tokens", checked at import.
	login(t, env, "dev", wf.IssueRefreshToken()+"\n", "--refresh-token-stdin")
	dev := mustToken(t, env, "dev")
	if !wf.Valid(dev.AccessToken) {
		t.Error("developer access token rejected by the API")
	}
	assertCached(t, env, wf, "dev", dev)
	login(t, env, "dev-id", wf.IssueRefreshToken()+"\n", "--refresh-token-stdin")
	if id := mustToken(t, env, "dev-id"); id.AccessToken == dev.AccessToken || !wf.Valid(id.AccessToken) {
		t.Error("use = id_token did not hand out a valid id_token")
	}
	// A wrong refresh token fails at import, not at first use, and stores nothing.
	_, stderr, code := run(t, env, "not-a-token\n", "login", "dev", "--refresh-token-stdin")
	if code == 0 || !strings.Contains(stderr, "rejected") || !strings.Contains(stderr, "--refresh-token-stdin") {
		t.Errorf("bad import: exit %d, %q", code, stderr)
	}
	if again := mustToken(t, env, "dev"); again.AccessToken != dev.AccessToken {
		t.Error("a rejected import replaced the working login")
	}

	// Machine access: client credentials with Basic auth.
	m := mustToken(t, env, "machine")
	if !wf.Valid(m.AccessToken) {
		t.Error("machine access token rejected by the API")
	}
	assertCached(t, env, wf, "machine", m)
}

func TestShopware(t *testing.T) {
	sw := start(t, testprovider.StartShopware)
	env := newEnv(t)
	env.Set("SW_SECRET", sw.ClientSecret)
	env.WriteConfig(t, fmt.Sprintf(`
[profiles.admin]
token_url = %q
grant = "password"
client_id = "administration"
username = %q
token_request = "json"
scopes = ["write"]
scope_param = "scopes"

[profiles.integration]
token_url = %[1]q
grant = "client_credentials"
client_id = %[3]q
client_secret = "env:SW_SECRET"
client_auth = "post"
token_request = "json"
`, sw.TokenURL, sw.Username, sw.ClientID))

	login(t, env, "admin", sw.Password+"\n", "--password-stdin")
	first := mustToken(t, env, "admin")
	if !sw.Valid(first.AccessToken) {
		t.Error("admin token rejected")
	}
	// The refresh token rotates on every use: two forced refreshes in a row
	// only work if each rotated token was saved.
	for i := range 2 {
		tok := mustToken(t, env, "admin", "--force-refresh")
		if tok.AccessToken == first.AccessToken || !sw.Valid(tok.AccessToken) {
			t.Errorf("refresh %d: got a stale or invalid token", i)
		}
	}
	if sw.ReuseDetections() != 0 {
		t.Errorf("got %d refresh token reuses, want 0", sw.ReuseDetections())
	}
	_, stderr, code := run(t, env, "wrong\n", "login", "admin", "--password-stdin")
	if code == 0 || !strings.Contains(stderr, "token endpoint") {
		t.Errorf("wrong password: exit %d, %q", code, stderr)
	}

	in := mustToken(t, env, "integration")
	if !sw.Valid(in.AccessToken) {
		t.Error("integration token rejected")
	}
	assertCached(t, env, sw, "integration", in)
}

// whiplashEnv starts the Whiplash emulator and writes its profile, as the
// README shows it.
func whiplashEnv(t *testing.T) (*testprovider.Whiplash, *testbin.Env) {
	t.Helper()
	wl := start(t, testprovider.StartWhiplash)
	env := newEnv(t)
	env.Set("WL_SECRET", wl.ClientSecret)
	env.WriteConfig(t, fmt.Sprintf(`
[profiles.whiplash]
auth_url = %q
token_url = %q
grant = "authorization_code"
client_id = %q
client_secret = "env:WL_SECRET"
client_auth = "post"
redirect_uri = %q
scopes = ["user_manage"]
`, wl.AuthURL, wl.TokenURL, wl.ClientID, wl.CallbackURL))
	return wl, env
}

func TestWhiplash(t *testing.T) {
	wl, env := whiplashEnv(t)

	login(t, env, "whiplash", wl.IssueRefreshToken()+"\n", "--refresh-token-stdin")
	tok := mustToken(t, env, "whiplash")
	if !wl.Valid(tok.AccessToken) {
		t.Error("token rejected")
	}
	for range 3 {
		if next := mustToken(t, env, "whiplash", "--force-refresh"); !wl.Valid(next.AccessToken) {
			t.Error("refreshed token rejected")
		}
	}
	if wl.ReuseDetections() != 0 {
		t.Fatalf("got %d reuse detections, want 0", wl.ReuseDetections())
	}
	// Someone else uses the family (the server revokes it): lanyard says to
	// log in again and names the command.
}

func TestWhiplashInvalidGrant(t *testing.T) {
	wl, env := whiplashEnv(t)
	rt := wl.IssueRefreshToken()
	login(t, env, "whiplash", rt+"\n", "--refresh-token-stdin")
	// Reusing the imported (now rotated) token revokes the whole family.
	req, _ := http.NewRequest(http.MethodPost, wl.TokenURL, strings.NewReader("grant_type=refresh_token&refresh_token="+rt+"&client_id="+wl.ClientID+"&client_secret="+wl.ClientSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	_, stderr, code := run(t, env, "", "token", "whiplash", "--force-refresh")
	if code != exitLoginRequired || !strings.Contains(stderr, "invalid_grant") || !strings.Contains(stderr, "run: lanyard login whiplash") {
		t.Errorf("got exit %d, %q; want exit 3 naming invalid_grant and the login command", code, stderr)
	}
}

func TestWhisk(t *testing.T) {
	wk := start(t, testprovider.StartWhisk)
	env := newEnv(t)
	env.Set("WK_SECRET", wk.ClientSecret)
	env.WriteConfig(t, fmt.Sprintf(`
[profiles.whisk]
auth_url = %q
token_url = %q
grant = "authorization_code"
client_id = %q
client_secret = "env:WK_SECRET"
client_auth = "post"
token_request = "multipart"
redirect_uri = %q
scopes = ["recipe:read", "offline_access"]
scope_separator = ","
`, wk.AuthURL, wk.TokenURL, wk.ClientID, wk.RedirectURI))
	login(t, env, "whisk", wk.IssueRefreshToken()+"\n", "--refresh-token-stdin")
	tok := mustToken(t, env, "whisk")
	if !wk.Valid(tok.AccessToken) {
		t.Error("token rejected")
	}
	assertCached(t, env, wk, "whisk", tok)
	out, _, _ := run(t, env, "", "status", "--json")
	if !strings.Contains(out, `"has_refresh_token": true`) {
		t.Errorf("status: %s", out)
	}
}

func TestOPDiscoveryClientCredentials(t *testing.T) {
	op := start(t, func() (*testprovider.OP, error) { return testprovider.StartOP(testprovider.OPOptions{}) })
	env := newEnv(t)
	env.WriteConfig(t, fmt.Sprintf(`
[profiles.op]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = "keyring"
scopes = ["openid"]
`, op.Issuer, op.ConfidentialClientID))
	if _, stderr, code := run(t, env, op.ConfidentialClientSecret+"\n", "secret", "set", "op", "client_secret"); code != 0 {
		t.Fatalf("secret set: %s", stderr)
	}
	tok := mustToken(t, env, "op")
	if !op.Valid(tok.AccessToken) {
		t.Error("token rejected by the OP")
	}
	assertCached(t, env, op, "op", tok)
	for format, want := range map[string]string{
		"raw":    tok.AccessToken + "\n",
		"header": "Authorization: Bearer " + tok.AccessToken + "\n",
		"env":    "LANYARD_TOKEN=" + tok.AccessToken + "\n",
	} {
		if out, _, _ := run(t, env, "", "token", "op", "--format", format); out != want {
			t.Errorf("--format %s: got %q", format, out)
		}
	}
	out, stderr, code := run(t, env, "", "exec", "op", "--", "sh", "-c", `test "$LANYARD_TOKEN" = "`+tok.AccessToken+`" && echo same`)
	if code != 0 || out != "same\n" {
		t.Errorf("exec: exit %d %q %q", code, out, stderr)
	}
	if _, _, code := run(t, env, "", "exec", "op", "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exec exit status: got %d, want 7", code)
	}
	if out, stderr, code := run(t, env, "", "doctor"); code != 0 || !strings.Contains(out, "ok    profile op") {
		t.Errorf("doctor: exit %d: %s %s", code, out, stderr)
	}
	if out, _, _ := run(t, env, "", "status", "op"); !regexp.MustCompile(`(?m)^op +client_credentials +expires in \d+m(\d+s)? +no +-$`).MatchString(out) {
		t.Errorf("status: %q", out)
	}
	if _, _, code := run(t, env, "", "logout", "op"); code != 0 {
		t.Fatal("logout failed")
	}
	if out, _, _ := run(t, env, "", "status", "op"); !strings.Contains(out, "none; fetched on first use") {
		t.Errorf("status after logout: %q", out)
	}
}

func TestBadInput(t *testing.T) {
	fault := start(t, testprovider.StartFault)
	env := newEnv(t)
	env.Set("LANYARD_HTTP_TIMEOUT", "500ms")
	cfg := fmt.Sprintf("[profiles.p]\ngrant = \"refresh_token\"\ntoken_url = %q\nclient_id = \"c\"\n", fault.TokenURL)
	env.WriteConfig(t, cfg)
	login(t, env, "p", "rt-imported\n", "--refresh-token-stdin") // fault answers with fault-rt-1
	stored := "fault-rt-1"

	tests := []struct {
		name string
		step testprovider.FaultStep
		want string
	}{
		{"html 502", testprovider.FaultStep{Status: 502, Body: "<html><body>Bad Gateway</body></html>"}, `HTTP 502: "<html><body>Bad Gateway</body></html>"`},
		{"truncated json", testprovider.FaultStep{Body: `{"access_token":"x","exp`}, "not valid JSON"},
		{"missing access_token", testprovider.FaultStep{Body: `{"token_type":"Bearer"}`}, "no access_token"},
		{"expires_in words", testprovider.FaultStep{Body: `{"access_token":"x","expires_in":"one hour"}`}, "expires_in"},
		{"timeout", testprovider.FaultStep{Delay: 2 * time.Second}, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := []testprovider.FaultStep{tt.step}
			if tt.step.Status >= 500 || tt.step.Delay > 0 {
				steps = []testprovider.FaultStep{tt.step, tt.step, tt.step} // retried
			}
			fault.SetScript(steps)
			_, stderr, code := run(t, env, "", "token", "p", "--force-refresh")
			if code != exitError || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("got exit %d, %q; want exit 1 and one line containing %q", code, stderr, tt.want)
			}
			fault.SetScript(nil)
			bodies := fault.Bodies()
			if last := bodies[len(bodies)-1]; !strings.Contains(last, "refresh_token="+stored) {
				t.Errorf("the request after the failure did not use the stored refresh token: %q", last)
			}
		})
	}
	// The refresh token survived every failure: a normal refresh works.
	fault.SetScript(nil)
	if _, stderr, code := run(t, env, "", "token", "p", "--force-refresh"); code != 0 {
		t.Fatalf("refresh after failures: %s", stderr)
	}

	t.Run("wrong passphrase", func(t *testing.T) {
		// A running agent was unlocked once and never asks again: the
		// in-process path is the one that reads the passphrase.
		env.Set("LANYARD_KEYRING_PASSPHRASE", "nope")
		defer env.Set("LANYARD_AGENT", env.Getenv("LANYARD_AGENT"))
		env.Set("LANYARD_AGENT", "off")
		defer env.Set("LANYARD_KEYRING_PASSPHRASE", env.Passphrase)
		_, stderr, code := run(t, env, "", "token", "p")
		if code != exitError || !strings.Contains(stderr, "wrong passphrase") {
			t.Errorf("got exit %d, %q", code, stderr)
		}
	})
	t.Run("unknown profile", func(t *testing.T) {
		_, stderr, code := run(t, env, "", "token", "q")
		if code != exitUsage || !strings.Contains(stderr, `profile "q" not found`) || !strings.Contains(stderr, "known profiles: p") {
			t.Errorf("got exit %d, %q", code, stderr)
		}
	})
	t.Run("malformed config", func(t *testing.T) {
		env.WriteConfig(t, cfg+"scope = \"x\"\n")
		defer env.WriteConfig(t, cfg)
		before := fault.Requests()
		_, stderr, code := run(t, env, "", "token", "p")
		if code != exitUsage || !strings.Contains(stderr, env.ConfigPath+":5: profiles.p.scope: unknown key") || fault.Requests() != before {
			t.Errorf("got exit %d, %q (network calls: %d)", code, stderr, fault.Requests()-before)
		}
	})
	t.Run("LANYARD_DEBUG=on", func(t *testing.T) {
		env.Set("LANYARD_DEBUG", "on")
		defer env.Set("LANYARD_DEBUG", "")
		if out, stderr, code := run(t, env, "", "version"); code != 0 || !strings.HasPrefix(out, "lanyard ") {
			t.Errorf("version with LANYARD_DEBUG=on: exit %d, %q %q", code, out, stderr)
		}
	})
	t.Run("help touches nothing", func(t *testing.T) {
		env.Set("LANYARD_KEYRING_BACKEND", "no-such-backend")
		defer env.Set("LANYARD_KEYRING_BACKEND", "file")
		if out, _, code := run(t, env, "", "token", "--help"); code != 0 || !strings.Contains(out, "--min-ttl") {
			t.Errorf("help: exit %d", code)
		}
	})
}
