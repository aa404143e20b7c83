package terraform_test

// End-to-end: the real terraform runs init on a module from a private
// module registry with service discovery, over HTTPS on 127.0.0.1:PORT
// (a test CA through SSL_CERT_FILE), with terraform-credentials-lanyard as
// its credentials helper after lanyard setup terraform. With
// LANYARD_AGENT=off (make test-agent-off) every call answers in-process.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/tokentest"
)

const secretVar = "LANYARD_TEST_OP_SECRET"

// moduleRegistry serves discovery, the module registry protocol (v1) and
// the archive; discovery and the API need a token check accepts, the
// archive needs none. It records the Authorization each path got.
type moduleRegistry struct {
	Host string // 127.0.0.1:PORT
	mu   sync.Mutex
	seen []seen
}

type seen struct{ Path, Auth string }

func startModuleRegistry(t *testing.T, ca *testprovider.CA, check func(string) bool) *moduleRegistry {
	t.Helper()
	m := &moduleRegistry{}
	archive := moduleArchive(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		m.mu.Lock()
		m.seen = append(m.seen, seen{r.URL.Path, auth})
		m.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/archive/") {
			w.Write(archive)
			return
		}
		if !check(auth) {
			http.Error(w, `{"errors":["unauthorized"]}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/terraform.json":
			io.WriteString(w, `{"modules.v1":"/api/modules/v1/"}`)
		case "/api/modules/v1/acme/net/aws/versions":
			io.WriteString(w, `{"modules":[{"versions":[{"version":"1.0.0"}]}]}`)
		case "/api/modules/v1/acme/net/aws/1.0.0/download":
			w.Header().Set("X-Terraform-Get", "https://"+m.Host+"/archive/net.tar.gz")
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	cert, err := ca.Issue("127.0.0.1", true)
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	m.Host = strings.TrimPrefix(srv.URL, "https://")
	return m
}

func (m *moduleRegistry) requests() []seen {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]seen(nil), m.seen...)
}

func moduleArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body := "output \"name\" {\n  value = \"net\"\n}\n"
	tw.WriteHeader(&tar.Header{Name: "main.tf", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	io.WriteString(tw, body)
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

type world struct {
	t   *testing.T
	tf  string
	env *testbin.Env
}

func newWorld(t *testing.T, ca *testprovider.CA) *world {
	t.Helper()
	tf := testbin.NeedTool(t, "terraform")
	bin := testbin.Build(t, "lanyard", "terraform-credentials-lanyard")
	env := testbin.NewEnv(t, bin)
	caFile := filepath.Join(env.Home, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	env.Set("SSL_CERT_FILE", caFile)
	env.Set(secretVar, testprovider.OPConfidentialClientSecret)
	env.Set("TF_IN_AUTOMATION", "1")
	env.Set("CHECKPOINT_DISABLE", "1")
	return &world{t: t, tf: tf, env: env}
}

// init runs terraform init in a fresh directory using the module.
func (w *world) init(host string) (string, error) {
	w.t.Helper()
	dir := w.t.TempDir()
	src := fmt.Sprintf("module \"net\" {\n  source  = %q\n  version = \"1.0.0\"\n}\n", host+"/acme/net/aws")
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o644); err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(w.t.Context(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.tf, "init", "-input=false", "-no-color", "-backend=false")
	cmd.Env, cmd.Dir = w.env.Vars(), dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func setup(t *testing.T) (*world, *testprovider.OP, *moduleRegistry) {
	t.Helper()
	ca, err := testprovider.NewCA("lanyard terraform test")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, ca)
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	reg := startModuleRegistry(t, ca, func(auth string) bool {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		return ok && op.Valid(tok)
	})
	return w, op, reg
}

func ccProfile(name string, op *testprovider.OP, match string) string {
	return fmt.Sprintf("[profiles.%s]\ngrant = \"client_credentials\"\nissuer = %q\nclient_id = %q\nclient_secret = \"env:%s\"\nmatch = [%q]\n", name, op.Issuer, op.ConfidentialClientID, secretVar, match)
}

func TestTerraformInitPrivateModule(t *testing.T) {
	w, op, reg := setup(t)
	w.env.WriteConfig(t, ccProfile("tf", op, "https://"+reg.Host+"/"))
	out, _, code := w.env.Run(t, "", "lanyard", "setup", "terraform", "tf")
	if code != 0 || !strings.Contains(out, `added credentials_helper "lanyard" {}`) {
		t.Fatalf("setup terraform: exit %d\n%s", code, out)
	}
	if out, _, _ := w.env.Run(t, "", "lanyard", "setup", "terraform", "tf"); strings.Count(out, "nothing to do") != 2 {
		t.Errorf("second setup changed something:\n%s", out)
	}

	if out, err := w.init(reg.Host); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	if n := op.TokenRequests(); n != 1 {
		t.Errorf("token requests: got %d, want 1", n)
	}
	got := map[string]bool{}
	for _, r := range reg.requests() {
		authed := r.Auth != ""
		if strings.HasPrefix(r.Path, "/archive/") && authed {
			t.Errorf("the archive URL got the token")
		}
		if authed {
			got[r.Path] = true
		}
	}
	for _, p := range []string{"/.well-known/terraform.json", "/api/modules/v1/acme/net/aws/versions", "/api/modules/v1/acme/net/aws/1.0.0/download"} {
		if !got[p] {
			t.Errorf("%s got no token; requests: %v", p, reg.requests())
		}
	}

	// A token about to expire is refreshed before terraform gets it.
	old := tokentest.SetExpiry(t, w.env, "tf", time.Now().Add(30*time.Second)).AccessToken
	before := len(reg.requests())
	if out, err := w.init(reg.Host); err != nil {
		t.Fatalf("terraform init after expiry: %v\n%s", err, out)
	}
	if n := op.TokenRequests(); n != 2 {
		t.Errorf("token requests after expiry: got %d, want 2", n)
	}
	for _, r := range reg.requests()[before:] {
		if r.Auth == "Bearer "+old {
			t.Errorf("%s got the token that was about to expire", r.Path)
		}
	}
}

func TestTerraformRefusals(t *testing.T) {
	w, op, reg := setup(t)
	// Setup with a profile for another host: the helper answers {} for
	// this one, and terraform fails with its own 401 error, no token sent.
	w.env.WriteConfig(t, ccProfile("other", op, "https://tf.other.example/"))
	if out, _, code := w.env.Run(t, "", "lanyard", "setup", "terraform", "other"); code != 0 {
		t.Fatalf("setup terraform: exit %d\n%s", code, out)
	}
	if out, err := w.init(reg.Host); err == nil {
		t.Errorf("terraform init without a matching profile succeeded:\n%s", out)
	}
	// No profiles file at all: the same.
	os.Remove(w.env.ConfigPath)
	if out, err := w.init(reg.Host); err == nil {
		t.Errorf("terraform init without profiles succeeded:\n%s", out)
	}
	// A profile that needs a person: fail fast. Terraform 1.11 treats a
	// helper's failure as "no credentials" and shows its stderr only under
	// TF_LOG, so the message naming lanyard login is in the log.
	w.env.WriteConfig(t, fmt.Sprintf("[profiles.dev]\ngrant = \"refresh_token\"\nissuer = %q\nclient_id = %q\nmatch = [%q]\n", op.Issuer, op.PublicClientID, "https://"+reg.Host+"/"))
	start := time.Now()
	out, err := w.init(reg.Host)
	if err == nil || time.Since(start) > 60*time.Second {
		t.Errorf("terraform init needing a login: err %v after %v, want a quick failure:\n%s", err, time.Since(start), out)
	}
	for _, r := range reg.requests() {
		if r.Auth != "" {
			t.Errorf("%s got credentials without a serving profile", r.Path)
		}
	}
	if n := op.TokenRequests(); n != 0 {
		t.Errorf("token requests: got %d, want 0", n)
	}
}
