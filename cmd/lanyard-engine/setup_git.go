package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lanyardhq/lanyard/internal/config"
)

// SetupGitCmd writes the git config that makes git ask
// git-credential-lanyard for PROFILE's hosts.
//
// For each scheme://host[:port] of the profile's match prefixes it writes
//
//	credential.<scheme://host>.helper = ""        (reset: other helpers do not run first, nor replay old tokens)
//	credential.<scheme://host>.helper = lanyard   (git runs git-credential-lanyard, which picks the profile by match)
//	credential.<scheme://host>.useHttpPath = true (only when a prefix has a path, so lanyard sees the repository path)
//
// Host-specific helpers that were already configured are kept, after
// lanyard. Nothing is written twice: a host whose helper list already names
// lanyard is left alone.
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
	g := &gitConfig{ctx: ctx, git: gitPath, global: c.Global, out: env.Stdout}
	wrote := false
	for _, h := range gitContexts(p.Match) {
		w, err := g.setupContext(h)
		if err != nil {
			return err
		}
		wrote = wrote || w
	}
	where := "this repository's git config"
	if c.Global {
		where = "the global git config"
	}
	hosts := make([]string, 0, len(p.Match))
	for _, h := range gitContexts(p.Match) {
		hosts = append(hosts, h.url)
	}
	if wrote {
		fmt.Fprintf(env.Stdout, "git now asks lanyard (profile %s) for %s, in %s\n", p.Name, strings.Join(hosts, ", "), where)
	} else {
		fmt.Fprintf(env.Stdout, "%s already asks lanyard for %s; nothing written\n", where, strings.Join(hosts, ", "))
	}
	if p.GitAuth == config.GitAuthBearer {
		out, _ := exec.CommandContext(ctx, gitPath, "version").Output()
		if v := strings.TrimSpace(string(out)); !gitAtLeast(v, 2, 46) {
			fmt.Fprintf(env.Stderr, "lanyard: warning: profile %q has git_auth = \"bearer\", but %s (%s) cannot send Bearer credentials, so it gets the token as a Basic password; Bearer needs git 2.46 or later\n", p.Name, v, gitPath)
		}
	}
	if _, err := exec.LookPath("git-credential-lanyard"); err != nil {
		fmt.Fprintln(env.Stderr, "lanyard: warning: git-credential-lanyard is not on PATH, so git cannot run it; install it next to lanyard (make install)")
	}
	return nil
}

// gitAtLeast reports whether `git version` output (e.g. "git version
// 2.39.5", "git version 2.47.3.windows.1") names version major.minor or
// later; unreadable output counts as older.
func gitAtLeast(versionOutput string, major, minor int) bool {
	v, ok := strings.CutPrefix(versionOutput, "git version ")
	if !ok {
		return false
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// gitContext is one scheme://host[:port] credential context.
type gitContext struct {
	url      string
	withPath bool // some prefix on this host has a path: git must send it
}

// gitContexts reduces match prefixes to git credential contexts, in order.
// git matches credential.<url>.* on scheme, host and port only (a path in
// the config key never matches), so paths only turn on useHttpPath.
func gitContexts(match []string) []gitContext {
	var out []gitContext
	index := map[string]int{}
	for _, m := range match {
		u, err := url.Parse(m)
		if err != nil || u.Host == "" {
			continue // config.Load rejects these
		}
		key := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, gitContext{url: key})
		}
		if strings.Trim(u.Path, "/") != "" {
			out[i].withPath = true
		}
	}
	return out
}

// gitConfig runs git config in one scope and echoes what it writes.
type gitConfig struct {
	ctx    context.Context
	git    string
	global bool
	out    io.Writer
}

// setupContext makes lanyard the first helper for h; it reports whether
// anything was written.
func (g *gitConfig) setupContext(h gitContext) (bool, error) {
	wrote := false
	key := "credential." + h.url + ".helper"
	existing, err := g.getAll(key)
	if err != nil {
		return false, err
	}
	if !containsLanyard(existing) {
		if len(existing) > 0 {
			if err := g.write("--unset-all", key); err != nil {
				return false, err
			}
		}
		values := []string{"", "lanyard"}
		for _, v := range existing {
			if v != "" {
				values = append(values, v)
			}
		}
		for _, v := range values {
			if err := g.write("--add", key, v); err != nil {
				return false, err
			}
		}
		wrote = true
	}
	if h.withPath {
		key := "credential." + h.url + ".useHttpPath"
		cur, err := g.getAll("--type=bool", key)
		if err != nil {
			return false, err
		}
		if len(cur) == 0 || cur[len(cur)-1] != "true" {
			if err := g.write(key, "true"); err != nil {
				return false, err
			}
			wrote = true
		}
	}
	return wrote, nil
}

// containsLanyard reports whether a helper list already runs lanyard
// ("lanyard", "lanyard --profile P", or a path to git-credential-lanyard).
func containsLanyard(helpers []string) bool {
	for _, h := range helpers {
		f := strings.Fields(h)
		if len(f) > 0 && (f[0] == "lanyard" || filepath.Base(f[0]) == "git-credential-lanyard") {
			return true
		}
	}
	return false
}

func (g *gitConfig) scope() []string {
	if g.global {
		return []string{"config", "--global"}
	}
	return []string{"config", "--local"}
}

// getAll returns every value of a key (none when it is unset).
func (g *gitConfig) getAll(args ...string) ([]string, error) {
	argv := append(g.scope(), "--get-all")
	argv = append(argv, args...)
	cmd := exec.CommandContext(g.ctx, g.git, argv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return nil, nil // git config: the key is not set
	}
	if err != nil {
		return nil, g.explain(argv, err, errb.String())
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"), nil
}

// write runs one git config command and prints it.
func (g *gitConfig) write(args ...string) error {
	argv := append(g.scope(), args...)
	cmd := exec.CommandContext(g.ctx, g.git, argv...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return g.explain(argv, err, errb.String())
	}
	fmt.Fprintln(g.out, shellJoin(append([]string{"git"}, argv...)))
	return nil
}

func (g *gitConfig) explain(argv []string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if !g.global && (strings.Contains(msg, "not in a git directory") || strings.Contains(msg, "inside a git repository")) {
		return fmt.Errorf("not inside a git repository; run lanyard setup git in the repository, or use --global")
	}
	return fmt.Errorf("%s failed: %w: %s", shellJoin(append([]string{"git"}, argv...)), err, msg)
}

// shellJoin quotes words for display so the printed lines can be pasted.
func shellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if w != "" && strings.IndexFunc(w, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+", r))
		}) < 0 {
			q[i] = w
		} else {
			q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
