//go:build !windows

package testbin

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// waitUnlocked returns once the exclusive lock on f can be taken (its
// holder exited), or an error after limit.
func waitUnlocked(f *os.File, limit time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		return fmt.Errorf("the test's agent did not exit within %s of lanyard agent stop", limit)
	}
}
