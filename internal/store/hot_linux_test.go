package store

import (
	"testing"

	"golang.org/x/sys/unix"
)

func unlinkKey(t *testing.T, desc string) {
	t.Helper()
	if id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0); err == nil {
		_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
	}
}
