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
	"slices"
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
	// AuthType and Credential are set on erase (and store) when the
	// credential git used was a pre-encoded one ("authtype=Bearer",
	// "credential=TOKEN", git 2.46+).
	AuthType   string
	Credential string
	// WWWAuth are the server's WWW-Authenticate headers (git 2.41+,
	// "wwwauth[]"): on get, what the server asks for (git_auth = "auto"
	// decides from them); on erase, what the refusing response asked for.
	WWWAuth []string
	// Capabilities git announces ("capability[]", git 2.46+): "authtype"
	// (authtype, credential, ephemeral understood) and "state" (state[]).
	Capabilities []string
	// State is what helpers put in "state[]" on get, handed back on store
	// and erase by git 2.46+ when both sides announced "state".
	State []string
}

// Has reports whether git announced capability c.
func (r Request) Has(c string) bool { return slices.Contains(r.Capabilities, c) }

// ParseRequest reads git's key=value lines. It accepts what any git
// version sends and never fails: a blank line or the end of data ends the
// request, CRLF line ends are accepted, lines without "=" and unknown keys
// (ephemeral, oauth_refresh_token, password_expiry_utc, continue, ...) are
// skipped. As in git, a later value replaces an
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
		case "authtype":
			r.AuthType = value
		case "credential":
			r.Credential = value
		case "state[]":
			r.State = appendOrClear(r.State, value)
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

// URL is the request as protocol://[username@]host[/path], the form
// profile match prefixes are compared with (a prefix with a username picks
// one of several accounts on a host), or "" when protocol or host is
// missing. The password is never part of it.
func (r Request) URL() string {
	if r.Protocol == "" || r.Host == "" {
		return ""
	}
	u := url.URL{Scheme: r.Protocol, Host: r.Host}
	if r.Username != "" {
		u.User = url.User(r.Username)
	}
	if r.Path != "" {
		u.Path = "/" + r.Path
	}
	return u.String()
}

// Response is the answer to get.
type Response struct {
	// Username and Password are a Basic credential (every git version).
	Username string
	Password string
	// Bearer, when set, is sent instead as authtype=Bearer and
	// credential=TOKEN, with capability[]=authtype and ephemeral=1; only
	// for a request that announced capability[]=authtype (git 2.46+),
	// since older git would drop it.
	Bearer string
	// AuthTypeCapable echoes capability[]=authtype with a Basic answer,
	// for a request that announced it: git then keeps announcing it on
	// erase, which tells lanyard the refused git could have sent Bearer.
	AuthTypeCapable bool
	// Expiry becomes password_expiry_utc (git 2.41+ drops the credential
	// after it; older git ignores the key). Zero leaves it out.
	Expiry time.Time
	// State becomes capability[]=state and state[]=STATE: only for a
	// request that announced capability[]=state. Empty leaves it out.
	State string
}

// ErrBadValue means a value cannot travel in the protocol: git reads one
// attribute per line, so a newline or NUL would split or cut it.
var ErrBadValue = errors.New("credential value contains a newline or NUL byte and cannot be passed to git")

// Format renders r in git's key=value form, in a fixed order: capability
// lines first (git reads a value only after the capability it depends
// on), then username and password or authtype, credential and ephemeral,
// then password_expiry_utc (Unix seconds) and state[].
func (r Response) Format() ([]byte, error) {
	for _, v := range []string{r.Username, r.Password, r.Bearer, r.State} {
		if strings.ContainsAny(v, "\n\r\x00") {
			return nil, ErrBadValue
		}
	}
	var b bytes.Buffer
	if r.Bearer != "" || r.AuthTypeCapable {
		b.WriteString("capability[]=authtype\n")
	}
	if r.State != "" {
		b.WriteString("capability[]=state\n")
	}
	if r.Bearer != "" {
		// git 2.46 credential.c: "Authorization: " + authtype + " " + credential.
		b.WriteString("authtype=Bearer\n")
		b.WriteString("credential=" + r.Bearer + "\n")
		// The token is short-lived and lanyard keeps its own cache: no
		// other helper should store it.
		b.WriteString("ephemeral=1\n")
	} else {
		b.WriteString("username=" + r.Username + "\n")
		b.WriteString("password=" + r.Password + "\n")
	}
	if !r.Expiry.IsZero() {
		b.WriteString("password_expiry_utc=" + strconv.FormatInt(r.Expiry.Unix(), 10) + "\n")
	}
	if r.State != "" {
		b.WriteString("state[]=" + r.State + "\n")
	}
	return b.Bytes(), nil
}

// Capabilities is the answer to "git-credential-lanyard capability"
// (git-credential(1), "CAPABILITY INPUT/OUTPUT FORMAT").
const Capabilities = "version 0\ncapability authtype\ncapability state\n"

// statePrefix marks lanyard's state[] values: gitcredentials(7) asks each
// helper for "a prefix unique to the credential helper" and to ignore the
// values of others.
const statePrefix = "lanyard:"

// StateFor is the state[] value lanyard puts on a get answer for profile:
// git 2.46+ hands it back on store and erase, which tells lanyard that the
// credential git was refused with is its own, and from which profile.
func StateFor(profile string) string {
	return statePrefix + "profile=" + url.QueryEscape(profile)
}

