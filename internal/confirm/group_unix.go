//go:build !windows

package confirm

import (
	"os/exec"
	"syscall"
)

// setpgid puts the program in a process group of its own, so a hung
// program is killed with what it started.
func setpgid(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
