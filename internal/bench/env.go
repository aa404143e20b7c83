package bench

import (
	"os"
	"path/filepath"
	"strings"
)

// Passphrase is the file keyring passphrase every benchmarked lanyard
// process gets through LANYARD_KEYRING_PASSPHRASE.
const Passphrase = "lanyard-bench-passphrase"

// Env is an isolated environment for the benchmarked processes: its own
// HOME and XDG directories and the encrypted file keyring, so a bench never
// touches the user's tokens and every process pays the same keyring cost.
type Env struct {
	Home       string
	ConfigPath string
	vars       []string
}

// NewEnv makes the directories under base.
func NewEnv(base, binDir string) (*Env, error) {
	home := filepath.Join(base, "home")
	e := &Env{Home: home, ConfigPath: filepath.Join(home, "config.toml")}
	for _, d := range []string{".config", ".local/state", ".local/share", ".cache", ".kube"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			return nil, err
		}
	}
	e.vars = []string{
		"HOME=" + home,
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"LANYARD_CONFIG=" + e.ConfigPath,
		"LANYARD_KEYRING_BACKEND=file",
		"LANYARD_KEYRING_PASSPHRASE=" + Passphrase,
		"LANYARD_AGENT=off",
		"LANG=C",
		"TMPDIR=" + os.TempDir(),
	}
	return e, nil
}

// Set adds or replaces a variable.
func (e *Env) Set(key, value string) {
	for i, kv := range e.vars {
		if strings.HasPrefix(kv, key+"=") {
			e.vars[i] = key + "=" + value
			return
		}
	}
	e.vars = append(e.vars, key+"="+value)
}

// Vars returns the environment plus extra KEY=VALUE pairs.
func (e *Env) Vars(extra ...string) []string {
	return append(append([]string(nil), e.vars...), extra...)
}

// WriteConfig writes the profiles file.
func (e *Env) WriteConfig(toml string) error {
	return os.WriteFile(e.ConfigPath, []byte(toml), 0o600)
}
