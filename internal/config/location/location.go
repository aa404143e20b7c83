// Package location says where the profiles file is. It is a leaf (standard
// library only) so that the thin helper binaries, which do not link the
// config parser, can tell the agent which file their caller means.
package location

import "path/filepath"

// Path returns the profiles file location: $LANYARD_CONFIG, else
// $XDG_CONFIG_HOME/lanyard/config.toml, else ~/.config/lanyard/config.toml.
func Path(getenv func(string) string) string {
	if p := getenv("LANYARD_CONFIG"); p != "" {
		return p
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "lanyard", "config.toml")
	}
	return filepath.Join(getenv("HOME"), ".config", "lanyard", "config.toml")
}
