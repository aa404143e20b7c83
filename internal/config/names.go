package config

import (
	"errors"
	"io/fs"
	"os"
	"sort"

	"github.com/BurntSushi/toml"
)

// ValidProfileName reports whether name may name a profile: ASCII letters,
// digits, '.', '_' and '-', starting with a letter or digit, at most 64
// bytes. Names reach shells (completion inserts them on the command line),
// file names (locks, journals) and keyring items, so nothing there may need
// quoting or look like a flag.
func ValidProfileName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// ProfileNames lists the profile names in the profiles file at path, sorted,
// without validating the profiles: shell completion still offers every name
// while one profile has a mistake. Names [ValidProfileName] refuses are left
// out: no profile can have them, and a shell must never be handed one. It reads only the file (no keyring, no
// network). A missing file has no names.
func ProfileNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var raw struct {
		Profiles map[string]toml.Primitive `toml:"profiles"`
	}
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(raw.Profiles))
	for n := range raw.Profiles {
		if ValidProfileName(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}
