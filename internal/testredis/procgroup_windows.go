//go:build windows

package testredis

import "os/exec"

// Windows has no process groups to kill; Redis tests run on Linux and
// macOS, this keeps the package compiling for make cross.
func newProcessGroup(*exec.Cmd) {}

func killProcessGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