// Schemes returns the authentication schemes the WWW-Authenticate values
// offer, lower-cased, in order (RFC 9110 §11.6.1: a header holds one or
// more comma-separated challenges, each a scheme followed by a token68 or
// by auth-params, whose quoted values may hold commas).
func Schemes(wwwauth []string) []string {
	var schemes []string
	for _, h := range wwwauth {
		for s := h; ; {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			n := strings.IndexAny(s, " \t,=")
			if n < 0 {
				n = len(s)
			}
			tok, rest := s[:n], strings.TrimLeft(s[n:], " \t")
			if strings.HasPrefix(rest, "=") {
				// An auth-param (or a token68 ending in "="): skip its
				// value up to the next comma outside quotes.
				s = skipElement(rest)
				continue
			}
			schemes = append(schemes, strings.ToLower(tok))
			s = rest
		}
	}
	return schemes
}

// skipElement returns s after the next comma that is not inside a quoted
// string (with backslash escapes), or "" when there is none.
func skipElement(s string) string {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return s[i+1:]
		}
	}
	return ""
}

// offers reports which of Bearer and Basic the WWW-Authenticate values
// offer.
func offers(wwwauth []string) (bearer, basic bool) {
	for _, s := range Schemes(wwwauth) {
		bearer = bearer || s == "bearer"
		basic = basic || s == "basic"
	}
	return bearer, basic
}

// UseBearer decides how to answer get for a profile's git_auth setting
// ("auto", "bearer" or "basic"): as a Bearer credential only when git
// announced capability[]=authtype (older git would drop the fields and
// send nothing), and then for "bearer", or for "auto" when the server
// offers Bearer and not Basic. Everything else gets Basic, as every git
// version understands it.
func UseBearer(gitAuth string, r Request) bool {
	if !r.Has("authtype") {
		return false
	}
	switch gitAuth {
	case "bearer":
		return true
	case "basic":
		return false
	}
	bearer, basic := offers(r.WWWAuth)
	return bearer && !basic
}

// Erase is what an erase request says about the refused credential.
type Erase struct {
	// Secret is the refused password, or the credential of a pre-encoded
	// one; "" when git sent neither, and then there is nothing to drop.
	Secret string
	// Bearer reports that the refused credential was sent as Bearer.
	Bearer bool
	// Profile is the profile named by lanyard's state[], when git handed
	// it back (git 2.46+ with capability[]=state, and lanyard answered).
	Profile string
	// Ours reports that lanyard's state came back: lanyard answered the
	// get. Without it (older git, or another helper answered) only the
	// secret tells, by comparison with the token lanyard handed out.
	Ours bool
}

// Erase reads r as an erase request.
func (r Request) Erase() Erase {
	var e Erase
	if r.Credential != "" && r.AuthType != "" {
		e.Secret, e.Bearer = r.Credential, strings.EqualFold(r.AuthType, "bearer")
	} else {
		e.Secret = r.Password
	}
	for _, s := range r.State {
		v, ok := strings.CutPrefix(s, statePrefix+"profile=")
		if !ok {
			continue
		}
		if name, err := url.QueryUnescape(v); err == nil {
			e.Profile, e.Ours = name, true
		}
	}
	return e
}

// RefusedHint says what to change when the server refused lanyard's
// token, judged from the refusing response's WWW-Authenticate values
// (git 2.41+ sends them on erase) and what git can do. It returns "" when
// the refusal looks like a revoked or expired token, which the next
// attempt recovers from by itself.
func RefusedHint(e Erase, r Request) string {
	bearer, basic := offers(r.WWWAuth)
	switch {
	case e.Bearer && basic && !bearer:
		return `the server refused the token as Bearer and asks for Basic: set git_auth = "basic" (or "auto")`
	case !e.Bearer && bearer && !basic && r.Has("authtype"):
		return `the server asks for a Bearer token, not Basic: set git_auth = "bearer" (or "auto")`
	case !e.Bearer && bearer && !basic:
		return `the server asks for a Bearer token, not Basic, and this git is older than 2.46, which cannot send one: use git 2.46 or later, with git_auth = "auto" or "bearer"`
	case len(r.WWWAuth) == 0 && !r.Has("authtype"):
		// git before 2.41 does not say what the server asked for.
		return `the server refused the token (the next git command gets a new one); if it keeps refusing and takes tokens only as Bearer, not as a Basic password, use git 2.46 or later with git_auth = "bearer"`
	}
	return ""
}

// Answer is the get answer handing token (valid until expiry) to git for
// request r from profile, given the profile's git_username (default
// DefaultUsername) and git_auth (see UseBearer). It never carries
// oauth_refresh_token: the refresh token stays in lanyard.
func Answer(r Request, profile, gitUsername, gitAuth, token string, expiry time.Time) Response {
	a := Response{Expiry: expiry, AuthTypeCapable: r.Has("authtype")}
	if UseBearer(gitAuth, r) {
		a.Bearer = token
	} else {
		a.Username, a.Password = gitUsername, token
		if a.Username == "" {
			a.Username = DefaultUsername
		}
	}
	if r.Has("state") {
		a.State = StateFor(profile)
	}
	return a
}
