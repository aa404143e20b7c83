package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lanyardhq/lanyard/helpers/terraform/tfconfig"
	"github.com/lanyardhq/lanyard/internal/config"
)

// terraformHelper is the helper binary, installed next to lanyard-engine.
const terraformHelper = "terraform-credentials-lanyard"

// SetupTerraformCmd installs the credentials helper where Terraform and
// OpenTofu look for it and enables it in the CLI configuration.
type SetupTerraformCmd struct {
	Profile string `arg:"" help:"Profile name (it must match https://HOST/ of the registry or TFE host)." predictor:"profile"`
}

// Run links ~/.terraform.d/plugins/terraform-credentials-lanyard to the
// installed helper and adds credentials_helper "lanyard" {} to
// $TF_CLI_CONFIG_FILE or ~/.terraformrc. Running it again changes nothing.
func (c *SetupTerraformCmd) Run(env *Env, cfg *config.File) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if len(p.Match) == 0 {
		return fmt.Errorf("profile %q has no match list, so the helper would answer for no host; add match = [\"https://HOST/\"] at %s:%d", p.Name, p.File, p.Line)
	}
	paths, err := tfconfig.PathsFromEnv(env.Getenv)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find lanyard's own binary: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	helper := filepath.Join(filepath.Dir(exe), terraformHelper)
	if _, err := os.Stat(helper); err != nil {
		return fmt.Errorf("%s is missing next to %s; install all of lanyard's binaries together (make install)", terraformHelper, exe)
	}
	link, err := tfconfig.InstallHelper(paths.PluginDir, terraformHelper, helper)
	if err != nil {
		return err
	}
	if link.Changed {
		fmt.Fprintf(env.Stdout, "%s: linked to %s\n", link.Path, helper)
	} else {
		fmt.Fprintf(env.Stdout, "%s: links to %s already; nothing to do\n", link.Path, helper)
	}
	block, err := tfconfig.EnableHelper(paths.Config)
	if err != nil {
		return err
	}
	if block.Changed {
		fmt.Fprintf(env.Stdout, "%s: added %s\n", block.Path, tfconfig.Block)
	} else {
		fmt.Fprintf(env.Stdout, "%s: has %s already; nothing to do\n", block.Path, tfconfig.Block)
	}
	fmt.Fprintf(env.Stdout, "terraform and tofu now ask lanyard for the hosts profile %s matches (%s)\n", p.Name, p.Match[0])
	return nil
}
