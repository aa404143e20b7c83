package keyringe2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/keyringenv"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// machine is one throw-away user environment with one keyring backend.
type machine struct {
	t       *testing.T
	backend string
	env     *testbin.Env
	// as prefixes every command: setpriv to the unprivileged user, or nil.
	as []string
	// item reads a lanyard item with the backend's own tool (secret-tool,
	// pass, keyctl, the file system): its data, and whether it exists.
	item func(key string) ([]byte, bool)
	// endSession ends the D-Bus session of secret-service machines.
	endSession func()
}

func newMachine(t *testing.T, backend string) *machine {
	t.Helper()
	bin := testbin.Build(t, "lanyard", "git-credential-lanyard")
	env := testbin.NewEnv(t, bin)
	env.Set("LANYARD_KEYRING_BACKEND", backend)
	env.Set("GIT_TERMINAL_PROMPT", "0")
	env.Set("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_AUTHOR", "GIT_COMMITTER"} {
		env.Set(k+"_NAME", "E2E")
		env.Set(k+"_EMAIL", "e2e@lanyard.test")
	}
	if backend != "file" {
		env.Set("LANYARD_KEYRING_PASSPHRASE", "") // not used: no file backend
	}
	return &machine{t: t, backend: backend, env: env}
}

// command runs name (a lanyard binary, else from PATH) in the machine.
func (m *machine) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := name
	if p := filepath.Join(m.env.Bin, name); fileExists(p) {
		path = p
	}
	argv := append(append(append([]string(nil), m.as...), path), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = m.env.Vars()
	cmd.Dir = m.env.Home
	return cmd
}

