package docker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// program runs the built helper in the test's isolated environment; it is
// what docker-credential-helpers/client drives, as docker does.
type program struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

func (p *program) Input(in io.Reader) { p.cmd.Stdin = in }

func (p *program) Output() ([]byte, error) {
	p.cmd.Stderr = &p.stderr
	return p.cmd.Output()
}

func helperProgram(env *testbin.Env, bin string) client.ProgramFunc {
	return func(args ...string) client.Program {
		return &program{cmd: env.Command(filepath.Join(bin, Name), args...)}
	}
}

// authRegistry is an OCI registry (go-containerregistry's pkg/registry)
// behind HTTP Basic auth that takes only a valid access token of the test
// provider as password, as an OAuth-fronted registry does.
type authRegistry struct {
	*httptest.Server
	Host string // 127.0.0.1:PORT

	mu         sync.Mutex
	users      map[string]int // usernames of accepted requests
	authorized int
	rejected   int
}

func startRegistry(t *testing.T, valid func(string) bool) *authRegistry {
	t.Helper()
	r := &authRegistry{users: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, pass, ok := req.BasicAuth()
		r.mu.Lock()
		if !ok || !valid(pass) {
			r.rejected++
			r.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `Basic realm="lanyard test registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"a valid access token is required"}]}`, http.StatusUnauthorized)
			return
		}
		r.authorized++
		r.users[user]++
		r.mu.Unlock()
		reg.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	r.Host = strings.TrimPrefix(r.URL, "http://")
	return r
}

func (r *authRegistry) counts() (authorized, rejected int, users map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := map[string]int{}
	for k, v := range r.users {
		u[k] = v
	}
	return r.authorized, r.rejected, u
}

