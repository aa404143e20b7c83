// Package front holds what the thin front-end binaries (lanyard,
// git-credential-lanyard, docker-credential-lanyard, kubectl-lanyard) share
// without linking the engine: finding and starting lanyard-engine.
package front

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EngineName is the binary that holds the whole of lanyard.
const EngineName = "lanyard-engine"

// EnginePath returns lanyard-engine's path: $LANYARD_ENGINE when it is
// absolute, else the file next to the running binary (symlinks resolved).
// Never PATH: a helper git runs from a cloned repository's directory must not
// pick up code from there.
func EnginePath() (string, error) {
	if p := os.Getenv("LANYARD_ENGINE"); p != "" {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("LANYARD_ENGINE must be an absolute path, got %q", p)
		}
		return p, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find lanyard's own binary: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	p := filepath.Join(filepath.Dir(exe), EngineName+exeSuffix)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s is missing next to %s; install all of lanyard's binaries together (make install)", EngineName+exeSuffix, exe)
		}
		return "", err
	}
	return p, nil
}

// DebugFromEnv reads LANYARD_DEBUG the same way for every binary.
func DebugFromEnv(getenv func(string) string) bool { return EnvBool(getenv("LANYARD_DEBUG")) }

// EnvBool reads a boolean environment value the way git does: unset, empty,
// 0, false, no and off are false; anything else is true.
func EnvBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// Redact shows a secret as its first four characters and its length, enough
// to tell two tokens apart in a --debug log (as aws-vault's FormatKeyForDisplay).
func Redact(s string) string {
	if s == "" {
		return `""`
	}
	if len(s) <= 8 {
		return fmt.Sprintf("…(%d chars)", len(s))
	}
	return fmt.Sprintf("%s…(%d chars)", s[:4], len(s))
}