// run runs a command with stdin and returns its stdout; stderr goes into
// the error.
func (m *machine) run(dir, stdin, name string, args ...string) (string, error) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := m.command(ctx, name, args...)
	if dir != "" {
		cmd.Dir = dir
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func (m *machine) must(dir, stdin, name string, args ...string) string {
	m.t.Helper()
	out, err := m.run(dir, stdin, name, args...)
	if err != nil {
		m.t.Fatal(err)
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// itemData decodes the JSON that 99designs/keyring stores in pass and
// secret-service.
func itemData(raw []byte) []byte {
	var it struct{ Data []byte }
	if json.Unmarshal(raw, &it) != nil {
		return nil
	}
	return it.Data
}

func fileMachine(t *testing.T) *machine {
	m := newMachine(t, "file")
	dir := filepath.Join(m.env.Getenv("XDG_DATA_HOME"), "lanyard", "keyring")
	m.item = func(key string) ([]byte, bool) {
		b, err := os.ReadFile(filepath.Join(dir, key))
		return b, err == nil
	}
	return m
}

// secretServiceMachine runs gnome-keyring in a D-Bus session of its own,
// its login keyring made and unlocked with a password on stdin.
func secretServiceMachine(t *testing.T) *machine {
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "secret-tool"} {
		testbin.NeedTool(t, tool)
	}
	m := newMachine(t, "secret-service")
	runtime := filepath.Join(m.env.Home, "run")
	if err := os.Mkdir(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	m.env.Set("XDG_RUNTIME_DIR", runtime)
	m.endSession = m.session(true)
	m.item = func(key string) ([]byte, bool) {
		out, err := m.run("", "", "secret-tool", "lookup", "profile", key)
		return itemData([]byte(out)), err == nil && out != ""
	}
	return m
}

// session starts a D-Bus session with gnome-keyring in it (see
// keyringenv.StartSecretService) and returns what ends it. Commands of m
// then run in it.
func (m *machine) session(unlock bool) (end func()) {
	s, err := keyringenv.StartSecretService(m.env.Vars(), m.env.Home, unlock)
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(s.Close)
	m.env.Set("DBUS_SESSION_BUS_ADDRESS", s.Addr)
	return s.Close
}

// passMachine makes a gpg key without passphrase in a GNUPGHOME of its own
// and a password store for it.
func passMachine(t *testing.T) *machine {
	for _, tool := range []string{"pass", "gpg", "gpgconf"} {
		testbin.NeedTool(t, tool)
	}
	m := newMachine(t, "pass")
	gnupg := filepath.Join(m.env.Home, "gnupg")
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	m.env.Set("GNUPGHOME", gnupg)
	m.env.Set("PASSWORD_STORE_DIR", filepath.Join(m.env.Home, "password-store"))
	stop, err := keyringenv.InitPass(m.env.Vars(), m.env.Home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	m.item = func(key string) ([]byte, bool) {
		out, err := m.run("", "", "pass", "show", "lanyard/"+key)
		return itemData([]byte(out)), err == nil
	}
	return m
}

// keyctlMachine runs lanyard as an unprivileged user, so that the kernel's
// per-user key quota (20,000 bytes by default; root has 25 MB) applies as
// it does to everyone but root.
func keyctlMachine(t *testing.T) *machine {
	testbin.NeedTool(t, "keyctl")
	u := testbin.NeedOtherUser(t, "runs lanyard in a throw-away keyring (never your own)")
	m := newMachine(t, "keyctl")
	// The throw-away user cannot use (nor should it) the test runner's
	// agent socket directory; it answers in-process.
	m.env.Set("LANYARD_AGENT", "off")
	m.as = u.As
	uid, gid := u.UID, u.GID
	// The user reaches the binaries and owns its HOME.
	for _, dir := range []string{m.env.Bin, filepath.Dir(m.env.Home)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.Walk(m.env.Home, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The throw-away user's keys are this test's alone.
	m.must("", "", "keyctl", "clear", "@u")
	t.Cleanup(func() { _, _ = m.run("", "", "keyctl", "clear", "@u") })
	m.item = func(key string) ([]byte, bool) {
		id, err := m.run("", "", "keyctl", "search", "@u", "user", key)
		if err != nil {
			return nil, false
		}
		out, err := m.run("", "", "keyctl", "pipe", strings.TrimSpace(id))
		return []byte(out), err == nil
	}
	return m
}

// keyBytes is how many bytes of keys uid holds (/proc/key-users).
func keyBytes(t *testing.T, uid string) string {
	b, err := os.ReadFile("/proc/key-users")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == uid+":" {
			return f[4]
		}
	}
	return "?"
}

// gitServer serves bare repositories under root through git http-backend
// to requests whose Basic password passes check.
func gitServer(t *testing.T, root string, check func(pass string) bool) string {
	gitBin := testbin.NeedTool(t, "git")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || !check(pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="lanyard e2e"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		(&cgi.Handler{Path: gitBin, Args: []string{"http-backend"}, Root: "/", Env: []string{
			"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user, "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root,
		}}).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// stateSize is the size of the token states the provider issues: JWT
// access and ID tokens with many group claims, as Entra ID sends them.
const stateSize = 16 << 10

var profiles = []string{"e2e-a", "e2e-b", "e2e-c"}

func TestBackends(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(*testing.T) *machine
	}{
		{"file", fileMachine},
		{"secret-service", secretServiceMachine},
		{"pass", passMachine},
		{"keyctl", keyctlMachine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exercise(t, tc.new(t))
		})
	}
}

// exercise runs what a user does, on m: store client secrets, log three
// profiles in with rotating refresh tokens and 16 KB token states,
// refresh, use git, log out; and checks the items from the keyring's side.
func exercise(t *testing.T, m *machine) {
	p, err := testprovider.StartBulky(stateSize)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	repos := t.TempDir()
	gitURL := gitServer(t, repos, p.Valid)
	if out, err := exec.Command("git", "init", "-q", "--bare", filepath.Join(repos, "repo.git")).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	var cfg strings.Builder
	for _, name := range profiles {
		fmt.Fprintf(&cfg, "[profiles.%s]\ngrant = \"refresh_token\"\ntoken_url = %q\nclient_id = %q\nclient_secret = \"keyring\"\n", name, p.TokenURL, p.ClientID)
		if name == profiles[0] {
			fmt.Fprintf(&cfg, "match = [%q]\n", gitURL+"/")
		}
	}
	m.env.WriteConfig(t, cfg.String())
	if m.as != nil {
		m.must("", "", "true") // setpriv works
		if err := os.Chown(m.env.ConfigPath, mustAtoi(t, m.as[1]), mustAtoi(t, m.as[2])); err != nil {
			t.Fatal(err)
		}
	}

	for _, name := range profiles {
		m.must("", p.ClientSecret+"\n", "lanyard", "secret", "set", name)
		m.must("", p.IssueRefreshToken(name)+"\n", "lanyard", "login", name, "--refresh-token-stdin")
	}
	// Each state is sealed beside the keyring, which holds a small key.
	for _, name := range profiles {
		data, ok := m.item("token:" + name)
		if !ok {
			t.Fatalf("%s: no token item in the %s keyring", name, m.backend)
		}
		if m.backend != "file" && (!strings.HasPrefix(string(data), "lanyard-sealed-v1:") || len(data) > 100) {
			t.Fatalf("%s: the keyring item is %d bytes, want a seal key", name, len(data))
		}
		if sec, ok := m.item("secret:" + name + ":client_secret"); !ok || (m.backend != "file" && string(sec) != p.ClientSecret) {
			t.Fatalf("%s: client secret not in the keyring as stored (%q, %v)", name, sec, ok)
		}
	}

	// Refreshes: every call wants more life than a 30-minute token has.
	for _, name := range profiles {
		var tok string
		for range 2 {
			tok = strings.TrimSpace(m.must("", "", "lanyard", "token", name, "--min-ttl", "45m"))
			if !p.Valid(tok) || len(tok) < stateSize/3 {
				t.Fatalf("%s: token of %d bytes, valid %v", name, len(tok), p.Valid(tok))
			}
		}
		if hit := strings.TrimSpace(m.must("", "", "lanyard", "token", name)); hit != tok {
			t.Fatalf("%s: the cache hit returned another token", name)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(m.env.Getenv("XDG_DATA_HOME"), "lanyard", "tokens", "*.token")); m.backend != "file" {
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && fi.Size() < stateSize {
				t.Errorf("sealed state %s is %d bytes, want a %d-byte state", f, fi.Size(), stateSize)
			}
		}
		if len(files) != len(profiles) {
			t.Errorf("%d sealed states, want %d", len(files), len(profiles))
		}
	}
	if m.as != nil {
		t.Logf("keyctl: the user's keys take %s bytes", keyBytes(t, strings.TrimPrefix(m.as[1], "--reuid=")))
	}

	// doctor names the backend, its state, its limit and a read time.
	doctor := m.must("", "", "lanyard", "doctor")
	if !strings.Contains(doctor, "ok    keyring "+m.backend) || !strings.Contains(doctor, "one read:") {
		t.Errorf("doctor:\n%s", doctor)
	}
	// ...and whether it is locked: the unlocked secret-service says so (a
	// locked one fails, TestDoctorLockedSecretService), the others say
	// what stands for a lock.
	if want := map[string]string{"secret-service": "secret-service, unlocked", "keyctl": "keyctl, no lock", "pass": "pass, locked by gpg", "file": "file, encrypted"}[m.backend]; !strings.Contains(doctor, want) {
		t.Errorf("doctor does not say %q:\n%s", want, doctor)
	}
	t.Logf("doctor: %s", firstLine(doctor, "keyring "+m.backend))

	// git clones, pushes, and fetches after the server revoked every
	// access token (401, erase, refresh).
	work := filepath.Join(m.env.Home, "work")
	git := func(dir string, args ...string) string {
		return m.must(dir, "", "git", append([]string{"-c", "credential.helper=", "-c", "credential.helper=lanyard"}, args...)...)
	}
	git("", "clone", "-q", gitURL+"/repo.git", work)
	if err := os.WriteFile(filepath.Join(work, "README"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if m.as != nil {
		if err := os.Chown(filepath.Join(work, "README"), mustAtoi(t, m.as[1]), mustAtoi(t, m.as[2])); err != nil {
			t.Fatal(err)
		}
	}
	git(work, "add", "README")
	git(work, "commit", "-q", "-m", "first")
	git(work, "push", "-q", "origin", "HEAD")
	// git never retries a credential it used: the fetch after the revocation
	// fails and erases the token, the next one gets a fresh one.
	p.RevokeAllAccessTokens()
	if _, err := m.run(work, "", "git", "-c", "credential.helper=", "-c", "credential.helper=lanyard", "fetch", "-q"); err == nil {
		t.Fatal("fetch with a revoked token succeeded")
	}
	git(work, "fetch", "-q")

	// Logout removes the key and the sealed state.
	m.must("", "", "lanyard", "logout", profiles[0])
	if _, ok := m.item("token:" + profiles[0]); ok {
		t.Errorf("the token item is still in the %s keyring after logout", m.backend)
	}
	_, err = m.run("", "", "lanyard", "token", profiles[0])
	if err == nil || !strings.Contains(err.Error(), "lanyard login "+profiles[0]) {
		t.Errorf("token after logout: %v, want login required", err)
	}
	if _, ok := m.item("secret:" + profiles[0] + ":client_secret"); !ok {
		t.Error("logout removed the client secret")
	}
	// After logout, a token call and secret rm, nothing of the profile is
	// left in the keyring (a token call used to make a new seal key).
	if _, ok := m.item("token:" + profiles[0]); ok {
		t.Errorf("a token call after logout left a token item in the %s keyring", m.backend)
	}
	m.must("", "", "lanyard", "secret", "rm", profiles[0], "client_secret")
	for _, key := range []string{"token:" + profiles[0], "secret:" + profiles[0] + ":client_secret"} {
		if _, ok := m.item(key); ok {
			t.Errorf("%s is still in the %s keyring after logout and secret rm", key, m.backend)
		}
	}
	if n := p.ReuseDetections(); n != 0 {
		t.Errorf("%d refresh tokens presented twice", n)
	}
}

func mustAtoi(t *testing.T, flag string) int {
	_, v, _ := strings.Cut(flag, "=")
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// firstLine returns the first line of s containing sub.
func firstLine(s, sub string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

// TestDoctorLockedSecretService: a login keyring left locked (a session
// where nobody unlocked it) gets advice to unlock it, not to store the
// client secret again.
func TestDoctorLockedSecretService(t *testing.T) {
	m := secretServiceMachine(t)
	m.env.WriteConfig(t, "[profiles.p]\ngrant = \"client_credentials\"\ntoken_url = \"http://127.0.0.1:9/token\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\n")
	m.must("", "s3cret\n", "lanyard", "secret", "set", "p")
	m.must("", "", "lanyard", "doctor")
	// A new session: gnome-keyring starts, nobody unlocks the keyring. (The
	// first session's daemon must be gone: a second one would hand over
	// to it through $XDG_RUNTIME_DIR/keyring/control.)
	m.endSession()
	m.session(false)
	out, err := m.run("", "", "lanyard", "doctor")
	if err == nil || !strings.Contains(out, "FAIL  keyring secret-service, locked") || !strings.Contains(out, "gnome-keyring-daemon --unlock") || strings.Contains(out, "lanyard secret set") {
		t.Fatalf("doctor on a locked keyring (%v):\n%s", err, out)
	}
}

// TestDoctorPassWithoutKey: pass with no gpg key says how to make one.
func TestDoctorPassWithoutKey(t *testing.T) {
	testbin.NeedTool(t, "pass")
	m := newMachine(t, "pass")
	m.env.Set("GNUPGHOME", filepath.Join(m.env.Home, "gnupg"))
	m.env.Set("PASSWORD_STORE_DIR", filepath.Join(m.env.Home, "password-store"))
	m.env.WriteConfig(t, "[profiles.p]\ngrant = \"client_credentials\"\ntoken_url = \"http://127.0.0.1:9/token\"\nclient_id = \"c\"\nclient_secret = \"keyring\"\n")
	_, err := m.run("", "s3cret\n", "lanyard", "secret", "set", "p")
	if err == nil || !strings.Contains(err.Error(), "pass init") {
		t.Errorf("secret set without a gpg key: %v", err)
	}
	out, err := m.run("", "", "lanyard", "doctor")
	if err == nil || !strings.Contains(out, "pass has no gpg key") || !strings.Contains(out, "LANYARD_KEYRING_BACKEND=file") {
		t.Errorf("doctor (%v):\n%s", err, out)
	}
}
