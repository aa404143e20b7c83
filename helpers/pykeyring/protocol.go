// Package pykeyring is lanyard's side of keyrings.lanyard, a backend of
// Python's keyring library that pip and twine ask for index credentials
// (keyrings/lanyard.py in this directory).
//
// The backend runs `lanyard pip-credential SERVICE` (answered by the thin
// front, through the agent or in-process): SERVICE is what pip or twine passed to keyring,
// an index or repository URL or a bare host[:port]. The answer is one JSON
// object on stdout, or nothing when no profile serves SERVICE.
//
// This file holds the pure formatting; main.go does the I/O; install.go
// writes the Python package into an interpreter's user site.
package pykeyring

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultUsername is what pip and twine send as the Basic username with the
// token when the profile sets no pip_username. Indexes that take a token
// as the password ignore it; PyPI-style ones want "__token__".
const DefaultUsername = "oauth2"

// Credential is the answer the Python backend reads.
type Credential struct {
	Username  string    `json:"username"`
	Password  string    `json:"password"`
	Profile   string    `json:"profile"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Answer builds the credential for profile's token: the username is the
// profile's pip_username, else DefaultUsername.
func Answer(profile, pipUsername, token string, expiry time.Time) Credential {
	u := pipUsername
	if u == "" {
		u = DefaultUsername
	}
	return Credential{Username: u, Password: token, Profile: profile, ExpiresAt: expiry.UTC().Truncate(time.Second)}
}

// Format writes c as one JSON line. It refuses a username with a colon or
// a control character (HTTP Basic cannot carry it: RFC 7617 §2) and an
// empty password.
func Format(c Credential) ([]byte, error) {
	if c.Username == "" || strings.ContainsAny(c.Username, ":") || strings.ContainsFunc(c.Username, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("pip_username %q cannot be sent as an HTTP Basic username (no colon, no control characters)", c.Username)
	}
	if c.Password == "" {
		return nil, fmt.Errorf("empty token")
	}
	if !utf8.ValidString(c.Password) || !utf8.ValidString(c.Username) {
		// JSON would carry it changed (U+FFFD), and the index would refuse it.
		return nil, fmt.Errorf("token or pip_username is not valid UTF-8")
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ServiceURL turns what pip or twine passed to keyring into the URL
// lanyard matches: an index URL as it is, a bare host[:port] (pip's
// fallback when it asks by netloc) as https://host[:port]/. ok is false
// for anything else (a service name that is not a URL: not ours).
func ServiceURL(service string) (string, bool) {
	s := strings.TrimSpace(service)
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return "", false
	}
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		if _, rest, _ := strings.Cut(s, "://"); rest == "" {
			return "", false
		}
		return s, true
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#@") {
		return "", false
	}
	return "https://" + s + "/", true
}
