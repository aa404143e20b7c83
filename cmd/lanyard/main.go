// Command lanyard gets OAuth 2.0 / OIDC tokens once and hands them out,
// cached and fresh, to scripts and tools.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
