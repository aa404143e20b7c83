//go:build unix && !linux

package hardening

import (
	"fmt"
	"syscall"
)

// NoCoreDumps keeps the process's memory (refresh tokens, client secrets,
// the keyring passphrase) out of core files: the soft RLIMIT_CORE goes to 0.
func NoCoreDumps() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		return fmt.Errorf("could not read the core dump limit: %w", err)
	}
	lim.Cur = 0
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		return fmt.Errorf("could not turn core dumps off: %w", err)
	}
	return nil
}
