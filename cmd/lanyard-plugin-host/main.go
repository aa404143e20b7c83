// Command lanyard-plugin-host runs grant plugins for lanyard and its
// helpers: it reads one JSON request on stdin, starts the plugin with
// hashicorp/go-plugin, and writes one JSON answer on stdout. lanyard runs it
// only when a plugin profile's cached token is stale, so the helpers'
// cache hits never pay for go-plugin and gRPC.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/internal/grant/pluginhost"
	"github.com/lanyardhq/lanyard/internal/hardening"
)

func main() {
	// The host holds the plugin's resolved secret settings: no core files.
	_ = hardening.NoCoreDumps()
	os.Exit(pluginhost.Main(os.Stdin, os.Stdout, os.Stderr))
}
