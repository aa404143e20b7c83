package plugin

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// stderr is the process's real standard error, captured before go-plugin
// redirects os.Stderr: lanyard reads hclog's JSON lines from it and shows
// them with --debug.
var stderr = os.Stderr

var logger = sync.OnceValue(func() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Trace,
		Output:     stderr,
		JSONFormat: true,
	})
})

// Logger returns the plugin's logger. Its lines reach lanyard's stderr:
// warnings and errors always, the rest with lanyard --debug. Never log a
// token or a secret setting.
func Logger() hclog.Logger { return logger() }

// Serve runs impl as a lanyard grant plugin until lanyard stops it. Call it
// from main; it does not return. Run by hand, it explains what it is and
// exits 1.
func Serve(impl Grant) {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		name := filepath.Base(os.Args[0])
		fmt.Fprintf(stderr, "%s is a lanyard grant plugin: lanyard starts it for profiles with grant = \"plugin:NAME\".\nRun lanyard plugins to list the plugins lanyard finds.\n", name)
		os.Exit(1)
	}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{PluginName: &GRPCPlugin{Impl: impl}},
		GRPCServer:      goplugin.DefaultGRPCServer,
		Logger:          Logger(),
	})
	os.Exit(0)
}
