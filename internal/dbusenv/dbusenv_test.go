package dbusenv_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// A lanyard-engine started with no session bus must not run dbus-launch
// (whose daemon would outlive it). A fake dbus-launch on PATH records calls.
func TestEngineStartLaunchesNoDBus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus autolaunch is a Linux matter")
	}
	bin := testbin.Build(t)
	env := testbin.NewEnv(t, bin)
	fake := t.TempDir()
	marker := filepath.Join(fake, "launched")
	script := "#!/bin/sh\necho called > " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env.Set("PATH", fake+string(os.PathListSeparator)+bin+string(os.PathListSeparator)+"/usr/bin:/bin")
	env.Set("XDG_RUNTIME_DIR", t.TempDir()) // no bus socket there
	env.Set("DBUS_SESSION_BUS_ADDRESS", "")
	for _, args := range [][]string{{"version"}, {"exec", "--help"}} {
		cmd := env.Command(filepath.Join(bin, "lanyard-engine"), args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("lanyard-engine %v: %v\n%s", args, err, out)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("lanyard-engine ran dbus-launch at start-up; each run would leave a dbus-daemon behind")
	}
}
