//go:build !windows

package agent

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/lanyardhq/lanyard/internal/agent/client"
)

// Listen takes the socket at path: it creates its directory (0700), takes
// an exclusive lock next to it (held for the agent's lifetime; the kernel
// drops it when the agent dies), replaces a stale socket left by a dead
// agent, and listens, the socket mode 0600. ErrRunning means a live agent
// holds the lock. close releases everything.
func Listen(path string) (ln net.Listener, close func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, socketError(path, err)
	}
	if err := client.CheckSocket(path); err != nil {
		return nil, nil, err
	}
	// O_NOFOLLOW: a symlink planted there must not make us create or
	// lock a file elsewhere.
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, nil, socketError(path, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, ErrRunning
		}
		return nil, nil, socketError(path, err)
	}
	// We hold the lock: a socket file there is a dead agent's.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, nil, socketError(path, err)
	}
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		lock.Close()
		return nil, nil, socketError(path, err)
	}
	return l, func() { l.Close(); lock.Close() }, nil
}

// ListenForward listens on an extra socket (lanyard agent forward): no
// lock, a path of its own, mode 0600.
func ListenForward(path string) (net.Listener, error) {
	if err := client.CheckSocket(path); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, socketError(path, err)
	}
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, socketError(path, err)
	}
	return l, nil
}
