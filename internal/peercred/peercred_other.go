//go:build !linux && !darwin

package peercred

import "net"

func get(*net.UnixConn) (Cred, error) { return Cred{}, ErrUnsupported }

func exe(int32) string { return "" }
