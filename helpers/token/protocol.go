// Package token is the `lanyard token` protocol: arguments in, a token on
// stdout in one of four formats (raw, json, header, env), exit codes 0,
// 1, 2 (bad command line or profiles file) and 3 (run lanyard login).
// Scripts, curl, the HTTPie plugin and the Python keyring backend speak it.
package token

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// TokenJSON is the stable `lanyard token --format json` contract.
type TokenJSON struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresAt   time.Time `json:"expires_at"`
	Profile     string    `json:"profile"`
}

// Formats are the values of lanyard token --format.
var Formats = []string{"raw", "json", "header", "env"}

// Write prints a token the way `lanyard token --format FORMAT` does.
func Write(w io.Writer, format, token, tokenType string, expiry time.Time, profile string) error {
	switch format {
	case "json":
		return json.NewEncoder(w).Encode(TokenJSON{AccessToken: token, TokenType: tokenType, ExpiresAt: expiry.UTC().Truncate(time.Second), Profile: profile})
	case "header":
		_, err := fmt.Fprintf(w, "Authorization: %s %s\n", tokenType, token)
		return err
	case "env":
		_, err := fmt.Fprintf(w, "LANYARD_TOKEN=%s\n", token)
		return err
	}
	_, err := fmt.Fprintln(w, token)
	return err
}

// Args are the arguments of `lanyard token`.
type Args struct {
	Profile      string
	Format       string
	MinTTL       time.Duration
	ForceRefresh bool
	URL          string
}

// ParseArgs reads `token PROFILE [--format F] [--min-ttl D]
// [--force-refresh] [--url U]` (args without the program name). ok is
// false for anything else (help, --debug, an unknown flag or value, a
// missing profile): lanyard-engine's full CLI then answers, with its
// messages and exit codes.
func ParseArgs(args []string) (Args, bool) {
	a := Args{Format: "raw"}
	if len(args) < 2 || args[0] != "token" {
		return a, false
	}
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		arg := rest[i]
		if !strings.HasPrefix(arg, "-") {
			if a.Profile != "" {
				return a, false
			}
			a.Profile = arg
			continue
		}
		name, value, hasValue := strings.Cut(arg, "=")
		takeValue := func() bool {
			if hasValue {
				return true
			}
			if i+1 >= len(rest) {
				return false
			}
			i++
			value = rest[i]
			return true
		}
		switch name {
		case "--force-refresh":
			if hasValue {
				return a, false
			}
			a.ForceRefresh = true
		case "--format":
			if !takeValue() || !slices.Contains(Formats, value) {
				return a, false
			}
			a.Format = value
		case "--min-ttl":
			if !takeValue() {
				return a, false
			}
			d, err := time.ParseDuration(value)
			if err != nil {
				return a, false
			}
			a.MinTTL = d
		case "--url":
			if !takeValue() {
				return a, false
			}
			a.URL = value
		default:
			return a, false
		}
	}
	return a, a.Profile != ""
}
