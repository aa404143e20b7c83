// Command cargo-credential-lanyard is cargo's credential provider for
// lanyard profiles: cargo asks it for a registry's token and gets a cached,
// refreshed OAuth token. See helpers/cargo.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/helpers/cargo"
)

func main() { os.Exit(cargo.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil)) }
