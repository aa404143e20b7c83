package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lanyardhq/lanyard/helpers/pykeyring"
	"github.com/lanyardhq/lanyard/internal/config"
)

// SetupPipCmd installs the keyring backend pip and twine ask for index
// credentials.
type SetupPipCmd struct {
	Profile string `arg:"" optional:"" help:"Profile whose pip and twine settings to print (the backend serves every profile by its match)." predictor:"profile"`
	Python  string `default:"python3" placeholder:"PYTHON" help:"The interpreter pip or twine runs under (keyring import), or the one behind the keyring command on PATH (pip --keyring-provider subprocess)."`
}

// Run writes keyrings.lanyard into PYTHON's user site and prints the pip
// and twine settings that use it. Running it again changes nothing.
func (c *SetupPipCmd) Run(ctx context.Context, env *Env, cfg *config.File) error {
	var p *config.Profile
	if c.Profile != "" {
		var err error
		if p, err = cfg.Profile(c.Profile); err != nil {
			return err
		}
		if len(p.Match) == 0 {
			return fmt.Errorf("profile %q has no match list, so keyrings.lanyard would never answer for it; add match = [\"https://INDEX-HOST/\"] at %s:%d", p.Name, p.File, p.Line)
		}
	}
	py, err := pykeyring.Probe(ctx, c.Python)
	if err != nil {
		return err
	}
	lanyard, err := os.Executable()
	if err != nil {
		return err
	}
	// The thin front next to lanyard-engine answers pip-credential.
	lanyard = filepath.Join(filepath.Dir(lanyard), "lanyard")
	changes, err := pykeyring.Install(py.UserSite, lanyard)
	if err != nil {
		return err
	}
	written := 0
	for _, ch := range changes {
		if ch.Written {
			written++
			fmt.Fprintf(env.Stdout, "wrote %s\n", ch.Path)
		}
	}
	if written == 0 {
		fmt.Fprintf(env.Stdout, "keyrings.lanyard is installed in %s already; nothing written\n", py.UserSite)
	}
	if py.Keyring == "" {
		fmt.Fprintf(env.Stderr, "note: %s (Python %s) cannot import keyring, so pip's import provider finds nothing there; use pip --keyring-provider subprocess with a keyring command whose interpreter has it (Debian: apt install python3-keyring; then lanyard setup pip --python /usr/bin/python3)\n", py.Path, py.Version)
	}
	if p == nil {
		return nil
	}
	user := p.PipUsername
	if user == "" {
		user = pykeyring.DefaultUsername
	}
	index := pykeyring.IndexURL(p.Match[0])
	fmt.Fprintf(env.Stdout, `
pip with keyring importable in its interpreter (pip 23.1+; older pip does this by default):
  pip install --keyring-provider import --index-url %[1]s PACKAGE
pip with the keyring command on PATH (the username must be in the URL):
  pip install --keyring-provider subprocess --index-url %[2]s PACKAGE
  or: pip config set global.keyring-provider subprocess; pip config set global.index-url %[2]s
twine (keyring import):
  twine upload --repository-url UPLOAD-URL -u %[3]s dist/*
profile %[4]s serves %[5]v; the username sent is %[3]q (pip_username)
`, index, pykeyring.WithUser(index, user), user, p.Name, p.Match)
	return nil
}
