package git_test

// End-to-end: git 2.46+ (built by .ci/install.d/30-git-new.sh, found via
// LANYARD_GIT_NEW) and Debian's git 2.39 against one repository that takes
// the token only as Bearer and one that takes it only as a Basic password.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// authWorld holds both servers, each with repository repo.git, and three
// profiles at one OP matching both servers: "auto" (git_auth unset, the
// helper for both), "bearer" and "basic" (git_auth set: pinned by the
// caller).
type authWorld struct {
	*world
	newGit        string
	op            *testprovider.OP
	bearer, basic *gitServer
	bearerRepo    string
	basicRepo     string
}

func newAuthWorld(t *testing.T) *authWorld {
	t.Helper()
	newGit := testbin.NeedToolEnv(t, "LANYARD_GIT_NEW", "git 2.46 or later")
	w := newWorld(t)
	op := startOP(t)
	bearerRoot, basicRoot := t.TempDir(), t.TempDir()
	w.bareRepo(bearerRoot, "repo")
	w.bareRepo(basicRoot, "repo")
	a := &authWorld{world: w, newGit: newGit, op: op,
		bearer: startBearerGitServer(t, w.git, bearerRoot, op.Valid),
		basic:  startGitServer(t, w.git, basicRoot, func(u, p string) bool { return u == "oauth2" && op.Valid(p) }),
	}
	a.bearerRepo, a.basicRepo = a.bearer.URL+"/repo.git", a.basic.URL+"/repo.git"
	match := fmt.Sprintf("match = [%q, %q]", a.bearer.URL+"/", a.basic.URL+"/")
	w.env.WriteConfig(t,
		ccProfile("auto", op, match)+
			ccProfile("bearer", op, match+"\ngit_auth = \"bearer\"")+
			ccProfile("basic", op, match+"\ngit_auth = \"basic\""))
	w.gitConfig("credential.helper", "lanyard")
	return a
}

// clone clones repo with gitBin into a new directory; profile, when set,
// replaces the helper list with "lanyard --profile PROFILE".
func (a *authWorld) clone(gitBin, profile, repo string) (string, string, error) {
	a.t.Helper()
	dir := filepath.Join(a.t.TempDir(), "c")
	args := []string{"clone", repo, dir}
	if profile != "" {
		args = append([]string{"-c", "credential.helper=", "-c", "credential.helper=lanyard --profile " + profile}, args...)
	}
	out, err := a.run("", gitBin, args...)
	return dir, out, err
}

func TestGitNewAnnouncesAuthType(t *testing.T) {
	newGit := testbin.NeedToolEnv(t, "LANYARD_GIT_NEW", "git 2.46 or later")
	w := newWorld(t)
	out := w.must("", newGit, "credential", "capability")
	if !strings.Contains(out, "capability authtype") || !strings.Contains(out, "capability state") {
		t.Fatalf("%s credential capability: %q; want authtype and state (git 2.46+)", newGit, out)
	}
	if got := w.must("", filepath.Join(w.bin, "git-credential-lanyard"), "capability"); got != "version 0\ncapability authtype\ncapability state\n" {
		t.Errorf("git-credential-lanyard capability: %q", got)
	}
}

