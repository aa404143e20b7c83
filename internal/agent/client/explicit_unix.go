//go:build !windows

package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// ErrForwardGone means LANYARD_AGENT_SOCK names a forward that no longer
// answers.
var ErrForwardGone = errors.New("the forwarded agent socket no longer answers")

// checkPath is CheckSocket, with one exception: a socket that
// LANYARD_AGENT_SOCK names and another uid owns, such as a forward mounted
// into a container whose user is not the socket's owner. Such a socket is
// used only when the process serving it runs as the socket file's owner
// (verifyPeer after the dial: a socket someone else put there fails), and
// only in a directory that no one else can write to. It returns the owner
// to verify, or -1 when the socket is ours.
func (c *Client) checkPath(path string) (int64, error) {
	err := CheckSocket(path)
	if err == nil {
		return -1, nil
	}
	if c.Getenv("LANYARD_AGENT_SOCK") == "" {
		return -1, &SecurityError{err}
	}
	fi, lerr := os.Lstat(path)
	if lerr != nil || fi.Mode()&os.ModeSocket == 0 {
		return -1, &SecurityError{err}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, &SecurityError{err}
	}
	dir := filepath.Dir(path)
	di, derr := os.Stat(dir)
	if derr != nil {
		return -1, &SecurityError{err}
	}
	dst, ok := di.Sys().(*syscall.Stat_t)
	me := uint32(os.Getuid())
	switch {
	case !ok:
		return -1, &SecurityError{err}
	case dst.Uid != me && dst.Uid != 0 && dst.Uid != st.Uid:
		return -1, &SecurityError{fmt.Errorf("the agent socket's directory %s belongs to uid %d, neither you, root nor the socket's owner (uid %d); mount the socket elsewhere", dir, dst.Uid, st.Uid)}
	case di.Mode().Perm()&0o022 != 0 && di.Mode()&os.ModeSticky == 0:
		return -1, &SecurityError{fmt.Errorf("the agent socket's directory %s is writable by others (mode %o): anyone could put a socket there; mount it in a directory only its owner can write", dir, di.Mode().Perm())}
	}
	return int64(st.Uid), nil
}

// verifyPeer checks that the process serving conn runs as owner (when
// owner is not -1).
func verifyPeer(conn net.Conn, owner int64) error {
	if owner < 0 {
		return nil
	}
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return &SecurityError{errors.New("the agent connection is not a unix socket")}
	}
	uid, err := serverUID(uc)
	if err != nil {
		return &SecurityError{fmt.Errorf("cannot check who serves the agent socket: %w", err)}
	}
	if int64(uid) != owner {
		return &SecurityError{fmt.Errorf("the agent socket belongs to uid %d but uid %d serves it; refusing it", owner, uid)}
	}
	return nil
}

// forwardGone reports, when nothing answers at path, whether path is a
// forward (a socket without the agent's lock file next to it, or another
// uid's) that is gone: the helper must say so and stop, never start an
// agent of its own there (in a container, that agent would have no
// profiles and hide the real one).
func (c *Client) forwardGone(path string) error {
	if c.Getenv("LANYARD_AGENT_SOCK") == "" {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil
	}
	_, lockErr := os.Stat(path + ".lock")
	st, ok := fi.Sys().(*syscall.Stat_t)
	if lockErr == nil && ok && st.Uid == uint32(os.Getuid()) {
		return nil // an agent's socket left by an agent that died
	}
	return &SecurityError{fmt.Errorf("%w: LANYARD_AGENT_SOCK=%s names a forward (lanyard agent forward) that has ended or expired; ask for a new forward on the agent's machine, or unset LANYARD_AGENT_SOCK", ErrForwardGone, path)}
}
