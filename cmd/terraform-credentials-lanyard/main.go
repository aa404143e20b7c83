// Command terraform-credentials-lanyard is the Terraform and OpenTofu
// credentials helper for lanyard profiles: Terraform asks it for a host's
// token and gets a cached, refreshed OAuth token. See helpers/terraform.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/helpers/terraform"
)

func main() { os.Exit(terraform.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil)) }
