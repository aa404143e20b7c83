package hardening

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NoCoreDumps keeps the process's memory (refresh tokens, client secrets,
// the keyring passphrase) out of core files: the soft RLIMIT_CORE goes to
// 0, and PR_SET_DUMPABLE 0 also stops other processes of the same user
// from attaching with ptrace or reading /proc/PID/mem and environ.
// Children inherit the core limit (a command may raise it again with
// ulimit -c); the dumpable flag resets on exec.
func NoCoreDumps() error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		return fmt.Errorf("could not read the core dump limit: %w", err)
	}
	lim.Cur = 0
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		return fmt.Errorf("could not turn core dumps off: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("could not mark the process not dumpable: %w", err)
	}
	return nil
}
