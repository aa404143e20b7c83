// Package redact shows secrets in --debug logs without revealing them. It
// is a leaf (the standard library only) for the thin helpers and the
// engine alike.
package redact

import "fmt"

// Secret shows s as its first four characters and its length, enough to
// tell two tokens apart in a log (as aws-vault's FormatKeyForDisplay).
func Secret(s string) string {
	if s == "" {
		return `""`
	}
	if len(s) <= 8 {
		return fmt.Sprintf("…(%d chars)", len(s))
	}
	return fmt.Sprintf("%s…(%d chars)", s[:4], len(s))
}
