package peercred

import (
	"net"

	"golang.org/x/sys/unix"
)

// get reads LOCAL_PEERCRED (what getpeereid(3) reads) and LOCAL_PEERPID.
func get(c *net.UnixConn) (Cred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Cred{}, err
	}
	var cred *unix.Xucred
	var pid int
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		if cred, cerr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED); cerr == nil {
			pid, _ = unix.GetsockoptInt(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERPID)
		}
	}); err != nil {
		return Cred{}, err
	}
	if cerr != nil {
		return Cred{}, cerr
	}
	return Cred{PID: int32(pid), UID: cred.Uid}, nil
}

// exe is not looked up here (no /proc).
func exe(int32) string { return "" }
