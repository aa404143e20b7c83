package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// initSession runs lanyard init with a pseudo-terminal as its controlling
// terminal (what /dev/tty opens) and its stdin; stdout and stderr are
// captured apart, so a test sees that nothing reached stdout.
type initSession struct {
	*testbin.Terminal
	cmd            *exec.Cmd
	stdout, stderr strings.Builder
}

func startInit(t *testing.T, env *testbin.Env, args ...string) *initSession {
	t.Helper()
	master, slave := testbin.OpenPTY(t)
	s := &initSession{Terminal: testbin.NewTerminal(master)}
	s.cmd = env.Command("lanyard", append([]string{"init"}, args...)...)
	s.cmd.Stdin = slave
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	return s
}

// wait returns the exit code.
func (s *initSession) wait(t *testing.T) int {
	t.Helper()
	err := s.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// TestInitGuided: a first profile against the in-repo OpenID provider,
// answered on a terminal: discovery shows the advertised grants and client
// authentication methods, the secret goes to the keyring (not the file), the
// first token is fetched, and the fitting setup line is printed.
func TestInitGuided(t *testing.T) {
	op := start(t, func() (*testprovider.OP, error) { return testprovider.StartOP(testprovider.OPOptions{}) })
	env := newEnv(t)
	s := startInit(t, env)
	s.Expect(t, "Issuer URL")
	s.Type(t, op.Issuer)
	shown := s.Expect(t, "Profile name [")
	for _, want := range []string{"token endpoint:  " + op.TokenURL, "grants:", "client_credentials", "client auth:", "client_secret_basic"} {
		if !strings.Contains(shown, want) {
			t.Errorf("discovery summary lacks %q:\n%s", want, shown)
		}
	}
	s.Type(t, "op")
	s.Expect(t, "Grant (")
	s.Type(t, "client_credentials")
	s.Expect(t, "Client ID: ")
	s.Type(t, op.ConfidentialClientID)
	s.Expect(t, "Client secret")
	s.Type(t, op.ConfidentialClientSecret)
	s.Expect(t, "Scopes")
	s.Type(t, "openid")
	s.Expect(t, "URLs this profile serves")
	s.Type(t, "https://git.acme.test/")
	if code := s.wait(t); code != 0 {
		t.Fatalf("init: exit %d: %s", code, s.stderr.String())
	}
	if s.stdout.Len() != 0 {
		t.Errorf("init wrote to stdout: %q", s.stdout.String())
	}
	for _, want := range []string{"got a token for op", "next: lanyard setup git --global op"} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, s.stderr.String())
		}
	}
	file, err := os.ReadFile(env.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[profiles.op]", `issuer = "` + op.Issuer + `"`, `client_secret = "keyring"`, `scopes = ["openid"]`, `match = ["https://git.acme.test/"]`, "# Written by lanyard init"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("profiles file lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(string(file), op.ConfidentialClientSecret) {
		t.Error("the client secret was written to the profiles file")
	}
	if tok := mustToken(t, env, "op"); !op.Valid(tok.AccessToken) {
		t.Error("the token lanyard init fetched is not accepted")
	}
}

// TestInitWithoutDiscovery: an issuer without a discovery document makes
// init ask for the token URL; flags answer the rest.
func TestInitWithoutDiscovery(t *testing.T) {
	op := start(t, func() (*testprovider.OP, error) { return testprovider.StartOP(testprovider.OPOptions{}) })
	env := newEnv(t)
	s := startInit(t, env, op.Issuer+"/no-such-issuer", "--name", "plain", "--grant", "client_credentials",
		"--client-id", op.ConfidentialClientID, "--scopes", "openid", "--match", "https://api.acme.test/")
	s.Expect(t, "No discovery document")
	s.Expect(t, "Token endpoint URL: ")
	s.Type(t, op.TokenURL)
	s.Expect(t, "Client secret")
	s.Type(t, op.ConfidentialClientSecret)
	if code := s.wait(t); code != 0 {
		t.Fatalf("init: exit %d: %s", code, s.stderr.String())
	}
	file, _ := os.ReadFile(env.ConfigPath)
	if !strings.Contains(string(file), `token_url = "`+op.TokenURL+`"`) || strings.Contains(string(file), "issuer =") {
		t.Errorf("profile without discovery:\n%s", file)
	}
	if tok := mustToken(t, env, "plain"); !op.Valid(tok.AccessToken) {
		t.Error("token rejected")
	}
}

