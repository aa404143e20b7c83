// Command kubectl-lanyard is lanyard's kubectl credential plugin: kubectl
// runs "kubectl-lanyard get-token --profile P" from the kubeconfig exec
// entry, and "kubectl lanyard setup" writes that entry.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/helpers/kubectl"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	kubectl.Version = version
	os.Exit(kubectl.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil, nil))
}
