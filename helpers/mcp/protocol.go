// Package mcp is `lanyard mcp`: a stdio MCP server that relays every
// JSON-RPC message between an MCP client (Claude Desktop, an IDE) and a
// remote MCP server over Streamable HTTP, adding the bearer token lanyard's
// agent holds for the server.
//
// The transports are the official Go SDK's (mcp.IOTransport on stdio,
// mcp.StreamableClientTransport over HTTP); messages pass as raw JSON-RPC,
// never through the SDK's client. This file holds the pure parts: server
// URL checks, server-sent events, WWW-Authenticate challenges, the client
// configuration snippet.
package mcp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

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

// Event is one server-sent event (WHATWG HTML, "Server-sent events").
type Event struct {
	ID   string
	Name string
	Data []byte
	// Retry is the reconnection time the server asked for (0: none).
	Retry time.Duration
}

// maxEvent bounds one event's data: a JSON-RPC message of a few MiB at most.
const maxEvent = 8 << 20

// ErrEventTooLarge is an event whose data exceeds 8 MiB.
var ErrEventTooLarge = errors.New("server-sent event larger than 8 MiB")

// Events reads server-sent events from r, calling fn for each dispatched
// one, until r ends or fn fails. Comments and unknown fields are ignored;
// an event without data is not dispatched (but its id and retry count).
func Events(r io.Reader, fn func(Event) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var ev Event
	var data bytes.Buffer
	hasData := false
	for {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil // an unterminated event is discarded, as browsers do
			}
			return err
		}
		if line == "" {
			if hasData {
				ev.Data = bytes.Clone(bytes.TrimSuffix(data.Bytes(), []byte("\n")))
				if err := fn(ev); err != nil {
					return err
				}
			}
			// The last event id and the reconnection time last for the stream.
			ev = Event{ID: ev.ID, Retry: ev.Retry}
			data.Reset()
			hasData = false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			if data.Len()+len(value) > maxEvent {
				return ErrEventTooLarge
			}
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "event":
			ev.Name = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.ID = value
			}
		case "retry":
			if n, err := strconv.Atoi(value); err == nil && n >= 0 {
				ev.Retry = time.Duration(n) * time.Millisecond
			}
		}
	}
}

// readLine reads a line ended by \n, \r\n or \r, bounded by maxEvent.
func readLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && b.Len() > 0 {
				return "", io.EOF
			}
			return "", err
		}
		switch c {
		case '\n':
			return b.String(), nil
		case '\r':
			if next, err := br.Peek(1); err == nil && next[0] == '\n' {
				_, _ = br.ReadByte()
			}
			return b.String(), nil
		}
		if b.Len() >= maxEvent {
			return "", ErrEventTooLarge
		}
		b.WriteByte(c)
	}
}

// Challenge is what a 401 or 403 says in its WWW-Authenticate Bearer
// challenge (RFC 6750 §3, RFC 9728 §5.1).
type Challenge struct {
	Error            string // invalid_token, insufficient_scope
	Scope            string // the scopes the request needs
	ResourceMetadata string // RFC 9728 protected resource metadata URL
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

// ClientConfig is the JSON snippet MCP clients share (Claude Desktop's
// claude_desktop_config.json, Cursor's mcp.json, VS Code's mcp.json under
// "servers"): a stdio server started as command with args.
func ClientConfig(name, command string, args []string) ([]byte, error) {
	type server struct {
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	return json.MarshalIndent(map[string]map[string]server{"mcpServers": {name: {Command: command, Args: args}}}, "", "  ")
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
