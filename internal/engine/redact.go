package engine

import "fmt"

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
