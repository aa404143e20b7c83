//go:build !windows

package client

import (
	"os"
	"syscall"
)

const exeSuffix = ""

// ExecEngine replaces the running process with lanyard-engine, same
// arguments (args[0] excluded), environment and stdio. It returns only on
// failure.
func ExecEngine(args []string) error {
	p, err := EnginePath(os.Getenv)
	if err != nil {
		return err
	}
	return syscall.Exec(p, append([]string{EngineName}, args...), os.Environ())
}
