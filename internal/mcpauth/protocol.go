package mcpauth

import (
	"fmt"
	"net/url"
	"strings"
)

// This file is pure: the MCP server's URL, its origin and canonical URI,
// the names lanyard gives it, and WWW-Authenticate challenges. helpers/mcp
// (the relay) and the discovery below share them.

// ServerURL checks the MCP server URL a person typed: https, or http on a
// loopback host; no fragment, no credentials.
func ServerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not an MCP server URL; give the server's full URL, e.g. https://mcp.example.com/mcp", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("MCP server URL %q: use https (http only for 127.0.0.1, ::1 or localhost)", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("MCP server URL %q: remove the user:password part; lanyard sends a bearer token", raw)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("MCP server URL %q: remove the #fragment", raw)
	}
	return u, nil
}

func loopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// Origin is scheme://host[:port] in lower case, with the default port
// dropped: the only place the token may go.
func Origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	scheme := strings.ToLower(u.Scheme)
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// CanonicalResource is the server's canonical URI (MCP authorization,
// "Canonical Server URI"; RFC 8707 §2): lower-case scheme and host, no
// fragment, no query, no trailing slash.
func CanonicalResource(u *url.URL) string {
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return Origin(u) + path
}

// ServerName is a config key for the server at u: its host without dots
// that clients dislike in names (mcp.example.com -> mcp-example-com).
func ServerName(u *url.URL) string {
	var b strings.Builder
	for _, r := range strings.ToLower(u.Hostname()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// ProfileName is the name of the profile lanyard mcp makes for u: its host,
// and its port when it has one.
func ProfileName(u *url.URL) string {
	name := "mcp-" + ServerName(u)
	if p := u.Port(); p != "" {
		name += "-" + p
	}
	return name
}

// WellKnown are the RFC 9728 §3.1 metadata URLs of u: the well-known path
// inserted before u's path, then at the root.
func WellKnown(u *url.URL) []string {
	origin := Origin(u)
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	out := []string{}
	if path != "" {
		out = append(out, origin+"/.well-known/oauth-protected-resource"+path)
	}
	return append(out, origin+"/.well-known/oauth-protected-resource")
}

// Challenge is what a 401 or 403 says in its WWW-Authenticate Bearer
// challenge (RFC 6750 §3, RFC 9728 §5.1).
type Challenge struct {
	Error            string // invalid_token, insufficient_scope
	Scope            string // the scopes the request needs
	ResourceMetadata string // RFC 9728 protected resource metadata URL
}

// StepUpScopes are the scopes an insufficient_scope challenge asks for,
// when each is a valid scope-token (RFC 6749 §3.3: printable ASCII, no
// space, quote or backslash); nil for any other challenge.
func StepUpScopes(c Challenge) []string {
	if c.Error != "insufficient_scope" {
		return nil
	}
	scopes := strings.Fields(c.Scope)
	for _, s := range scopes {
		for _, r := range s {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return nil
			}
		}
	}
	return scopes
}

// ParseChallenge reads the Bearer challenge of a WWW-Authenticate header
// value; ok is false when there is none.
func ParseChallenge(header string) (c Challenge, ok bool) {
	s := strings.TrimSpace(header)
	for s != "" {
		scheme, rest, _ := strings.Cut(s, " ")
		scheme = strings.TrimSuffix(scheme, ",")
		params, next := authParams(rest)
		if strings.EqualFold(scheme, "Bearer") {
			return Challenge{Error: params["error"], Scope: params["scope"], ResourceMetadata: params["resource_metadata"]}, true
		}
		s = strings.TrimSpace(next)
	}
	return Challenge{}, false
}

// authParams reads auth-params (k=v or k="quoted") up to the next scheme.
func authParams(s string) (map[string]string, string) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " ,")
		if s == "" || eq <= 0 || (sp >= 0 && sp < eq) {
			return out, s // the next challenge's scheme, or the end
		}
		key := strings.ToLower(s[:eq])
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexAny(s, " ,")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		out[key] = val
	}
}
