package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// hygieneServer is an OpenID-style provider whose every secret carries one
// random tag: client secrets and the password are checked, access and
// refresh tokens are issued with it. Finding the tag anywhere on disk or in
// a log means a secret leaked.
type hygieneServer struct {
	*httptest.Server
	tag                    string
	clientSecret, password string

	mu sync.Mutex
	n  int
	rt map[string]bool
}

func newHygieneServer(t *testing.T, tag string) *hygieneServer {
	s := &hygieneServer{tag: tag, clientSecret: "hyg-cs-" + tag, password: "hyg-pw-" + tag, rt: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *hygieneServer) importable() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	rt := fmt.Sprintf("hyg-rt-%s-%d", s.tag, s.n)
	s.rt[rt] = true
	return rt
}

func (s *hygieneServer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"revocation_endpoint":%q}`, s.URL, s.URL+"/token", s.URL+"/revoke")
		return
	case "/revoke":
		return
	case "/token":
	default:
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	fail := func(status int, code string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"error_description":"rejected"}`, code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	withRT := true
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		if _, secret, _ := r.BasicAuth(); secret != s.clientSecret && r.PostForm.Get("client_secret") != s.clientSecret {
			fail(http.StatusUnauthorized, "invalid_client")
			return
		}
		withRT = false
	case "password":
		if r.PostForm.Get("username") != "alice" || r.PostForm.Get("password") != s.password {
			fail(http.StatusBadRequest, "invalid_grant")
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !s.rt[rt] {
			fail(http.StatusBadRequest, "invalid_grant")
			return
		}
		delete(s.rt, rt)
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	s.n++
	at := fmt.Sprintf("hyg-at-%s-%d", s.tag, s.n)
	if !withRT {
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, at)
		return
	}
	rt := fmt.Sprintf("hyg-rt-%s-%d", s.tag, s.n)
	s.rt[rt] = true
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600,"refresh_token":%q}`, at, rt)
}

// TestSecretHygiene runs the lanyard CLI and every helper binary with
// --debug through client_credentials (secret from a cmd: command, from the
// keyring and from the environment), password, refresh token import,
// rotation, a rejected client, git/docker/kubectl requests, exec, status,
// logout --revoke, and the environments of the processes lanyard starts
// (cmd: secrets, exec). LANYARD_HYGIENE_DUMP=1 logs what was checked. Then no secret may appear in clear anywhere under the
// temporary HOME (profiles file, state dir, lock files, discovery cache,
// keyring files) nor in any stderr, nor in the arguments of any process
// lanyard starts.
func TestSecretHygiene(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tag := hex.EncodeToString(b)
	srv := newHygieneServer(t, tag)

	helpers := []string{"lanyard"}
	for _, h := range []string{"git-credential-lanyard", "docker-credential-lanyard", "kubectl-lanyard"} {
		if _, err := os.Stat(filepath.Join(testbin.Root(t), "cmd", h)); err == nil {
			helpers = append(helpers, h)
		}
	}
	bin := testbin.Build(t, helpers...)
	env := testbin.NewEnv(t, bin)
	env.Set("LANYARD_DEBUG", "1")
	env.Set("HYG_SECRET", srv.clientSecret)
	env.Set("HYG_WRONG", "hyg-wrong-"+tag)
	passphrase := "hyg-pp-" + tag
	env.Set("LANYARD_KEYRING_PASSPHRASE", passphrase)

	// The cmd: secret: a script outside HOME that records the command lines
	// of itself and its ancestors (sh -c, lanyard) and its environment,
	// then prints the secret.
	outside := t.TempDir()
	secretFile := filepath.Join(outside, "secret")
	argvLog := filepath.Join(outside, "argv.log")
	cmdEnvLog := filepath.Join(outside, "cmd-env.log")
	script := filepath.Join(outside, "secret.sh")
	writeFile(t, secretFile, srv.clientSecret+"\n")
	writeFile(t, script, fmt.Sprintf(`p=$$
