//go:build !linux

package agent

import "net"

// peerOf returns the peer's uid (no pid or executable on this system).
func peerOf(c *net.UnixConn) (peer, error) {
	uid, err := peerUID(c)
	return peer{UID: uid}, err
}
