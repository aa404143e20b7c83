//go:build !linux && !windows

package client

import (
	"errors"
	"net"
)

// serverUID is not implemented here: a socket of another uid is refused.
func serverUID(*net.UnixConn) (uint32, error) {
	return 0, errors.New("peer credentials of the agent socket are checked on Linux only")
}
