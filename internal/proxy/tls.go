package proxy

import (
	"crypto/tls"
	"net"
)

// tlsServer is the proxy's TLS side toward the client: HTTP/1.1 only (one
// request at a time per connection keeps the bounds simple), TLS 1.2+.
func tlsServer(conn net.Conn, leaf *tls.Certificate) *tls.Conn {
	return tls.Server(conn, &tls.Config{
		Certificates: []tls.Certificate{*leaf},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	})
}