// e2e is one isolated setup: test provider, a registry it protects, and a
// profile that matches the registry.
type e2e struct {
	op  *testprovider.OP
	reg *authRegistry
	env *testbin.Env
	bin string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	bin := testbin.Build(t, "docker-credential-lanyard")
	op, err := testprovider.StartOP(testprovider.OPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	reg := startRegistry(t, op.Valid)
	env := testbin.NewEnv(t, bin)
	env.Set("LANYARD_TEST_CLIENT_SECRET", op.ConfidentialClientSecret)
	// The registry speaks plain http on loopback, so the profile says http.
	env.WriteConfig(t, fmt.Sprintf(`
[profiles.registry]
grant = "client_credentials"
issuer = %q
client_id = %q
client_secret = "env:LANYARD_TEST_CLIENT_SECRET"
match = ["http://%s/"]
`, op.Issuer, op.ConfidentialClientID, reg.Host))
	return &e2e{op: op, reg: reg, env: env, bin: bin}
}

// dockerConfig writes DOCKER_CONFIG/config.json and points the env at it.
func (e *e2e) dockerConfig(t *testing.T, cfg map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	e.env.Set("DOCKER_CONFIG", dir)
	return dir
}

// TestClientProtocol drives the built binary through
// docker-credential-helpers/client, the code docker itself runs.
func TestClientProtocol(t *testing.T) {
	e := newE2E(t)
	prog := helperProgram(e.env, e.bin)

	c, err := client.Get(prog, e.reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	if c.ServerURL != e.reg.Host || c.Username != DefaultUsername || !e.op.Valid(c.Secret) {
		t.Fatalf("get: got ServerURL %q Username %q (secret valid: %v); want %q %q and a valid token", c.ServerURL, c.Username, e.op.Valid(c.Secret), e.reg.Host, DefaultUsername)
	}
	// docker login stores back what it just checked: accepted, nothing stored.
	if err := client.Store(prog, c); err != nil {
		t.Errorf("store of get's own credentials: %v", err)
	}
	// A password is refused, with a message saying why.
	err = client.Store(prog, &credentials.Credentials{ServerURL: e.reg.Host, Username: "alice", Secret: "hunter2"})
	if err == nil || !strings.Contains(err.Error(), "does not store registry passwords") || !strings.Contains(err.Error(), "lanyard login registry") {
		t.Errorf("store of a password: got %v, want a refusal naming lanyard login", err)
	}
	// Missing fields are the texts clients recognise (the client matches
	// them, then flattens the error into a string).
	want := "out: `" + credentials.NewErrCredentialsMissingUsername().Error() + "`"
	if err := client.Store(prog, &credentials.Credentials{ServerURL: e.reg.Host}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("store without username: got %v, want %s", err, want)
	}
	want = "out: `" + credentials.NewErrCredentialsMissingServerURL().Error() + "`"
	if _, err := client.Get(prog, ""); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("get without server: got %v, want %s", err, want)
	}
	// Unknown registries: the not-found error, so clients go on anonymously.
	for _, server := range []string{"unknown.example.com", "https://index.docker.io/v1/", "127.0.0.1:1"} {
		if _, err := client.Get(prog, server); !credentials.IsErrCredentialsNotFound(err) {
			t.Errorf("get %s: got %v, want credentials-not-found", server, err)
		}
	}
	// erase drops the cached access token; the next get mints a new one.
	if err := client.Erase(prog, e.reg.Host); err != nil {
		t.Fatal(err)
	}
	c2, err := client.Get(prog, e.reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Secret == c.Secret || !e.op.Valid(c2.Secret) {
		t.Errorf("get after erase: same token or an invalid one")
	}
	list, err := client.List(prog)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[e.reg.Host] != DefaultUsername {
		t.Errorf("list: got %v, want {%q: %q}", list, e.reg.Host, DefaultUsername)
	}
	out, err := e.env.Command(filepath.Join(e.bin, Name), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "docker-credential-lanyard (github.com/lanyardhq/lanyard) ") {
		t.Errorf("version: %q, %v", out, err)
	}
}

// writeImage writes a small random image as a docker tarball for crane push.
func writeImage(t *testing.T, ref string) (path, digest string) {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return path, d.String()
}

func run(t *testing.T, cmd *exec.Cmd) (string, error) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCrane pushes and pulls through credHelpers with crane, and shows
// that a registry lanyard does not serve is tried anonymously (the helper
// answered not-found, so crane went on) and fails with 401.
func TestCrane(t *testing.T) {
	crane := testbin.NeedTool(t, "crane")
	e := newE2E(t)
	other := startRegistry(t, e.op.Valid) // no profile matches it
	e.dockerConfig(t, map[string]any{
		"auths":       map[string]any{},
		"credHelpers": map[string]string{e.reg.Host: "lanyard", other.Host: "lanyard"},
	})
	ref := e.reg.Host + "/lanyard/crane-e2e:v1"
	tar, digest := writeImage(t, ref)

	out, err := run(t, e.env.Command(crane, "push", "--insecure", tar, ref))
	if err != nil {
		t.Fatalf("crane push: %v\n%s", err, out)
	}
	pulled := filepath.Join(t.TempDir(), "pulled.tar")
	if out, err := run(t, e.env.Command(crane, "pull", "--insecure", ref, pulled)); err != nil {
		t.Fatalf("crane pull: %v\n%s", err, out)
	}
	out, err = run(t, e.env.Command(crane, "digest", "--insecure", ref))
	if err != nil || strings.TrimSpace(out) != digest {
		t.Fatalf("crane digest: %q, %v; want %s", out, err, digest)
	}
	if fi, err := os.Stat(pulled); err != nil || fi.Size() == 0 {
		t.Fatalf("pulled image: %v", err)
	}
	authorized, _, users := e.reg.counts()
	if authorized == 0 || len(users) != 1 || users[DefaultUsername] != authorized {
		t.Errorf("registry saw users %v (%d authorized requests); want only %q", users, authorized, DefaultUsername)
	}
	// One token served every crane run: the cache works across processes.
	if n := e.op.TokenRequests(); n != 1 {
		t.Errorf("token requests: got %d, want 1", n)
	}

	// The unknown registry: crane asks the helper, gets not-found, goes on
	// anonymously, and the registry answers 401.
	e.env.Set("LANYARD_DEBUG", "1")
	otherRef := other.Host + "/lanyard/crane-e2e:v1"
	out, err = run(t, e.env.Command(crane, "push", "--insecure", tar, otherRef))
	if err == nil {
		t.Fatalf("crane push to an unknown registry succeeded:\n%s", out)
	}
	if !strings.Contains(out, "401") && !strings.Contains(out, "UNAUTHORIZED") {
		t.Errorf("crane push to an unknown registry: want a 401, got:\n%s", out)
	}
	if strings.Contains(out, "error getting credentials") {
		t.Errorf("crane failed on the helper instead of going on anonymously:\n%s", out)
	}
	if !strings.Contains(out, other.Host+": no profile matches") {
		t.Errorf("the helper was not asked about %s (its debug line is missing):\n%s", other.Host, out)
	}
	if authorized, _, _ := other.counts(); authorized != 0 {
		t.Errorf("the unknown registry accepted %d requests", authorized)
	}
}

// TestCraneCredsStore: with credsStore (one helper for every registry),
// go-containerregistry first asks for "host/repository"; the helper matches
// that too.
func TestCraneCredsStore(t *testing.T) {
	crane := testbin.NeedTool(t, "crane")
	e := newE2E(t)
	e.dockerConfig(t, map[string]any{"credsStore": "lanyard"})
	ref := e.reg.Host + "/lanyard/creds-store:v1"
	tar, digest := writeImage(t, ref)
	if out, err := run(t, e.env.Command(crane, "push", "--insecure", tar, ref)); err != nil {
		t.Fatalf("crane push: %v\n%s", err, out)
	}
	out, err := run(t, e.env.Command(crane, "digest", "--insecure", ref))
	if err != nil || strings.TrimSpace(out) != digest {
		t.Fatalf("crane digest: %q, %v; want %s", out, err, digest)
	}
}

// TestSkopeo inspects an image with skopeo (containers/image) through the
// same helper. skopeo reads credHelpers from the --authfile.
func TestSkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo not installed; skipping (apt-get install skopeo, as .ci/run does)")
	}
	crane := testbin.NeedTool(t, "crane")
	e := newE2E(t)
	dir := e.dockerConfig(t, map[string]any{"credHelpers": map[string]string{e.reg.Host: "lanyard"}})
	ref := e.reg.Host + "/lanyard/skopeo-e2e:v1"
	tar, digest := writeImage(t, ref)
	if out, err := run(t, e.env.Command(crane, "push", "--insecure", tar, ref)); err != nil {
		t.Fatalf("crane push: %v\n%s", err, out)
	}
	inspect := func(args ...string) (string, error) {
		t.Helper()
		before, _, _ := e.reg.counts()
		out, err := run(t, e.env.Command(skopeo, append([]string{"inspect", "--tls-verify=false"}, append(args, "docker://"+ref)...)...))
		if err != nil {
			return out, err
		}
		var info struct{ Digest string }
		if err := json.Unmarshal([]byte(out), &info); err != nil || info.Digest != digest {
			t.Fatalf("skopeo inspect: digest %q (%v), want %s\n%s", info.Digest, err, digest, out)
		}
		if after, _, _ := e.reg.counts(); after == before {
			t.Fatalf("skopeo inspect succeeded without an authorized request")
		}
		return out, nil
	}
	// --authfile in docker's format, with credHelpers.
	if out, err := inspect("--authfile", filepath.Join(dir, "config.json")); err != nil {
		t.Fatalf("skopeo inspect --authfile: %v\n%s", err, out)
	}
	// No --authfile: containers/image falls back to $DOCKER_CONFIG/config.json.
	if out, err := inspect(); err != nil {
		t.Fatalf("skopeo inspect with DOCKER_CONFIG: %v\n%s", err, out)
	}
	// Without the helper skopeo is turned away: the helper's token let it in.
	e.dockerConfig(t, map[string]any{})
	empty := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(empty, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := inspect("--authfile", empty); err == nil {
		t.Errorf("skopeo inspect without credentials succeeded:\n%s", out)
	} else if !strings.Contains(out, "401") && !strings.Contains(strings.ToLower(out), "unauthorized") {
		t.Errorf("skopeo inspect without credentials: want a 401, got:\n%s", out)
	}
}
