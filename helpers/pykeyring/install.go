package pykeyring

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed keyrings/lanyard.py
var backendSource string

// Version is the version recorded in the installed dist-info.
const Version = "1.0.0"

// distInfo is the dist-info directory keyring's entry point lookup
// (importlib.metadata, group keyring.backends) finds in the user site.
const distInfo = "keyrings_lanyard-" + Version + ".dist-info"

// Interpreter is what Install learns about a Python interpreter.
type Interpreter struct {
	Path     string `json:"-"`
	Version  string `json:"version"`
	UserSite string `json:"site"`
	Enabled  bool   `json:"enabled"`
	// Keyring is the keyring library's version, "" when the interpreter
	// cannot import it.
	Keyring string `json:"keyring"`
}

const probe = `import json, site, sys
try:
    import importlib.metadata as m
    kr = m.version("keyring")
except Exception:
    kr = ""
print(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3], "site": site.getusersitepackages(), "enabled": bool(site.ENABLE_USER_SITE), "keyring": kr}))`

// Probe runs python to find its user site and keyring version.
func Probe(ctx context.Context, python string) (*Interpreter, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	path, err := exec.LookPath(python)
	if err != nil {
		return nil, fmt.Errorf("python interpreter %q not found: %w; pass --python with the interpreter pip, twine or the keyring command runs under", python, err)
	}
	cmd := exec.CommandContext(ctx, path, "-c", probe)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s does not run as a Python 3 interpreter: %v: %s", path, err, strings.TrimSpace(errb.String()))
	}
	in := &Interpreter{Path: path}
	if err := json.Unmarshal(out.Bytes(), in); err != nil {
		return nil, fmt.Errorf("%s: unexpected answer to the probe: %v", path, err)
	}
	if !in.Enabled {
		return nil, fmt.Errorf("%s has the user site turned off (a virtual environment, or python -s / PYTHONNOUSERSITE): keyring there cannot find keyrings.lanyard in %s; pass --python with the system interpreter behind pip, twine or the keyring command", path, in.UserSite)
	}
	if in.UserSite == "" || !filepath.IsAbs(in.UserSite) {
		return nil, fmt.Errorf("%s reports no absolute user site directory (%q)", path, in.UserSite)
	}
	return in, nil
}

// Installed lists the files Install writes, relative to the user site.
func Installed() []string {
	return []string{
		filepath.Join("keyrings", "lanyard.py"),
		filepath.Join(distInfo, "METADATA"),
		filepath.Join(distInfo, "entry_points.txt"),
		filepath.Join(distInfo, "INSTALLER"),
		filepath.Join(distInfo, "RECORD"),
	}
}

// Files returns what Install writes (relative path -> content). lanyard is
// the absolute path of the lanyard binary, used by the backend when lanyard
// is not on PATH.
func Files(lanyard string) map[string]string {
	src := strings.Replace(backendSource, `LANYARD = ""`, "LANYARD = "+strconv.Quote(lanyard), 1)
	files := map[string]string{
		filepath.Join("keyrings", "lanyard.py"):     src,
		filepath.Join(distInfo, "METADATA"):         "Metadata-Version: 2.1\nName: keyrings.lanyard\nVersion: " + Version + "\nSummary: lanyard's OAuth tokens for pip and twine (keyring backend)\nRequires-Dist: keyring\n",
		filepath.Join(distInfo, "entry_points.txt"): "[keyring.backends]\nlanyard = keyrings.lanyard\n",
		filepath.Join(distInfo, "INSTALLER"):        "lanyard\n",
	}
	// RECORD lets pip uninstall keyrings.lanyard remove the files.
	var rec strings.Builder
	for _, name := range Installed() {
		rec.WriteString(filepath.ToSlash(name) + ",,\n")
	}
	files[filepath.Join(distInfo, "RECORD")] = rec.String()
	return files
}

// Change is one file Install wrote or found as it should be.
type Change struct {
	Path    string
	Written bool
}

// Install writes keyrings.lanyard into site (an interpreter's user site).
// It writes no keyrings/__init__.py: keyrings is a namespace package that
// other backends (keyrings.alt) share. Files already as they should be are
// left alone, so running it again changes nothing.
func Install(site, lanyard string) ([]Change, error) {
	var changes []Change
	files := Files(lanyard)
	for _, name := range Installed() {
		path := filepath.Join(site, name)
		want := files[name]
		if got, err := os.ReadFile(path); err == nil && string(got) == want {
			changes = append(changes, Change{Path: path})
			continue
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return changes, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return changes, fmt.Errorf("could not create %s: %w", filepath.Dir(path), err)
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(want), 0o644); err != nil {
			return changes, fmt.Errorf("could not write %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return changes, fmt.Errorf("could not write %s: %w", path, err)
		}
		changes = append(changes, Change{Path: path, Written: true})
	}
	return changes, nil
}

// IndexURL is the index URL to suggest for a profile's match prefix: the
// prefix itself when it has a path, else PREFIX/simple/.
func IndexURL(match string) string {
	m := strings.TrimSuffix(strings.TrimSpace(match), "/")
	if i := strings.Index(m, "://"); i >= 0 && !strings.Contains(m[i+3:], "/") {
		return m + "/simple/"
	}
	return m + "/"
}

// WithUser puts username into an https URL's userinfo, as pip's subprocess
// provider needs (it asks keyring only for URLs that carry a username).
func WithUser(rawURL, username string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	return scheme + "://" + username + "@" + rest
}
