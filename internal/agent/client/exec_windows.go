//go:build windows

package client

import (
	"errors"
	"os"
	"os/exec"
)

const exeSuffix = ".exe"

// ExecEngine runs lanyard-engine with the same arguments and stdio and exits
// with its exit code (Windows has no exec). It returns only on failure.
func ExecEngine(args []string) error {
	p, err := EnginePath(os.Getenv)
	if err != nil {
		return err
	}
	cmd := exec.Command(p, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		return err
	}
	os.Exit(0)
	return nil
}
