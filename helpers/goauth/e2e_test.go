package goauth_test

// End-to-end: the real go command downloads a private module from an HTTPS
// module proxy on 127.0.0.1 that accepts only tokens of the in-process
// OpenID provider, with GOAUTH='lanyard goauth;netrc'.

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/tokentest"
)

const secretVar = "LANYARD_TEST_OP_SECRET"

type world struct {
	t     *testing.T
	goBin string
	env   *testbin.Env
	op    *testprovider.OP
	proxy *modProxy
}

func newWorld(t *testing.T) *world {
	t.Helper()
	goBin := testbin.NeedTool(t, "go")
	bin := testbin.Build(t, "lanyard")
	env := testbin.NewEnv(t, bin)
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	proxy := startModProxy(t, op.Valid)
	proxy.addModule(t, "private", "example.test/priv", "v1.0.0", map[string]string{"priv.go": "package priv\n\nconst Secret = 42\n"})
	proxy.addModule(t, "public", "example.test/pub", "v1.0.0", map[string]string{"pub.go": "package pub\n"})
	for k, v := range map[string]string{
		"GOPROXY":       proxy.URL + "/public," + proxy.URL + "/private",
		"GOSUMDB":       "off",
		"GOTOOLCHAIN":   "local",
		"GOFLAGS":       "-modcacherw", // so t.TempDir can remove the module cache
		"SSL_CERT_FILE": proxy.CAFile,
		secretVar:       testprovider.OPConfidentialClientSecret,
	} {
		env.Set(k, v)
	}
	return &world{t: t, goBin: goBin, env: env, op: op, proxy: proxy}
}

func (w *world) profile(grant string) {
	w.t.Helper()
	match := fmt.Sprintf("match = [%q]", w.proxy.URL+"/private/")
	if grant == "refresh_token" {
		w.env.WriteConfig(w.t, fmt.Sprintf("[profiles.p]\ngrant = \"refresh_token\"\nissuer = %q\nclient_id = %q\n%s\n", w.op.Issuer, w.op.PublicClientID, match))
		return
	}
	w.env.WriteConfig(w.t, fmt.Sprintf("[profiles.p]\ngrant = \"client_credentials\"\nissuer = %q\nclient_id = %q\nclient_secret = \"env:%s\"\n%s\n", w.op.Issuer, w.op.ConfidentialClientID, secretVar, match))
}

// download runs go mod download of mods into a fresh module cache.
func (w *world) download(args ...string) (string, int) {
	w.t.Helper()
	w.env.Set("GOMODCACHE", filepath.Join(w.t.TempDir(), "modcache"))
	out, errb, code := w.env.Run(w.t, "", w.goBin, append([]string{"mod", "download"}, args...)...)
	return out + errb, code
}

// checkSent fails when a token went anywhere but under the profile's
// prefix, or a token sent there was refused; it returns how many private
// requests were accepted.
func (w *world) checkSent() int {
	w.t.Helper()
	accepted := 0
	for _, r := range w.proxy.requests() {
		private := strings.HasPrefix(r.Path, "/private/")
		switch {
		case r.Auth != "" && !private:
			w.t.Errorf("token sent outside the profile's prefix: %s", r.Path)
		case r.Auth != "" && !r.Accepted:
			w.t.Errorf("a token the server refused was sent to %s", r.Path)
		case r.Accepted && private:
			accepted++
		}
	}
	return accepted
}

// expire makes the cached token of p look expired while the server still
// honours it: a stand-in for waiting out its lifetime.
func (w *world) expire() {
	w.t.Helper()
	tokentest.SetExpiry(w.t, w.env, "p", time.Now().Add(20*time.Second)) // within goauth.MinTTL
}

func TestGoModDownloadPrivateModule(t *testing.T) {
	w := newWorld(t)
	w.profile("client_credentials")

	out, _, code := w.env.Run(t, "", "lanyard", "setup", "go", "p")
	if code != 0 || !strings.Contains(out, "go env -w GOAUTH='lanyard goauth;netrc'") {
		t.Fatalf("setup go: exit %d\n%s", code, out)
	}
	if got, _, _ := w.env.Run(t, "", w.goBin, "env", "GOAUTH"); strings.TrimSpace(got) != "netrc" {
		t.Fatalf("setup go without --write changed GOAUTH to %q", got)
	}
	out, _, code = w.env.Run(t, "", "lanyard", "setup", "go", "p", "--write")
	if code != 0 || !strings.Contains(out, "ran: go env -w GOAUTH='lanyard goauth;netrc'") {
		t.Fatalf("setup go --write: exit %d\n%s", code, out)
	}
	if got, _, _ := w.env.Run(t, "", w.goBin, "env", "GOAUTH"); strings.TrimSpace(got) != "lanyard goauth;netrc" {
		t.Fatalf("GOAUTH after setup: got %q", got)
	}
	if out, _, _ := w.env.Run(t, "", "lanyard", "setup", "go", "p", "--write"); !strings.Contains(out, "nothing to do") {
		t.Errorf("second setup: %s", out)
	}

	out, code = w.download("-json", "example.test/priv@v1.0.0", "example.test/pub@v1.0.0")
	if code != 0 {
		t.Fatalf("go mod download: exit %d\n%s", code, out)
	}
	if n := w.checkSent(); n < 3 {
		t.Errorf("private requests accepted: got %d, want at least 3 (.info, .mod, .zip)", n)
	}
	if n := w.op.TokenRequests(); n != 1 {
		t.Errorf("token requests: got %d, want 1", n)
	}

	// A token about to expire is refreshed before the go command gets it:
	// the server never sees it.
	w.expire()
	if out, code := w.download("example.test/priv@v1.0.0"); code != 0 {
		t.Fatalf("go mod download after expiry: exit %d\n%s", code, out)
	}
	w.checkSent()
	if n := w.op.TokenRequests(); n != 2 {
		t.Errorf("token requests after expiry: got %d, want 2", n)
	}
}

func TestGoModDownloadRefusals(t *testing.T) {
	w := newWorld(t)
	w.env.Set("GOAUTH", "lanyard goauth;netrc")

	// No profile serves the proxy: the go command's own 401 error, and no
	// token goes anywhere.
	w.env.WriteConfig(t, fmt.Sprintf("[profiles.p]\ngrant = \"client_credentials\"\nissuer = %q\nclient_id = %q\nclient_secret = \"env:%s\"\nmatch = [\"https://elsewhere.example.com/\"]\n", w.op.Issuer, w.op.ConfidentialClientID, secretVar))
	out, code := w.download("example.test/priv@v1.0.0")
	if code == 0 || !strings.Contains(out, "401 Unauthorized") {
		t.Errorf("download without a matching profile: exit %d, want the go command's 401 error:\n%s", code, out)
	}
	if n := w.checkSent(); n != 0 || w.op.TokenRequests() != 0 {
		t.Errorf("no profile matches, yet %d accepted requests and %d token requests", n, w.op.TokenRequests())
	}

	// A profile that needs a login: the fetch fails, and go -x shows the
	// command to run.
	w.profile("refresh_token")
	out, code = w.download("-x", "example.test/priv@v1.0.0")
	if code == 0 || !strings.Contains(out, "run: lanyard login p") {
		t.Errorf("download needing a login: exit %d, want go -x to show the login command:\n%s", code, out)
	}
	w.checkSent()
}
