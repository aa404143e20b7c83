// Package dbusenv stops 99designs/keyring's package init from starting a
// D-Bus daemon each time a program that links it starts.
//
// keyring's init (secret-service and KWallet backends) calls godbus's
// SessionBus. With no DBUS_SESSION_BUS_ADDRESS and no $XDG_RUNTIME_DIR/bus,
// the godbus version keyring pins runs `dbus-launch`, which starts a session
// dbus-daemon that never exits: on a headless machine with dbus-x11 installed
// (SSH sessions, CI) every lanyard-engine start left one daemon behind (20,000
// on the shared test machine in one afternoon) and cost 0.1-1.5 s.
//
// Go initialises packages in import-path order once their imports are
// initialised, and keyring imports golang.org/x/term, which sorts after this
// package: so this init runs first (TestInitRunsBeforeKeyring checks it in
// the built lanyard-engine). It sets an unset address to one whose transport
// godbus does not know, so SessionBus fails at once, nothing is launched and
// the secret-service backend is simply absent, as it is without a bus.
// Restore takes the placeholder away again for the children lanyard starts.
//
// internal/store, the only importer of the keyring, imports this package.
package dbusenv

import (
	"os"
	"path/filepath"

	"github.com/lanyardhq/lanyard/internal/env"
)

const (
	addressVar = "DBUS_SESSION_BUS_ADDRESS"
	// noBus is an address godbus rejects without dialling or launching.
	noBus = "lanyard-no-session-bus:"
)

func init() {
	if !SessionBus() {
		os.Setenv(addressVar, noBus)
	}
}

// SessionBus reports whether a session bus can be found without godbus
// running dbus-launch (which would leave a dbus-daemon behind): an address
// is set, or the user's bus socket is where godbus looks itself.
func SessionBus() bool {
	if os.Getenv(addressVar) != "" {
		return true
	}
	_, err := os.Stat(filepath.Join(env.Env(os.Getenv).UserRuntimeDir(), "bus"))
	return err == nil
}

// Restore removes the placeholder address init set, if it is still there,
// so that children (the browser opener, exec) see the caller's environment.
// Call it first thing in main.
func Restore() {
	if os.Getenv(addressVar) == noBus {
		os.Unsetenv(addressVar)
	}
}
