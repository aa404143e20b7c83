//go:build !windows

package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/lanyardhq/lanyard/internal/peercred"
)

// CheckSocket refuses a socket, or a directory holding it, that another
// user owns or that others could use or replace: connecting there could hand
// tokens to, or take them from, someone else. A missing socket is no
// error here (the dial reports it).
func CheckSocket(path string) error {
	_, err := checkSocket(path, false)
	return err
}

// checkSocket is CheckSocket, returning the uid whose process must serve
// the socket (verifyPeer checks it after the dial). pinned
// (LANYARD_AGENT_SOCK names the socket) allows one exception: a socket
// another uid owns, such as a forward mounted into a container whose user
// is not the socket's owner. It is used only in a directory that no one
// but us, root or the socket's owner can write to, and only when the
// process serving it runs as the socket's owner: a socket someone else put
// there fails the peer check.
func checkSocket(path string, pinned bool) (uint32, error) {
	me := uint32(os.Getuid())
	owner := me
	fi, err := os.Lstat(path)
	if err == nil {
		st, ok := fi.Sys().(*syscall.Stat_t)
		switch {
		case fi.Mode()&os.ModeSocket == 0:
			return 0, fmt.Errorf("%s is not a socket; remove it or set LANYARD_AGENT_SOCK to another path", path)
		case !ok:
			return me, nil
		case st.Uid != me && !pinned:
			return 0, fmt.Errorf("the agent socket %s belongs to uid %d, not to you (uid %d); remove it or set LANYARD_AGENT_SOCK to a path of yours", path, st.Uid, me)
		case st.Uid == me && fi.Mode().Perm()&0o077 != 0:
			return 0, fmt.Errorf("the agent socket %s is accessible to others (mode %o); run: chmod 600 %s", path, fi.Mode().Perm(), path)
		}
		// Another uid's socket (pinned) may be open to all: a forward
		// --allow-uid is mode 0666, and the serving peer is checked.
		owner = st.Uid
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return owner, nil
	}
	dst, ok := di.Sys().(*syscall.Stat_t)
	if !ok {
		return owner, nil
	}
	sticky := di.Mode()&os.ModeSticky != 0
	switch {
	case owner == me && dst.Uid != me && !(dst.Uid == 0 && sticky):
		return 0, fmt.Errorf("the agent socket's directory %s belongs to uid %d, not to you (uid %d); remove it or set LANYARD_AGENT_SOCK to a path in a directory of yours", dir, dst.Uid, me)
	case owner != me && dst.Uid != me && dst.Uid != 0 && dst.Uid != owner:
		return 0, fmt.Errorf("the agent socket's directory %s belongs to uid %d, neither you, root nor the socket's owner (uid %d); mount the socket elsewhere", dir, dst.Uid, owner)
	case (dst.Uid == me || owner != me) && di.Mode().Perm()&0o022 != 0 && !sticky:
		return 0, fmt.Errorf("the agent socket's directory %s is writable by others (mode %o): anyone could put a socket there; run: chmod 700 %s, or use a directory only its owner can write", dir, di.Mode().Perm(), dir)
	}
	return owner, nil
}

// verifyPeer checks that the process serving conn runs as owner: the
// socket file's owner is not enough (a file can be left or replaced; the
// listening process's credentials cannot be forged). Where the system
// gives no peer credentials, our own socket passes on the file checks
// alone and another uid's is refused.
func verifyPeer(conn net.Conn, owner uint32) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return &SecurityError{errors.New("the agent connection is not a unix socket")}
	}
	uid, err := peercred.UID(uc)
	if errors.Is(err, peercred.ErrUnsupported) && owner == uint32(os.Getuid()) {
		return nil
	}
	if err != nil {
		return &SecurityError{fmt.Errorf("cannot check who serves the agent socket: %w", err)}
	}
	if uid != owner {
		return &SecurityError{fmt.Errorf("the agent socket belongs to uid %d but a process of uid %d serves it; refusing it", owner, uid)}
	}
	return nil
}

// ErrForwardGone means LANYARD_AGENT_SOCK names a forward that no longer
// answers.
var ErrForwardGone = errors.New("the forwarded agent socket no longer answers")

// forwardGone reports, when nothing answers at path, whether path is a
// forward that is gone (a socket without the agent's lock file next to it,
// or another uid's): the helper must say so and stop, never start an
// agent of its own there (in a container, that agent would have no
// profiles and hide the real one). Only a pinned socket can be a forward.
func forwardGone(path string, pinned bool) error {
	if !pinned {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil
	}
	_, lockErr := os.Stat(path + ".lock")
	st, ok := fi.Sys().(*syscall.Stat_t)
	if lockErr == nil && ok && st.Uid == uint32(os.Getuid()) {
		return nil // an agent's socket, left by an agent that died
	}
	return &SecurityError{fmt.Errorf("%w: LANYARD_AGENT_SOCK=%s names a forward (lanyard agent forward) that has ended or expired; ask for a new forward on the agent's machine, or unset LANYARD_AGENT_SOCK", ErrForwardGone, path)}
}
