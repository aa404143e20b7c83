//go:build !unix

package config

import "os"

// fileOwner is unknown here: Windows has ACLs, not owner and mode bits.
func fileOwner(os.FileInfo) (int, bool) { return 0, false }
