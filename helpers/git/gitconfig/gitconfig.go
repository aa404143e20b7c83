// Package gitconfig edits git's configuration so that git asks lanyard
// for credentials (lanyard setup git). lanyard-engine runs it; the thin
// git helper does not link it.
package gitconfig

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
)

// AtLeast reports whether `git version` output (e.g. "git version
// 2.39.5", "git version 2.47.3.windows.1") names version major.minor or
// later; unreadable output counts as older.
func AtLeast(versionOutput string, major, minor int) bool {
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

// Editor runs git config in one scope (the global config, or the current
// repository's) and prints every command it runs, so they can be pasted.
type Editor struct {
	Ctx    context.Context
	Git    string // path of git
	Global bool
	Out    io.Writer
}

// Setup makes lanyard the first credential helper for every
// scheme://host[:port] of the match prefixes: it writes, per host,
//
//	credential.<scheme://host>.helper = ""        (reset: other helpers do not run first, nor replay old tokens)
//	credential.<scheme://host>.helper = lanyard   (git runs git-credential-lanyard, which picks the profile by match)
//	credential.<scheme://host>.useHttpPath = true (only when a prefix has a path, so lanyard sees the repository path)
//
// Host-specific helpers that were already configured are kept, after
// lanyard; nothing is written twice. It returns the hosts and whether
// anything was written.
func (g *Editor) Setup(match []string) (hosts []string, wrote bool, err error) {
	for _, h := range gitContexts(match) {
		w, err := g.setupContext(h)
		if err != nil {
			return nil, false, err
		}
		wrote = wrote || w
		hosts = append(hosts, h.url)
	}
	return hosts, wrote, nil
}

// setupContext makes lanyard the first helper for h; it reports whether
// anything was written.
func (g *Editor) setupContext(h gitContext) (bool, error) {
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

func (g *Editor) scope() []string {
	if g.Global {
		return []string{"config", "--global"}
	}
	return []string{"config", "--local"}
}

// getAll returns every value of a key (none when it is unset).
func (g *Editor) getAll(args ...string) ([]string, error) {
	argv := append(g.scope(), "--get-all")
	argv = append(argv, args...)
	cmd := exec.CommandContext(g.Ctx, g.Git, argv...)
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
func (g *Editor) write(args ...string) error {
	argv := append(g.scope(), args...)
	cmd := exec.CommandContext(g.Ctx, g.Git, argv...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return g.explain(argv, err, errb.String())
	}
	fmt.Fprintln(g.Out, shellJoin(append([]string{"git"}, argv...)))
	return nil
}

func (g *Editor) explain(argv []string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if !g.Global && (strings.Contains(msg, "not in a git directory") || strings.Contains(msg, "inside a git repository")) {
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
