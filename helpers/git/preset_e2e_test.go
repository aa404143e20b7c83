//go:build !windows

package git_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// TestInitGiteaPresetThenClone: `lanyard init gitea URL --client-id ID
// --yes` against a Gitea-shaped forge writes the profile, logs in through
// the (scripted) browser, runs lanyard setup git, and git clone then
// works with nothing else configured.
func TestInitGiteaPresetThenClone(t *testing.T) {
	w := newWorld(t)
	op := startOP(t)
	f := w.startForge(op, "Gitea")
	login := w.scriptedBrowser(f)

	out := w.must("", "lanyard", "init", "gitea", f.URL, "--client-id", op.PublicClientID, "--yes")
	if err := <-login; err != nil {
		t.Fatalf("browser: %v\n%s", err, out)
	}
	for _, want := range []string{`wrote profile "gitea"`, "got a token for gitea", "git now asks lanyard (profile gitea) for " + f.URL} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	cfg, err := os.ReadFile(w.env.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`auth_url = "` + f.URL + `/login/oauth/authorize"`, `client_auth = "none"`, `match = ["` + f.URL + `/"]`} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("profile lacks %s:\n%s", want, cfg)
		}
	}
	w.must("", w.git, "clone", "-q", f.repo, filepath.Join(t.TempDir(), "clone"))

	// The same again: the profile exists, init changes nothing.
	if out, err := w.run("", "lanyard", "init", "gitea", f.URL, "--client-id", "x", "--yes"); err == nil || !strings.Contains(out, "already exists") {
		t.Errorf("second init: %v\n%s", err, out)
	}
}

// TestInitPresetYesWithoutClientID fails at once and names the page where
// an application is registered.
func TestInitPresetYesWithoutClientID(t *testing.T) {
	w := newWorld(t)
	out, err := w.run("", "lanyard", "init", "gitea", "https://gitea.example.com", "--yes")
	if err == nil {
		t.Fatalf("init succeeded:\n%s", out)
	}
	for _, want := range []string{"needs a client id", "https://gitea.example.com/user/settings/applications", "http://127.0.0.1/callback", "--client-id ID"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(w.env.ConfigPath); err == nil {
		t.Error("a profiles file was written")
	}
}

// TestGitForgeDetectionPrintsInit: real git 2.41+ (wwwauth[]) asks lanyard
// for a Gitea-shaped forge no profile serves: lanyard answers nothing (the
// next helper answers, here a failing one), prints the init line on
// stderr, and only once that day.
func TestGitForgeDetectionPrintsInit(t *testing.T) {
	newGit := testbin.NeedToolEnv(t, "LANYARD_GIT_NEW", "git 2.46 or later")
	w := newWorld(t)
	op := startOP(t)
	f := w.startForge(op, "Gitea")
	w.env.WriteConfig(t, ccProfile("other", op, `match = ["https://elsewhere.example/"]`))
	w.gitConfig("credential.helper", "lanyard")
	want := "lanyard init gitea " + f.URL
	out, err := w.run("", newGit, "ls-remote", f.repo)
	if err == nil {
		t.Fatalf("ls-remote succeeded without credentials:\n%s", out)
	}
	if strings.Count(out, want) != 1 {
		t.Fatalf("git's output names %q %d times, want once:\n%s", want, strings.Count(out, want), out)
	}
	out, _ = w.run("", newGit, "ls-remote", f.repo)
	if strings.Contains(out, want) {
		t.Errorf("the line came again the same day:\n%s", out)
	}
}
