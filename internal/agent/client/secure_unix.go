//go:build !windows

package client

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// CheckSocket refuses a socket, or a directory holding it, that another
// user owns or that others could use or replace: connecting there could hand
// tokens to, or take them from, someone else. A missing socket is no
// error here (the dial reports it).
func CheckSocket(path string) error {
	uid := uint32(os.Getuid())
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	switch {
	case st.Uid != uid && !(st.Uid == 0 && fi.Mode()&os.ModeSticky != 0):
		return fmt.Errorf("the agent socket's directory %s belongs to uid %d, not to you (uid %d); remove it or set LANYARD_AGENT_SOCK to a path in a directory of yours", dir, st.Uid, uid)
	case st.Uid == uid && fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0:
		return fmt.Errorf("the agent socket's directory %s is writable by others (mode %o); run: chmod 700 %s", dir, fi.Mode().Perm(), dir)
	}
	fi, err = os.Lstat(path)
	if err != nil {
		return nil
	}
	st, ok = fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	switch {
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%s is not a socket; remove it or set LANYARD_AGENT_SOCK to another path", path)
	case st.Uid != uid:
		return fmt.Errorf("the agent socket %s belongs to uid %d, not to you (uid %d); remove it or set LANYARD_AGENT_SOCK to a path of yours", path, st.Uid, uid)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("the agent socket %s is accessible to others (mode %o); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}
