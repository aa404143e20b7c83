package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// ExecCmd runs a command with the token in its environment.
type ExecCmd struct {
	Profile string   `arg:"" help:"Profile name." predictor:"profile"`
	Command []string `arg:"" passthrough:"" help:"Command and arguments (after --)."`
}

// Run starts the command with LANYARD_TOKEN set (never in its arguments)
// and returns its exit status.
func (c *ExecCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	args := c.Command
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("no command given; use: lanyard exec PROFILE -- COMMAND [ARGS...]")
	}
	t, err := eng.Token(ctx, p, engine.Options{Interactive: env.caller().CanPrompt()})
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.Stdin, env.Stdout, env.Stderr
	// Never the keyring passphrase: the command is the user's, but it
	// need not be able to decrypt every secret of the file backend.
	cmd.Env = append(config.ChildEnv(os.Environ()), "LANYARD_TOKEN="+engine.Handout(t, p).Value, "LANYARD_PROFILE="+p.Name)
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &exitCodeError{Code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("could not run %s: %w", args[0], err)
	}
	return nil
}
