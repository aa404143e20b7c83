package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lanyardhq/lanyard/internal/env"
)

// EngineName is the binary that holds the whole of lanyard: the CLI, the
// agent and the in-process answer (agent oneshot).
const EngineName = "lanyard-engine"

// EnginePath returns lanyard-engine's path: $LANYARD_ENGINE when set, else
// the file next to the running binary (symlinks resolved). Never PATH: a
// helper git runs from a cloned repository's directory must not pick up
// code from there.
func EnginePath(getenv func(string) string) (string, error) {
	if p, err := env.Env(getenv).EngineOverride(); p != "" || err != nil {
		return p, err
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
