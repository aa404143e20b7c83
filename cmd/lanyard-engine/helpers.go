package main

import (
	"io"

	"github.com/lanyardhq/lanyard/helpers/docker"
	"github.com/lanyardhq/lanyard/helpers/docker/dockerconfig"
	"github.com/lanyardhq/lanyard/helpers/kubectl"
	"github.com/lanyardhq/lanyard/helpers/kubectl/kubeconfig"
)

// helperCommands run the actions a thin helper hands to lanyard-engine
// because they need the profiles file or a config editor, not a token:
// docker store and list, kubectl lanyard setup. They run outside the kong
// CLI, with the helper's own arguments, streams and exit code.
var helperCommands = map[string]func(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int{
	docker.EngineCommand:  dockerconfig.Main,
	kubectl.EngineCommand: kubeconfig.Main,
}
