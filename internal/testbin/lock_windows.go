//go:build windows

package testbin

import (
	"os"
	"time"
)

// waitUnlocked has nothing to wait for on Windows, which runs no agent.
func waitUnlocked(*os.File, time.Duration) error { return nil }
