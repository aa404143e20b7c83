//go:build !windows

package client

import (
	"os/exec"
	"syscall"
)

// detach puts the agent in a session of its own: no controlling terminal,
// not in the caller's process group, so Ctrl-C in the caller's terminal and
// a kill of the caller's group never reach it.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