// TestInitRefusesExistingName: init never changes a profile; it names the
// file and line to edit instead, and leaves the file as it was.
func TestInitRefusesExistingName(t *testing.T) {
	op := start(t, func() (*testprovider.OP, error) { return testprovider.StartOP(testprovider.OPOptions{}) })
	env := newEnv(t)
	const before = "# mine\n[profiles.op]\ntoken_url = \"https://login.acme.test/token\"\ngrant = \"client_credentials\"\nclient_id = \"x\"\n"
	env.WriteConfig(t, before)
	s := startInit(t, env, op.Issuer)
	s.Expect(t, "Profile name [")
	s.Type(t, "op")
	if code := s.wait(t); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if want := env.ConfigPath + `:2: profile "op" already exists`; !strings.Contains(s.stderr.String(), want) || !strings.Contains(s.stderr.String(), "edit it there") {
		t.Errorf("stderr %q, want %q and how to edit", s.stderr.String(), want)
	}
	if after, _ := os.ReadFile(env.ConfigPath); string(after) != before {
		t.Errorf("profiles file changed:\n%s", after)
	}
}

// TestInitNoInput: scripts pass everything as flags and the secret on stdin.
func TestInitNoInput(t *testing.T) {
	op := start(t, func() (*testprovider.OP, error) { return testprovider.StartOP(testprovider.OPOptions{}) })
	env := newEnv(t)
	out, stderr, code := run(t, env, op.ConfidentialClientSecret+"\n", "init", op.Issuer, "--no-input", "--name", "ci",
		"--client-id", op.ConfidentialClientID, "--client-secret-stdin", "--scopes", "openid")
	if code != 0 || out != "" {
		t.Fatalf("init --no-input: exit %d, stdout %q: %s", code, out, stderr)
	}
	if tok := mustToken(t, env, "ci"); !op.Valid(tok.AccessToken) {
		t.Error("token rejected")
	}
	// Without a terminal, a missing answer names the flag to pass.
	_, stderr, code = run(t, env, "", "init", op.Issuer, "--no-input", "--name", "ci2")
	if code == 0 || !strings.Contains(stderr, "Client ID") || !strings.Contains(stderr, "flag") {
		t.Errorf("missing client id: exit %d: %s", code, stderr)
	}
}

// TestInitDeviceWithoutDiscovery: a device-code profile for a provider
// without discovery names its device endpoint too; --no-login writes it only.
func TestInitDeviceWithoutDiscovery(t *testing.T) {
	op := start(t, func() (*testprovider.OP, error) { return testprovider.StartOP(testprovider.OPOptions{}) })
	env := newEnv(t)
	out, stderr, code := run(t, env, "", "init", op.Issuer+"/no-such-issuer", "--no-input", "--no-login", "--name", "dev",
		"--grant", "device_code", "--token-url", op.TokenURL, "--device-auth-url", op.DeviceAuthURL,
		"--client-id", op.PublicClientID, "--public-client")
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, stderr)
	}
	file, _ := os.ReadFile(env.ConfigPath)
	for _, want := range []string{`device_auth_url = "` + op.DeviceAuthURL + `"`, `grant = "device_code"`, `client_auth = "none"`} {
		if !strings.Contains(string(file), want) {
			t.Errorf("profile lacks %q:\n%s", want, file)
		}
	}
	if !strings.Contains(stderr, "next: ") {
		t.Errorf("no setup line: %s", stderr)
	}
}
