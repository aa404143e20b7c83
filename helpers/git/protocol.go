// Package git is git-credential-lanyard: git's credential helper protocol
// (gitcredentials(7), git-credential(1)) on top of the lanyard engine.
//
// git runs the helper with one verb (get, store or erase) and writes
// key=value lines on its stdin; for get the helper answers with key=value
// lines on stdout. This file holds the pure parsing and formatting; main.go
// does the I/O and asks the engine for tokens.
package git

import (
	"bytes"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Request is the credential description git sends a helper.
type Request struct {
	Protocol string // "https", "http", ...
	Host     string // host, with ":port" when the URL has one
	// Path is the repository path without its leading slash; git sends it
	// only with credential.useHttpPath (or for non-HTTP protocols).
	Path     string
	Username string
	// Password is set on erase (and store): the credential git used.
	Password string
	// WWWAuth are the server's WWW-Authenticate headers (git 2.41+,
	// "wwwauth[]"); kept for --debug, not used to decide anything.
	WWWAuth []string
	// Capabilities git announces ("capability[]", git 2.46+). lanyard
	// answers with username and password only, which needs none of them.
	Capabilities []string
}

// ParseRequest reads git's key=value lines. It accepts what any git
// version sends and never fails: a blank line or the end of data ends the
// request, CRLF line ends are accepted, lines without "=" and unknown keys
// (authtype, credential, ephemeral, state[], oauth_refresh_token,
// password_expiry_utc, ...) are skipped. As in git, a later value replaces an
// earlier one, array keys ("name[]") accumulate and an empty array value
// clears the array, and "url" sets protocol, host, path, username and
// password from one URL.
func ParseRequest(data []byte) Request {
	var r Request
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		key, value, ok := strings.Cut(string(line), "=")
		if !ok {
			continue
		}
		switch key {
		case "protocol":
			r.Protocol = value
		case "host":
			r.Host = value
		case "path":
			r.Path = value
		case "username":
			r.Username = value
		case "password":
			r.Password = value
		case "url":
			r.setURL(value)
		case "wwwauth[]":
			r.WWWAuth = appendOrClear(r.WWWAuth, value)
		case "capability[]":
			r.Capabilities = appendOrClear(r.Capabilities, value)
		}
	}
	return r
}

// appendOrClear follows git's rule for array attributes: an empty value
// resets the list.
func appendOrClear(list []string, v string) []string {
	if v == "" {
		return nil
	}
	return append(list, v)
}

// setURL splits a URL the way git credential does for the "url" attribute:
// the parts it carries replace the request's, the others are cleared.
func (r *Request) setURL(raw string) {
	r.Protocol, r.Host, r.Path, r.Username, r.Password = "", "", "", "", ""
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	parts := []string{u.Scheme, u.Host, strings.TrimPrefix(u.Path, "/"), "", ""}
	if u.User != nil {
		parts[3] = u.User.Username()
		parts[4], _ = u.User.Password()
	}
	for _, p := range parts {
		// git refuses a URL whose decoded parts hold a line break or NUL
		// (credential.c check_url_component): they would forge attributes.
		if strings.ContainsAny(p, "\n\x00") {
			return
		}
	}
	r.Protocol, r.Host, r.Path, r.Username, r.Password = parts[0], parts[1], parts[2], parts[3], parts[4]
}

// URL is the request as protocol://host[/path], the form profile match
// prefixes are compared with, or "" when protocol or host is missing.
func (r Request) URL() string {
	if r.Protocol == "" || r.Host == "" {
		return ""
	}
	u := url.URL{Scheme: r.Protocol, Host: r.Host}
	if r.Path != "" {
		u.Path = "/" + r.Path
	}
	return u.String()
}

// Response is the answer to get.
type Response struct {
	Username string
	Password string
	// Expiry becomes password_expiry_utc (git 2.41+ drops the credential
	// after it; older git ignores the key). Zero leaves it out.
	Expiry time.Time
}

// ErrBadValue means a value cannot travel in the protocol: git reads one
// attribute per line, so a newline or NUL would split or cut it.
var ErrBadValue = errors.New("credential value contains a newline or NUL byte and cannot be passed to git")

// Format renders r in git's key=value form, in a fixed order: username,
// password, password_expiry_utc (Unix seconds).
func (r Response) Format() ([]byte, error) {
	for _, v := range []string{r.Username, r.Password} {
		if strings.ContainsAny(v, "\n\r\x00") {
			return nil, ErrBadValue
		}
	}
	var b bytes.Buffer
	b.WriteString("username=" + r.Username + "\n")
	b.WriteString("password=" + r.Password + "\n")
	if !r.Expiry.IsZero() {
		b.WriteString("password_expiry_utc=" + strconv.FormatInt(r.Expiry.Unix(), 10) + "\n")
	}
	return b.Bytes(), nil
}
