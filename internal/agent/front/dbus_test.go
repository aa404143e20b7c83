package front

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestEngineEnvStopsDBusAutolaunch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus autolaunch is a Linux matter here")
	}
	withBus := t.TempDir()
	if err := os.WriteFile(filepath.Join(withBus, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	noBus := t.TempDir()
	for _, tc := range []struct {
		name string
		env  []string
		stop bool
	}{
		{"address set", []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/x", "XDG_RUNTIME_DIR=" + noBus}, false},
		{"bus in the runtime dir", []string{"XDG_RUNTIME_DIR=" + withBus}, false},
		{"no bus", []string{"XDG_RUNTIME_DIR=" + noBus, "HOME=/h"}, true},
		{"empty address, no bus", []string{"DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR=" + noBus}, true},
	} {
		got := EngineEnv(tc.env)
		stopped := slices.Contains(got, "DBUS_SESSION_BUS_ADDRESS=disabled:") && slices.Contains(got, dbusUnset+"=1")
		if stopped != tc.stop {
			t.Errorf("%s: got %v", tc.name, got)
		}
		if !tc.stop && !slices.Equal(got, tc.env) {
			t.Errorf("%s: environment changed: %v", tc.name, got)
		}
	}
}
