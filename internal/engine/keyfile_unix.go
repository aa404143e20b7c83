//go:build unix

package engine

import (
	"fmt"
	"os"
	"syscall"
)

// checkKeyFile applies ssh's rule to a private key file: owned by the user
// and neither readable nor writable by group or others, so nobody else can
// read or swap the key.
func checkKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // the read that follows reports it
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s is owned by uid %d, not by you (uid %d); chown it", path, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable or writable by group or others (mode %04o), as ssh refuses for a private key; run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}
