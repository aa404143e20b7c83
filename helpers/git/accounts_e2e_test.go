package git_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestGitTwoAccountsOneHost: two profiles serve one host, told apart by
// the username in the remote URL (match = ["http://work@HOST/"]): real git
// sends that username, and the work profile answers (the server sees its
// git_username); a remote without it gets the personal profile.
func TestGitTwoAccountsOneHost(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	root := t.TempDir()
	w.bareRepo(root, "repo")
	var refused atomic.Int64 // credentials with a password that failed (git first sends "work:" with none)
	srv := startGitServer(t, w.git, root, func(u, p string) bool {
		ok := (u == "work" || u == "oauth2") && op.Valid(p)
		if !ok && p != "" {
			refused.Add(1)
		}
		return ok
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	w.env.WriteConfig(t, ccProfile("personal", op, fmt.Sprintf("match = [%q]", srv.URL+"/"))+
		ccProfile("work", op, fmt.Sprintf("match = [%q]\ngit_username = \"work\"", "http://work@"+host+"/")))
	w.gitConfig("credential.helper", "lanyard")

	w.must("", w.git, "clone", "-q", "http://work@"+host+"/repo.git", filepath.Join(t.TempDir(), "work"))
	if got := srv.usernames(); got["work"] == 0 || got["oauth2"] != 0 {
		t.Fatalf("after the work@ clone the server saw users %v, want only work", got)
	}
	w.must("", w.git, "clone", "-q", srv.URL+"/repo.git", filepath.Join(t.TempDir(), "personal"))
	if got := srv.usernames(); got["oauth2"] == 0 {
		t.Fatalf("after the plain clone the server saw users %v, want oauth2 (personal) too", got)
	}
	if out := w.must("", "lanyard", "status"); !strings.Contains(out, "http://work@"+host+"/") || !strings.Contains(out, "SERVED BY") {
		t.Errorf("lanyard status does not show the prefixes:\n%s", out)
	}
	if n := refused.Load(); n != 0 {
		t.Errorf("server rejected %d requests, want 0", n)
	}
}
