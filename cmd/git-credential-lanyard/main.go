// Command git-credential-lanyard is git's credential helper for lanyard
// profiles: git asks it for the credentials of an HTTPS remote and gets a
// cached, refreshed OAuth token as the password. See helpers/git.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/helpers/git"
)

func main() { os.Exit(git.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil)) }
