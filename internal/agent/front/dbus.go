package front

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// dbusUnset marks an environment in which DBUS_SESSION_BUS_ADDRESS was set
// only to stop D-Bus autolaunch (see EngineEnv).
const dbusUnset = "LANYARD_DBUS_UNSET"

// EngineEnv returns environ for starting lanyard-engine. lanyard-engine
// links 99designs/keyring, whose secret-service and kwallet backends
// connect to the D-Bus session bus while the program initialises. With no
// DBUS_SESSION_BUS_ADDRESS and no $XDG_RUNTIME_DIR/bus, godbus then runs
// dbus-launch, which starts a dbus-daemon that outlives the process: one
// more daemon on every call, thousands in a test run. "disabled:" makes
// that connection fail at once (there is no session bus to find anyway);
// lanyard-engine removes it again first thing (RestoreEnv), so its
// children see what the caller had.
func EngineEnv(environ []string) []string {
	if runtime.GOOS != "linux" {
		return environ
	}
	runDir := ""
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "DBUS_SESSION_BUS_ADDRESS" && v != "":
			return environ
		case k == "XDG_RUNTIME_DIR":
			runDir = v
		}
	}
	if runDir == "" {
		runDir = "/run/user/" + strconv.Itoa(os.Getuid())
	}
	if _, err := os.Stat(filepath.Join(runDir, "bus")); err == nil {
		return environ // godbus finds the bus there itself
	}
	out := make([]string, 0, len(environ)+2)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			out = append(out, kv)
		}
	}
	return append(out, "DBUS_SESSION_BUS_ADDRESS=disabled:", dbusUnset+"=1")
}

// RestoreEnv undoes EngineEnv in lanyard-engine once the keyring package
// has initialised.
func RestoreEnv() {
	if os.Getenv(dbusUnset) == "1" {
		os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
		os.Unsetenv(dbusUnset)
	}
}
