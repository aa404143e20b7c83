package peercred

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// get reads SO_PEERCRED: on the accepting side the client's credentials,
// on the connecting side the listener's.
func get(c *net.UnixConn) (Cred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Cred{}, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Cred{}, err
	}
	if cerr != nil {
		return Cred{}, cerr
	}
	return Cred{PID: cred.Pid, UID: cred.Uid}, nil
}

func exe(pid int32) string {
	if pid <= 0 {
		return ""
	}
	p, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return p
}
