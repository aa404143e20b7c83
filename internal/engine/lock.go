package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// plainName reports whether a profile name can name its lock file as is:
// 1 to 64 of A-Z a-z 0-9 . _ -. A loop, not a regexp: compiling
// `{1,64}` cost every helper process about 1 ms at start-up (make bench).
func plainName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return false
		}
	}
	return true
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// lock takes the profile's exclusive file lock, waiting at most
// LockTimeout. The kernel drops the lock if the process dies, so a crash
// never leaves a profile locked.
func (e *Engine) lock(ctx context.Context, profile string) (func(), error) {
	dir := filepath.Join(e.StateDir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("could not create lock directory: %w", err)
	}
	name := profile
	if !plainName(name) {
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
	stop := e.notice("another lanyard process, which holds %s's lock while it gets a token (%s)", profile, path)
	ok, err := fl.TryLockContext(lctx, 10*time.Millisecond)
	stop()
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("could not lock token cache for %q: another lanyard process has been refreshing it for more than %s (lock file %s)", profile, timeout, path)
		}
		return nil, fmt.Errorf("could not lock token cache for %q: %w", profile, err)
	}
	return func() { _ = fl.Unlock() }, nil
}
