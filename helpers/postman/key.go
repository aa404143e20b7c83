package postman

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lanyardhq/lanyard/internal/atomicfile"
	"github.com/lanyardhq/lanyard/internal/config"
)

// NewKey returns 32 random bytes, base64url without padding (43 characters).
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("could not make a serve key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validKey reports whether s looks like a key NewKey made.
func validKey(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// LoadOrCreateKey returns the key kept in path, or makes a new one and
// writes it there (mode 0600, directory 0700) when the file does not exist,
// does not hold a key, or rotate is set. created says a new key was made.
// A key file others can read is refused rather than used.
func LoadOrCreateKey(path string, rotate bool) (key string, created bool, err error) {
	if !rotate {
		fi, err := os.Stat(path)
		switch {
		case err == nil:
			// Owned by someone else: they chose the key. Then as ssh: no
			// group or other access at all.
			if err := config.CheckTrusted("key file", path, fi); err != nil {
				return "", false, err
			}
			if fi.Mode().Perm()&0o077 != 0 {
				return "", false, fmt.Errorf("key file %s can be read by other users (mode %04o); run: chmod 600 %s, or start with --new-key", path, fi.Mode().Perm(), path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return "", false, fmt.Errorf("could not read key file: %w", err)
			}
			if k := strings.TrimSpace(string(b)); validKey(k) {
				return k, false, nil
			}
		case !errors.Is(err, os.ErrNotExist):
			return "", false, fmt.Errorf("could not read key file: %w", err)
		}
	}
	key, err = NewKey()
	if err != nil {
		return "", false, err
	}
	if err := writeKey(path, key); err != nil {
		return "", false, err
	}
	return key, true, nil
}

// writeKey replaces path atomically with a new 0600 file: writing into an
// existing file would keep that file's mode.
func writeKey(path, key string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("could not create the key file's directory: %w", err)
	}
	if err := atomicfile.Write(path, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("could not write key file: %w", err)
	}
	return nil
}
