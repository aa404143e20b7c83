package git_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// TestGitSSHWithoutTerminalFailsFast: git over SSH without a terminal (an
// IDE's remote session) for a browser-login profile nobody logged in to:
// the helper fails at once and names both ways out, lanyard login and
// lanyard agent forward.
func TestGitSSHWithoutTerminalFailsFast(t *testing.T) {
	w, _, repo := sshWorld(t)
	start := time.Now()
	out, err := w.run("", w.git, "clone", "-q", repo, filepath.Join(t.TempDir(), "c"))
	took := time.Since(start)
	if err == nil {
		t.Fatalf("clone succeeded without a login:\n%s", out)
	}
	for _, want := range []string{"run: lanyard login web", "this is an SSH session", "lanyard agent forward --profiles web"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if took > 30*time.Second { // a login would wait login_timeout (3m)
		t.Errorf("took %s, want a fast failure", took)
	}
}

// sshWorld is git in an SSH session, set up for profile web: an
// authorization code profile nobody logged in to, at an OP that also
// offers the device grant, serving repo.
func sshWorld(t *testing.T) (w *world, op *testprovider.OP, repo string) {
	w = newWorld(t)
	op = startOP(t)
	srv, repo := w.opServer(op, "oauth2")
	w.env.WriteConfig(t, fmt.Sprintf(`
[profiles.web]
grant = "authorization_code"
issuer = %q
client_id = %q
scopes = ["openid"]
match = [%q]
`, op.Issuer, op.PublicClientID, srv.URL+"/"))
	w.env.Set("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")
	w.gitConfig("credential.helper", "lanyard")
	return w, op, repo
}
