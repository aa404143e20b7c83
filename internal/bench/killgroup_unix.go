//go:build !windows

package bench

import (
	"os/exec"
	"syscall"
)

const canKillGroups = true

// ownGroup starts cmd in a process group of its own, as a shell job is.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends the group of pid SIGKILL, or SIGINT (Ctrl-C in a
// terminal) when interrupt is set.
func killGroup(pid int, interrupt bool) {
	sig := syscall.SIGKILL
	if interrupt {
		sig = syscall.SIGINT
	}
	_ = syscall.Kill(-pid, sig)
}
