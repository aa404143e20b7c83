//go:build windows

package client

import (
	"net"
	"os/exec"
)

// Windows runs no agent (env.Env.AgentOff is always true there): these
// are never reached.

func detach(*exec.Cmd) {}

// CheckSocket has nothing to check on Windows, which runs no agent.
func CheckSocket(string) error { return nil }

func checkSocket(string, bool) (uint32, error) { return 0, nil }

func verifyPeer(net.Conn, uint32) error { return nil }

func forwardGone(string, bool) error { return nil }
