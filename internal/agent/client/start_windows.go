//go:build windows

package client

import (
	"os/exec"
)

// detach is never reached on Windows: Off is always true there.
func detach(*exec.Cmd) {}

// CheckSocket has nothing to check on Windows, which runs no agent.
func CheckSocket(string) error { return nil }
