package config

import (
	"errors"
	"io/fs"
	"os"
	"sort"

	"github.com/BurntSushi/toml"
)

// ProfileNames lists the profile names in the profiles file at path, sorted,
// without validating the profiles: shell completion still offers every name
// while one profile has a mistake. It reads only the file (no keyring, no
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
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