for i in 1 2 3; do tr '\0' ' ' < /proc/$p/cmdline; echo; p=$(awk '{print $4}' /proc/$p/stat); done >> %q
env >> %q
cat %q
`, argvLog, cmdEnvLog, secretFile))

	env.WriteConfig(t, fmt.Sprintf(`
[profiles.cc]
issuer = %[1]q
grant = "client_credentials"
client_id = "hyg-client"
client_secret = "cmd:sh %[2]s"
match = ["https://git.hyg.test/", "https://registry.hyg.test"]

[profiles.ks]
token_url = "%[1]s/token"
grant = "client_credentials"
client_id = "hyg-client"
client_secret = "keyring"
client_auth = "post"

[profiles.pw]
token_url = "%[1]s/token"
grant = "password"
client_id = "hyg-public"
username = "alice"

[profiles.rt]
issuer = %[1]q
grant = "refresh_token"
client_id = "hyg-client"
client_secret = "env:HYG_SECRET"
client_auth = "post"

[profiles.bad]
token_url = "%[1]s/token"
grant = "client_credentials"
client_id = "hyg-client"
client_secret = "env:HYG_WRONG"
`, srv.URL, script))

	var logs bytes.Buffer // every stderr, and stdout that is not a token protocol
	run := func(wantOK, protocolStdout bool, stdin string, extraEnv []string, name string, args ...string) string {
		t.Helper()
		cmd := env.Command(name, args...)
		cmd.Env = append(cmd.Env, extraEnv...)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		fmt.Fprintf(&logs, "$ %s %s\n%s", name, strings.Join(args, " "), stderr.String())
		if !protocolStdout {
			logs.Write(stdout.Bytes())
		}
		if (err == nil) != wantOK {
			t.Errorf("%s %s: %v (want success %v)\nstderr: %s", name, strings.Join(args, " "), err, wantOK, stderr.String())
		}
		return stdout.String()
	}
	lanyard := func(wantOK, protocol bool, stdin string, args ...string) string {
		t.Helper()
		return run(wantOK, protocol, stdin, nil, "lanyard", append([]string{"--debug"}, args...)...)
	}

	at := lanyard(true, true, "", "token", "cc")
	lanyard(true, true, "", "token", "cc")
	lanyard(true, true, "", "token", "cc", "--force-refresh", "--format", "json")
	lanyard(true, false, srv.clientSecret+"\n", "secret", "set", "ks", "client_secret")
	lanyard(true, true, "", "token", "ks", "--format", "header")
	lanyard(true, false, srv.password+"\n", "login", "pw", "--password-stdin")
	lanyard(true, true, "", "token", "pw", "--force-refresh", "--format", "env")
	lanyard(false, false, "hyg-pw-wrong-"+tag+"\n", "login", "pw", "--password-stdin")
	lanyard(true, false, srv.importable()+"\n", "login", "rt", "--refresh-token-stdin")
	lanyard(true, true, "", "token", "rt", "--force-refresh")
	lanyard(false, false, "hyg-rt-unknown-"+tag+"\n", "login", "rt", "--refresh-token-stdin")
	lanyard(false, false, "", "token", "bad")
	lanyard(true, false, "", "status")
	lanyard(true, false, "", "profiles")
	execArgv := filepath.Join(outside, "exec-argv")
	execEnv := filepath.Join(outside, "exec-env")
	lanyard(true, false, "", "exec", "rt", "--", "sh", "-c", `test -n "$LANYARD_TOKEN" && tr '\0' ' ' < /proc/$$/cmdline > "$0" && env > "$1"`, execArgv, execEnv)

	has := func(h string) bool { return strings.Contains(strings.Join(helpers, " "), h) }
	if has("git-credential-lanyard") {
		run(true, true, "protocol=https\nhost=git.hyg.test\n\n", nil, "git-credential-lanyard", "get")
		run(true, true, "protocol=https\nhost=git.hyg.test\nusername=oauth2\npassword="+strings.TrimSpace(at)+"\n\n", nil, "git-credential-lanyard", "erase")
		run(true, true, "protocol=https\nhost=git.hyg.test\n\n", nil, "git-credential-lanyard", "--debug", "get")
	}
	if has("docker-credential-lanyard") {
		run(true, true, "https://registry.hyg.test\n", nil, "docker-credential-lanyard", "get")
	}
	if has("kubectl-lanyard") {
		info := []string{`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`}
		run(true, true, "", info, "kubectl-lanyard", "get-token", "--profile", "cc", "--debug")
	}
	lanyard(true, false, "", "logout", "rt", "--revoke")
	lanyard(true, false, "", "logout", "pw")

	// The cmd: secret ran through sh -c, and no command line carried a secret.
	argv, err := os.ReadFile(argvLog)
	if err != nil {
		t.Fatalf("the cmd: secret command did not run: %v", err)
	}
	if !strings.Contains(string(argv), "/bin/sh -c sh "+script) || !strings.Contains(string(argv), "lanyard") {
		t.Errorf("cmd: secret not run as /bin/sh -c COMMAND under lanyard; command lines seen:\n%s", argv)
	}
	if ea, err := os.ReadFile(execArgv); err != nil || strings.Contains(string(ea), tag) {
		t.Errorf("lanyard exec: child arguments %q (%v) must not carry the token", ea, err)
	}
	if strings.Contains(string(argv), tag) {
		t.Errorf("a secret appeared in a command line:\n%s", argv)
	}
	// Child environments: the cmd: command sees neither the passphrase nor
	// the env: secrets of other profiles (rt's HYG_SECRET, bad's
	// HYG_WRONG); exec's command (the user's own) never the passphrase.
	if ce, err := os.ReadFile(cmdEnvLog); err != nil || leak(ce, tag) || !strings.Contains(string(ce), "PATH=") {
		t.Errorf("cmd: secret command environment (%v): want PATH and no secret:\n%s", err, ce)
	}
	if ee, err := os.ReadFile(execEnv); err != nil || strings.Contains(string(ee), passphrase) || !strings.Contains(string(ee), "LANYARD_TOKEN=") {
		t.Errorf("lanyard exec: child environment (%v) must carry LANYARD_TOKEN and not the keyring passphrase:\n%s", err, ee)
	}

	// Nothing in clear on disk under HOME, nor in any log.
	checked := 0
	err = filepath.WalkDir(env.Home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		if leak(data, tag) {
			rel, _ := filepath.Rel(env.Home, path)
			t.Errorf("secret in clear in %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"state/lanyard/locks", "state/lanyard/discovery", "share/lanyard/keyring"} {
		if m, _ := filepath.Glob(filepath.Join(env.Home, ".local", dir, "*")); len(m) == 0 {
			t.Errorf("nothing under ~/.local/%s: the runs did not exercise it", dir)
		}
	}
	if leak(logs.Bytes(), tag) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if leak([]byte(line), tag) {
				t.Errorf("secret in a log: %s", line)
			}
		}
	}
	if !strings.Contains(logs.String(), "level=DEBUG") {
		t.Error("no --debug output was captured")
	}
	if os.Getenv("LANYARD_HYGIENE_DUMP") != "" {
		t.Log(logs.String())
	}
	t.Logf("%d files under HOME and %d bytes of stderr/--debug output checked, %d binaries", checked, logs.Len(), len(helpers))
}

// leak reports whether data holds the tag in clear, or base64 encoded as
// in a Basic header (three alignments).
func leak(data []byte, tag string) bool {
	if bytes.Contains(data, []byte(tag)) {
		return true
	}
	for i := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", i) + tag))
		if bytes.Contains(data, []byte(enc[4:len(enc)-4])) {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
