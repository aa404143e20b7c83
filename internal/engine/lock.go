package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/gofrs/flock"
)

var plainName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// lock takes the profile's exclusive file lock, waiting at most
// LockTimeout. The kernel drops the lock if the process dies, so a crash
// never leaves a profile locked.
func (e *Engine) lock(ctx context.Context, profile string) (func(), error) {
	dir := filepath.Join(e.StateDir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("could not create lock directory: %w", err)
	}
	name := profile
	if !plainName.MatchString(name) {
		h := sha256.Sum256([]byte(profile))
		name = hex.EncodeToString(h[:8])
	}
	path := filepath.Join(dir, name+".lock")
	timeout := e.LockTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fl := flock.New(path)
	ok, err := fl.TryLockContext(lctx, 10*time.Millisecond)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("could not lock token cache for %q: another lanyard process has been refreshing it for more than %s (lock file %s)", profile, timeout, path)
		}
		return nil, fmt.Errorf("could not lock token cache for %q: %w", profile, err)
	}
	return func() { _ = fl.Unlock() }, nil
}
