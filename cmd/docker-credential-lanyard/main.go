// Command docker-credential-lanyard is a docker credential helper: docker,
// crane, skopeo and buildah call it (credHelpers "lanyard" in docker's
// config.json) for registries that a lanyard profile matches, and it
// answers with the profile's fresh token.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/helpers/docker"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	docker.Version = version
	os.Exit(docker.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, nil, nil))
}
