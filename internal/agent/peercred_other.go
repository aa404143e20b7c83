//go:build !linux && !darwin

package agent

import (
	"errors"
	"net"
)

// peerUID is not implemented here: the agent refuses every connection
// rather than serve one it cannot check. Use LANYARD_AGENT=off.
func peerUID(*net.UnixConn) (uint32, error) {
	return 0, errors.New("the lanyard agent cannot check peer credentials on this system; set LANYARD_AGENT=off")
}
