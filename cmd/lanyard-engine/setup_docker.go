package main

import (
	"fmt"
	"os/exec"

	"github.com/lanyardhq/lanyard/helpers/docker"
	"github.com/lanyardhq/lanyard/helpers/docker/dockerconfig"
	"github.com/lanyardhq/lanyard/internal/config"
)

// SetupDockerCmd writes docker's credHelpers entry, which docker, crane,
// skopeo and buildah all read.
type SetupDockerCmd struct {
	Profile  string `arg:"" help:"Profile name." predictor:"profile"`
	Registry string `placeholder:"HOST" help:"Registry host (HOST or HOST:PORT); default: the host of the profile's first match."`
}

// Run sets credHelpers[HOST] = "lanyard" in $DOCKER_CONFIG/config.json
// (default ~/.docker/config.json), keeping everything else in the file.
// Running it again changes nothing.
func (c *SetupDockerCmd) Run(env *Env, cfg *config.File) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	registry := c.Registry
	if registry == "" {
		if len(p.Match) == 0 {
			return fmt.Errorf("profile %q has no match list, so lanyard cannot tell its registry; add match = [\"https://REGISTRY/\"] at %s:%d, or pass --registry HOST", p.Name, p.File, p.Line)
		}
		registry = p.Match[0]
	}
	key, err := dockerconfig.CredHelperKey(registry)
	if err != nil {
		return err
	}
	// The helper picks the profile by match: an entry it would answer with
	// "not found" is useless, so refuse it.
	got := dockerconfig.Resolve(cfg, key)
	if got == nil {
		return fmt.Errorf("profile %q does not match registry %s, so the helper would not answer for it; add \"https://%s/\" to its match list at %s:%d", p.Name, key, key, p.File, p.Line)
	}
	ch, err := dockerconfig.SetCredHelper(dockerconfig.ConfigPath(env.Getenv), key, dockerconfig.HelperName)
	if err != nil {
		return err
	}
	entry := fmt.Sprintf("credHelpers[%q] = %q", key, dockerconfig.HelperName)
	switch {
	case !ch.Changed:
		fmt.Fprintf(env.Stdout, "%s: %s already; nothing to do\n", ch.Path, entry)
	case ch.Created:
		fmt.Fprintf(env.Stdout, "%s: created with %s\n", ch.Path, entry)
	case ch.Was != "":
		fmt.Fprintf(env.Stdout, "%s: set %s (was %q)\n", ch.Path, entry, ch.Was)
	default:
		fmt.Fprintf(env.Stdout, "%s: added %s\n", ch.Path, entry)
	}
	fmt.Fprintf(env.Stdout, "docker, crane and skopeo now get %s's tokens for %s from %s\n", got.Name, key, docker.Name)
	if got.Name != p.Name {
		fmt.Fprintf(env.Stderr, "note: clients that ask for %s by host (docker, skopeo, crane with credHelpers) get profile %q's token, since it claims the whole host; profile %q serves only clients that send repository paths (credsStore \"lanyard\" with crane)\n", key, got.Name, p.Name)
	}
	if ch.StaleAuth {
		fmt.Fprintf(env.Stderr, "note: auths[%q] in %s still holds credentials from an earlier docker login; credHelpers now takes precedence (remove that entry to drop them)\n", key, ch.Path)
	}
	if _, err := exec.LookPath(docker.Name); err != nil {
		fmt.Fprintf(env.Stderr, "warning: %s is not on PATH, and clients will fail to run it; install it (make install) next to lanyard\n", docker.Name)
	}
	return nil
}
