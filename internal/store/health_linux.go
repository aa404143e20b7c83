package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gsterjov/go-libsecret"
	"golang.org/x/sys/unix"

	"github.com/lanyardhq/lanyard/internal/dbusenv"
)

// secretServiceLocked asks the secret service whether collection name is
// locked, without unlocking it (no prompt). A collection that does not
// exist yet is not locked.
func secretServiceLocked(name string) (bool, error) {
	if !sessionBus() {
		return false, errors.New("no D-Bus session bus")
	}
	svc, err := libsecret.NewService()
	if err != nil {
		return false, err
	}
	cols, err := svc.Collections()
	if err != nil {
		return false, err
	}
	for _, c := range cols {
		if strings.HasSuffix(string(c.Path()), "/collection/"+name) {
			return c.Locked()
		}
	}
	return false, nil
}

// sessionBus reports whether a session bus can be found without godbus
// running dbus-launch (which would leave a dbus-daemon behind).
func sessionBus() bool { return dbusenv.SessionBus() }

// keyctlProbe reports why the user keyring cannot be reached (seccomp
// filters make keyctl fail with EPERM or ENOSYS), or nil.
func keyctlProbe() error {
	_, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true)
	return err
}

// keyctlQuota describes this user's key quota and what it uses of it.
func keyctlQuota() string {
	file, uid := "/proc/sys/kernel/keys/maxbytes", os.Getuid()
	if uid == 0 {
		file = "/proc/sys/kernel/keys/root_maxbytes"
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "20,000 bytes per user (the kernel's default)"
	}
	s := fmt.Sprintf("%s bytes per user (%s)", strings.TrimSpace(string(b)), file)
	users, _ := os.ReadFile("/proc/key-users")
	for _, line := range strings.Split(string(users), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == strconv.Itoa(uid)+":" {
			used, _, _ := strings.Cut(f[4], "/")
			s += ", " + used + " in use"
		}
	}
	return s
}