// With git_auth left at "auto", git 2.46+ reaches both servers: Bearer
// where the server asks for Bearer, Basic where it asks for Basic. Pushing
// works too, and nothing is refused on the way.
func TestGitAuthAutoBothServers(t *testing.T) {
	a := newAuthWorld(t)
	for _, repo := range []string{a.bearerRepo, a.basicRepo} {
		dir, out, err := a.clone(a.newGit, "", repo)
		if err != nil {
			t.Fatalf("clone %s: %v\n%s", repo, err, out)
		}
		if err := os.WriteFile(filepath.Join(dir, "NEW"), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		a.must(dir, a.newGit, "add", "NEW")
		a.must(dir, a.newGit, "commit", "-q", "-m", "second")
		a.must(dir, a.newGit, "push", "-q", "origin", "main")
	}
	if u := a.bearer.usernames(); u["Bearer"] == 0 {
		t.Errorf("Bearer server: accepted %v, want Bearer requests", u)
	}
	if u := a.basic.usernames(); u["oauth2"] == 0 {
		t.Errorf("Basic server: accepted %v, want oauth2 requests", u)
	}
	if b, c := a.bearer.Rejected.Load(), a.basic.Rejected.Load(); b != 0 || c != 0 {
		t.Errorf("rejected: Bearer server %d, Basic server %d; want 0", b, c)
	}
	if n := a.op.TokenRequests(); n != 1 {
		t.Errorf("token requests: got %d, want 1 (one token, cached, for both)", n)
	}
}

// Each git_auth with the git and the server it suits works; each wrong
// combination fails, and lanyard's message names the git_auth (or git
// version) to use.
func TestGitAuthCombinations(t *testing.T) {
	a := newAuthWorld(t)
	tests := []struct {
		name, git, profile, repo string
		wantErr                  string // "" means the clone must work
	}{
		{"new git, bearer, Bearer server", a.newGit, "bearer", a.bearerRepo, ""},
		{"new git, basic, Basic server", a.newGit, "basic", a.basicRepo, ""},
		{"new git, bearer, Basic server", a.newGit, "bearer", a.basicRepo, `set git_auth = "basic"`},
		{"new git, basic, Bearer server", a.newGit, "basic", a.bearerRepo, `set git_auth = "bearer"`},
		{"git 2.39, auto, Basic server", a.git, "auto", a.basicRepo, ""},
		{"git 2.39, bearer, Basic server", a.git, "bearer", a.basicRepo, ""},
		{"git 2.39, auto, Bearer server", a.git, "auto", a.bearerRepo, `use git 2.46 or later with git_auth = "bearer"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out, err := a.clone(tt.git, tt.profile, tt.repo)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("clone: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("clone worked; want it refused with %q", tt.wantErr)
			}
			if !strings.Contains(out, tt.wantErr) || !strings.Contains(out, fmt.Sprintf("profile %q", tt.profile)) {
				t.Errorf("clone output lacks %q for profile %q:\n%s", tt.wantErr, tt.profile, out)
			}
		})
	}
}

// A Bearer token revoked at the server: git 2.46+ hands lanyard's state
// back on erase, lanyard drops that token, and the next command recovers.
func TestGitBearerRevokedTokenRecovers(t *testing.T) {
	a := newAuthWorld(t)
	dir, out, err := a.clone(a.newGit, "", a.bearerRepo)
	if err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	before := a.op.TokenRequests()
	a.op.RevokeAllAccessTokens()
	out, err = a.run(dir, a.newGit, "fetch")
	if err == nil || !strings.Contains(out, "Authentication failed") {
		t.Fatalf("fetch with a revoked token: err %v, output %s; want git's authentication failure", err, out)
	}
	if strings.Contains(out, "git_auth") {
		t.Errorf("a revoked Bearer token is not a git_auth problem:\n%s", out)
	}
	a.must(dir, a.newGit, "fetch")
	if n := a.op.TokenRequests() - before; n != 1 {
		t.Errorf("token requests for the recovering fetch: got %d, want 1", n)
	}
}

// lanyard setup git warns when a profile asks for Bearer but the git on
// PATH is too old to send it.
func TestSetupGitWarnsBearerNeedsNewGit(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	w.env.WriteConfig(t, ccProfile("b", op, "match = [\"https://git.example.com/\"]\ngit_auth = \"bearer\""))
	version := strings.TrimSpace(w.must("", w.git, "version"))
	out := w.must("", "lanyard", "setup", "git", "--global", "b")
	warned := strings.Contains(out, `profile "b" has git_auth = "bearer", but `+version) && strings.Contains(out, "Bearer needs git 2.46 or later")
	var major, minor int
	if _, err := fmt.Sscanf(version, "git version %d.%d", &major, &minor); err != nil {
		t.Fatalf("%q: %v", version, err)
	}
	old := major < 2 || major == 2 && minor < 46
	if warned != old {
		t.Errorf("%s: warned %v, want %v; output:\n%s", version, warned, old, out)
	}
}
