// Package mcp is `lanyard mcp`: a stdio MCP server that relays every
// JSON-RPC message between an MCP client (Claude Desktop, an IDE) and a
// remote MCP server over Streamable HTTP, adding the bearer token lanyard's
// agent holds for the server.
//
// The transports are the official Go SDK's (mcp.IOTransport on stdio,
// mcp.StreamableClientTransport over HTTP); messages pass as raw JSON-RPC,
// never through the SDK's client. This file holds the pure parts:
// server-sent events and the client configuration snippet (the server's
// URL, origin and challenges are internal/mcpauth's).
package mcp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

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
