package pykeyring_test

// End-to-end: Debian's pip (keyring imported), the image's pip 23.2
// (--keyring-provider subprocess through Debian's keyring command) and
// twine get tokens from keyrings.lanyard, installed by lanyard setup pip,
// for an HTTPS index on 127.0.0.1 that accepts only the test OP's tokens
// as the Basic password of the profile's pip_username.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/tokentest"
)

const (
	secretVar = "LANYARD_TEST_OP_SECRET"
	debianPy  = "/usr/bin/python3"
	user      = "__token__"
)

type world struct {
	t   *testing.T
	env *testbin.Env
	op  *testprovider.OP
	ix  *pyIndex
}

// needDebianPython fails under LANYARD_E2E_REQUIRED, else skips, when
// Debian's python3 cannot import pip and keyring.
func needDebianPython(t *testing.T) {
	t.Helper()
	testbin.NeedTool(t, "keyring")
	if out, err := exec.Command(debianPy, "-c", "import pip, keyring").CombinedOutput(); err != nil {
		if os.Getenv("LANYARD_E2E_REQUIRED") != "" {
			t.Fatalf("%s cannot import pip and keyring (LANYARD_E2E_REQUIRED is set): %v\n%s", debianPy, err, out)
		}
		t.Skipf("%s cannot import pip and keyring (apt install python3-pip python3-keyring): %s", debianPy, out)
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	needDebianPython(t)
	bin := testbin.Build(t, "lanyard")
	env := testbin.NewEnv(t, bin)
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	ix := startIndex(t, func(u, p string) bool { return u == user && op.Valid(p) })
	env.Set(secretVar, testprovider.OPConfidentialClientSecret)
	env.Set("PIP_DISABLE_PIP_VERSION_CHECK", "1")
	env.Set("PIP_NO_CACHE_DIR", "1")
	w := &world{t: t, env: env, op: op, ix: ix}
	w.profile("client_credentials", ix.URL+"/")
	out, errb, code := env.Run(t, "", "lanyard", "setup", "pip", "p", "--python", debianPy)
	if code != 0 || !strings.Contains(out, "wrote ") || !strings.Contains(out, "https://__token__@"+strings.TrimPrefix(ix.URL, "https://")+"/simple/") {
		t.Fatalf("setup pip: exit %d\n%s%s", code, out, errb)
	}
	if out, _, _ := env.Run(t, "", "lanyard", "setup", "pip", "--python", debianPy); !strings.Contains(out, "nothing written") {
		t.Errorf("second setup pip wrote again:\n%s", out)
	}
	return w
}

func (w *world) profile(grant, match string) {
	w.t.Helper()
	m := fmt.Sprintf("match = [%q]\npip_username = %q\n", match, user)
	if grant == "refresh_token" {
		w.env.WriteConfig(w.t, fmt.Sprintf("[profiles.p]\ngrant = \"refresh_token\"\nissuer = %q\nclient_id = %q\n%s", w.op.Issuer, w.op.PublicClientID, m))
		return
	}
	w.env.WriteConfig(w.t, fmt.Sprintf("[profiles.p]\ngrant = \"client_credentials\"\nissuer = %q\nclient_id = %q\nclient_secret = \"env:%s\"\n%s", w.op.Issuer, w.op.ConfidentialClientID, secretVar, m))
}

// debianPip downloads the test package with Debian's pip (23.0: keyring is
// imported whenever it is importable); it returns the output and exit code.
func (w *world) debianPip() (string, int) {
	w.t.Helper()
	dir := w.t.TempDir()
	out, errb, code := w.env.Run(w.t, "", debianPy, "-m", "pip", "download", "--no-deps", "--cert", w.ix.CAFile, "-d", dir, "--index-url", w.ix.URL+"/simple/", project)
	if code == 0 {
		if _, err := os.Stat(filepath.Join(dir, wheelName)); err != nil {
			w.t.Errorf("pip exited 0 but did not download the wheel: %v", err)
		}
	}
	return out + errb, code
}

// checkSent fails when the index refused credentials (a stale or wrong
// token reached it), and returns how many requests it accepted.
func (w *world) checkSent() int {
	w.t.Helper()
	n := 0
	for _, r := range w.ix.requests() {
		if r.Sent && !r.Accepted {
			w.t.Errorf("the index refused the credentials sent to %s (user %q)", r.Path, r.User)
		}
		if r.Accepted {
			n++
		}
	}
	return n
}

// expire leaves p's cached token a few seconds to live while the server
// still honours it: a stand-in for waiting out its lifetime.
func (w *world) expire() {
	w.t.Helper()
	tokentest.SetExpiry(w.t, w.env, "p", time.Now().Add(30*time.Second)) // within pykeyring.MinTTL
}

func TestPipAndTwineWithKeyring(t *testing.T) {
	w := newWorld(t)

	out, code := w.debianPip()
	if code != 0 {
		t.Fatalf("Debian pip download: exit %d\n%s", code, out)
	}
	if n := w.checkSent(); n < 2 {
		t.Errorf("accepted requests: got %d, want at least 2 (project page, wheel)", n)
	}
	if n := w.op.TokenRequests(); n != 1 {
		t.Errorf("token requests: got %d, want 1", n)
	}

	t.Run("twine upload", func(t *testing.T) {
		testbin.NeedTool(t, "twine")
		wheel := filepath.Join(t.TempDir(), wheelName)
		if err := os.WriteFile(wheel, w.ix.wheel, 0o644); err != nil {
			t.Fatal(err)
		}
		out, errb, code := w.env.Run(t, "", "twine", "upload", "--non-interactive", "--disable-progress-bar", "--cert", w.ix.CAFile, "--repository-url", w.ix.URL+"/legacy/", wheel)
		if code != 0 {
			t.Fatalf("twine upload: exit %d\n%s%s", code, out, errb)
		}
		w.checkSent()
		if len(w.ix.uploaded) != 1 || w.ix.uploaded[0] != wheelName {
			t.Errorf("uploaded: got %q, want [%s]", w.ix.uploaded, wheelName)
		}
	})

	t.Run("pip 23.2 keyring-provider subprocess", func(t *testing.T) {
		py := imagePython(t)
		dir := t.TempDir()
		index := "https://" + user + "@" + strings.TrimPrefix(w.ix.URL, "https://") + "/simple/"
		out, errb, code := w.env.Run(t, "", py, "-m", "pip", "download", "--no-input", "--keyring-provider", "subprocess", "--no-deps", "--cert", w.ix.CAFile, "-d", dir, "--index-url", index, project)
		if code != 0 {
			t.Fatalf("pip --keyring-provider subprocess: exit %d\n%s%s", code, out, errb)
		}
		if n := w.checkSent(); n < 2 {
			t.Errorf("accepted requests: got %d, want at least 2", n)
		}
	})

	// A token about to expire is refreshed before pip gets it: the index
	// never sees it.
	w.expire()
	before := w.op.TokenRequests()
	if out, code := w.debianPip(); code != 0 {
		t.Fatalf("pip after expiry: exit %d\n%s", code, out)
	}
	w.checkSent()
	if n := w.op.TokenRequests() - before; n != 1 {
		t.Errorf("token requests after expiry: got %d, want 1", n)
	}
}

func TestPipRefusals(t *testing.T) {
	w := newWorld(t)

	// No profile serves the index: keyrings.lanyard answers nothing, and
	// pip does what it does without credentials.
	w.profile("client_credentials", "https://elsewhere.example.com/")
	out, code := w.debianPip()
	if code == 0 {
		t.Errorf("pip without a matching profile succeeded:\n%s", out)
	}
	if n := w.checkSent(); n != 0 || w.op.TokenRequests() != 0 {
		t.Errorf("no profile matches, yet %d accepted requests and %d token requests", n, w.op.TokenRequests())
	}
	if _, _, code := w.env.Run(t, "", "keyring", "get", w.ix.URL+"/simple/", user); code == 0 {
		t.Errorf("keyring get for an index no profile serves: exit 0, want keyring's not-found exit 1")
	}

	// A profile that needs a login: pip says which command to run.
	w.profile("refresh_token", w.ix.URL+"/")
	out, code = w.debianPip()
	if code == 0 || !strings.Contains(out, "run: lanyard login p") {
		t.Errorf("pip needing a login: exit %d, want the login command in:\n%s", code, out)
	}
	w.checkSent()
}

// imagePython is the image's own Python (pyenv) with pip 23.1 or newer,
// resolved in the test's environment (the shims need the real HOME).
func imagePython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import sys, pip; v = tuple(int(x) for x in pip.__version__.split('.')[:2]); print(sys.executable if v >= (23, 1) else '')").Output()
	py := strings.TrimSpace(string(out))
	if err != nil || py == "" || py == debianPy {
		if os.Getenv("LANYARD_E2E_REQUIRED") != "" {
			t.Fatalf("no python3 with pip 23.1+ besides Debian's on PATH (LANYARD_E2E_REQUIRED is set): %v %q", err, out)
		}
		t.Skipf("no python3 with pip 23.1+ besides Debian's on PATH")
	}
	return py
}
