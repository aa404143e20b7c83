//go:build windows

package bench

import "os/exec"

// canKillGroups is false: Windows runs no agent, and the kill loop is n/a.
const canKillGroups = false

func ownGroup(*exec.Cmd) {}

func killGroup(int, bool) {}
