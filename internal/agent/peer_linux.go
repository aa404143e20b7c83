package agent

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// peerOf returns who is at the other end of c (SO_PEERCRED, taken by the
// kernel at connect time), with its executable when /proc shows it.
func peerOf(c *net.UnixConn) (peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return peer{}, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return peer{}, err
	}
	if cerr != nil {
		return peer{}, cerr
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cred.Pid))
	return peer{PID: cred.Pid, UID: cred.Uid, Exe: exe}, nil
}
