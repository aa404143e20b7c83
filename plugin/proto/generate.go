// Package proto holds the generated gRPC code of lanyard's grant plugin
// protocol (grant.proto). Plugin authors use the plugin package instead.
package proto

//go:generate sh generate.sh
