// Package peercred says who is at the other end of a unix socket, from
// the credentials the kernel took at connect time (not forgeable by the
// peer): the agent checks its callers with it, and a helper checks the
// process serving the agent socket. It links nothing but x/sys, so the
// thin helpers share it.
package peercred

import (
	"errors"
	"net"
)

// Cred is a socket peer. PID and Exe are zero where the system does not
// tell them (Exe also when /proc hides another user's process).
type Cred struct {
	PID int32
	UID uint32
	Exe string
}

// ErrUnsupported means this system gives no peer credentials.
var ErrUnsupported = errors.New("peer credentials of unix sockets are not available on this system")

// UID is the uid of the process at the other end of c.
func UID(c *net.UnixConn) (uint32, error) {
	cr, err := get(c)
	return cr.UID, err
}

// Of is the peer of c with its executable, for the audit log.
func Of(c *net.UnixConn) (Cred, error) {
	cr, err := get(c)
	if err == nil {
		cr.Exe = exe(cr.PID)
	}
	return cr, err
}
