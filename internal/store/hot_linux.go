package store

import (
	"crypto/rand"
	"errors"

	"golang.org/x/sys/unix"
)

const keyctlAvailable = true

// Permissions of the cache key: all for the possessor, view, read and search
// for the same user (other processes of the user find it in the user
// keyring), nothing for anyone else.
const hotKeyPerm = 0x3f000000 | 0x00010000 | 0x00020000 | 0x00080000

// keyctlKey returns the 32-byte cache key with description desc from the
// user keyring, creating it when create is set.
func keyctlKey(desc string, create bool) ([]byte, error) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0)
	if err == nil {
		buf := make([]byte, 32)
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err == nil && n == 32 {
			return buf, nil
		}
	}
	if !create {
		return nil, errors.New("no hot cache key")
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	id, err = unix.AddKey("user", desc, key, unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return nil, err
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SETPERM, id, hotKeyPerm, 0, 0); err != nil {
		return nil, err
	}
	_, _ = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(hotKeyLifetime.Seconds()), 0, 0)
	return key, nil
}
