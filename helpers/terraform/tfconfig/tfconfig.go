// Package tfconfig sets up Terraform's and OpenTofu's CLI configuration for
// lanyard setup terraform: the helper in the plugin directory, and the
// credentials_helper block in the CLI configuration file.
package tfconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lanyardhq/lanyard/internal/atomicfile"
)

// HelperName is the helper's name in the credentials_helper block.
const HelperName = "lanyard"

// Block is what the CLI configuration needs.
const Block = `credentials_helper "lanyard" {}`

// Paths are where Terraform looks.
type Paths struct {
	// Config is the CLI configuration file: $TF_CLI_CONFIG_FILE, else
	// ~/.terraformrc.
	Config string
	// PluginDir is ~/.terraform.d/plugins, where Terraform and OpenTofu
	// look for terraform-credentials-NAME.
	PluginDir string
}

// PathsFromEnv returns the paths for this user.
func PathsFromEnv(getenv func(string) string) (Paths, error) {
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return Paths{}, fmt.Errorf("cannot find the home directory for Terraform's configuration: %w", err)
		}
	}
	p := Paths{Config: filepath.Join(home, ".terraformrc"), PluginDir: filepath.Join(home, ".terraform.d", "plugins")}
	if c := getenv("TF_CLI_CONFIG_FILE"); c != "" {
		p.Config = c
	}
	return p, nil
}

// Change says what a step did.
type Change struct {
	Path    string
	Changed bool
}

// ErrOtherHelper: the CLI configuration names another credentials helper;
// Terraform allows one.
var ErrOtherHelper = errors.New("the CLI configuration has another credentials_helper")

var blockRE = regexp.MustCompile(`(?m)^\s*credentials_helper\s+"?([^"\s{]+)"?\s*\{`)

// EnableHelper adds the credentials_helper block to the CLI configuration
// file at path, keeping the rest; a file that has it is left alone.
func EnableHelper(path string) (Change, error) {
	ch := Change{Path: path}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ch, err
	}
	if m := blockRE.FindSubmatch(data); m != nil {
		if string(m[1]) == HelperName {
			return ch, nil
		}
		return ch, fmt.Errorf("%w: %s has credentials_helper %q; replace that block with %s", ErrOtherHelper, path, m[1], Block)
	}
	body := string(data)
	if body != "" && !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	if body != "" {
		body += "\n"
	}
	body += Block + "\n"
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return ch, err
	}
	ch.Changed = true
	return ch, atomicfile.Write(path, []byte(body), mode)
}

// InstallHelper links dir/NAME to helper (an absolute path), where
// Terraform finds it; a link that points there already is left alone. A
// link, not a copy: the helper finds lanyard-engine next to its real path.
func InstallHelper(dir, name, helper string) (Change, error) {
	dst := filepath.Join(dir, name)
	ch := Change{Path: dst}
	if cur, err := os.Readlink(dst); err == nil && cur == helper {
		return ch, nil
	}
	if fi, err := os.Lstat(dst); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
		return ch, fmt.Errorf("%s exists and is not a link lanyard made; remove it, then run setup again", dst)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ch, err
	}
	tmp := dst + ".lanyard-tmp"
	os.Remove(tmp)
	if err := os.Symlink(helper, tmp); err != nil {
		return ch, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return ch, err
	}
	ch.Changed = true
	return ch, nil
}
