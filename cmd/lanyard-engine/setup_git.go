package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/lanyardhq/lanyard/helpers/git/gitconfig"
	"github.com/lanyardhq/lanyard/internal/config"
)

// SetupGitCmd writes the git config that makes git ask
// git-credential-lanyard for PROFILE's hosts (helpers/git/gitconfig says
// what it writes).
type SetupGitCmd struct {
	Global  bool   `help:"Write to the global git config (~/.gitconfig) instead of the current repository's."`
	Profile string `arg:"" help:"Profile name." predictor:"profile"`
}

// Run writes the config with the git command and prints every command it ran.
func (c *SetupGitCmd) Run(ctx context.Context, env *Env, cfg *config.File) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if len(p.Match) == 0 {
		return fmt.Errorf("profile %q has no match prefixes, so lanyard cannot tell which remotes it serves; add match = [\"https://git.example.com/\"] to it in %s:%d", p.Name, p.File, p.Line)
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return fmt.Errorf("git is not installed or not on PATH: %w", err)
	}
	g := &gitconfig.Editor{Ctx: ctx, Git: gitPath, Global: c.Global, Out: env.Stdout}
	hosts, wrote, err := g.Setup(p.Match)
	if err != nil {
		return err
	}
	where := "this repository's git config"
	if c.Global {
		where = "the global git config"
	}
	if wrote {
		fmt.Fprintf(env.Stdout, "git now asks lanyard (profile %s) for %s, in %s\n", p.Name, strings.Join(hosts, ", "), where)
	} else {
		fmt.Fprintf(env.Stdout, "%s already asks lanyard for %s; nothing written\n", where, strings.Join(hosts, ", "))
	}
	if p.GitAuth == config.GitAuthBearer {
		out, _ := exec.CommandContext(ctx, gitPath, "version").Output()
		if v := strings.TrimSpace(string(out)); !gitconfig.AtLeast(v, 2, 46) {
			fmt.Fprintf(env.Stderr, "lanyard: warning: profile %q has git_auth = \"bearer\", but %s (%s) cannot send Bearer credentials, so it gets the token as a Basic password; Bearer needs git 2.46 or later\n", p.Name, v, gitPath)
		}
	}
	if _, err := exec.LookPath("git-credential-lanyard"); err != nil {
		fmt.Fprintln(env.Stderr, "lanyard: warning: git-credential-lanyard is not on PATH, so git cannot run it; install it next to lanyard (make install)")
	}
	return nil
}
