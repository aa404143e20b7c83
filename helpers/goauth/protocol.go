// Package goauth is `lanyard goauth`: a GOAUTH command for the go command
// (`go help goauth`; GOAUTH='lanyard goauth', Go 1.24+).
//
// The go command runs each GOAUTH command once before its first HTTPS
// fetch, with no argument and no input, and again, with the URL as an
// argument and the refused response on stdin, whenever a server answers
// 4xx (cmd/go/internal/auth, runAuthCommand). The command prints credential
// sets: URL prefix lines, a blank line, header lines, a blank line. The go
// command attaches a set's headers to every later request under its
// prefixes, for the rest of its run.
//
// This file holds the pure parsing and formatting; main.go does the I/O
// and asks the agent for tokens.
package goauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Refused is the response the go command writes on stdin when a server
// refused a request (cmd/go/internal/auth writeResponseToStdin):
// "PROTO STATUS\n", then "Name: v1, v2\n" per header, then "\n".
type Refused struct {
	Proto  string // "HTTP/1.1", "HTTP/2.0"
	Status int    // 401, 403, 404, ...
	// Header holds the response's headers in the order given; the go
	// command writes each name once, its values joined by ", ".
	Header [][2]string
}

// Get returns the value of header name (case-insensitive), or "".
func (r Refused) Get(name string) string {
	for _, h := range r.Header {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// ErrNotResponse means stdin did not hold a status line.
var ErrNotResponse = errors.New("not an HTTP response status line")

// ParseRefused reads the response block the go command writes. It stops
// at the first blank line; CRLF line ends are accepted, header lines
// without a colon are skipped. An empty input is not an error (the first
// call has no input): it returns a zero Refused.
func ParseRefused(data []byte) (Refused, error) {
	var r Refused
	s := string(data)
	first := true
	for s != "" {
		var line string
		line, s, _ = strings.Cut(s, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if first {
			first = false
			proto, rest, ok := strings.Cut(line, " ")
			code, _, _ := strings.Cut(rest, " ")
			n, err := strconv.Atoi(code)
			if !ok || !strings.HasPrefix(proto, "HTTP/") || err != nil || n < 100 || n > 999 {
				return Refused{}, fmt.Errorf("%w: %q", ErrNotResponse, printable(line))
			}
			r.Proto, r.Status = proto, n
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			continue
		}
		r.Header = append(r.Header, [2]string{name, strings.TrimSpace(value)})
	}
	return r, nil
}

// CredentialSet is one answer block: the go command sends Header under
// Prefix.
type CredentialSet struct {
	Prefix string // https://host[:port]/path/
	Header [][2]string
}

// Bearer is the credential set sending token as a Bearer token under prefix.
func Bearer(prefix, token string) CredentialSet {
	return CredentialSet{Prefix: prefix, Header: [][2]string{{"Authorization", "Bearer " + token}}}
}

// Format writes sets as the go command reads them (`go help goauth`:
// Response = { CredentialSet }; CredentialSet = URLLine { URLLine }
// BlankLine { HeaderLine } BlankLine). It refuses a prefix that is not
// https:// (the go command uses GOAUTH for HTTPS only) and any value with a
// line break or control character, which would forge lines.
func Format(sets []CredentialSet) ([]byte, error) {
	var b strings.Builder
	for _, s := range sets {
		if !strings.HasPrefix(s.Prefix, "https://") || len(s.Prefix) == len("https://") || hasControl(s.Prefix) || strings.ContainsAny(s.Prefix, " \t") {
			return nil, fmt.Errorf("GOAUTH prefix %q is not an https:// URL", printable(s.Prefix))
		}
		if len(s.Header) == 0 {
			return nil, fmt.Errorf("GOAUTH credential set for %s has no header", s.Prefix)
		}
		b.WriteString(s.Prefix + "\n\n")
		for _, h := range s.Header {
			if !validName(h[0]) || hasControl(h[1]) || h[1] == "" || strings.TrimSpace(h[1]) != h[1] {
				return nil, fmt.Errorf("GOAUTH header %q for %s is not a valid header line", printable(h[0]), s.Prefix)
			}
			b.WriteString(h[0] + ": " + h[1] + "\n")
		}
		b.WriteString("\n")
	}
	return []byte(b.String()), nil
}

// validName is an RFC 9110 token, as the go command's validHeaderFieldName.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// printable shows s with control characters escaped, for messages.
func printable(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
