//go:build !unix

package hardening

// NoCoreDumps does nothing here: Windows writes no core files unless
// Windows Error Reporting is set up to keep full dumps.
func NoCoreDumps() error { return nil }
