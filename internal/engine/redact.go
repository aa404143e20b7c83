package engine

import "github.com/lanyardhq/lanyard/internal/agent/front"

// Redact shows a secret as its first four characters and its length, enough
// to tell two tokens apart in a --debug log (as aws-vault's FormatKeyForDisplay).
func Redact(s string) string { return front.Redact(s) }
