package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/mcpauth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// CodeLoginRequired is the JSON-RPC error code of a request that failed
// because the profile needs a login (an implementation-defined server
// error, JSON-RPC 2.0 §5.1).
const CodeLoginRequired = -32001

// codeUpstream is a request the relay could not deliver to the server.
const codeUpstream = -32002

// Relay is one `lanyard mcp` process.
type Relay struct {
	// URL is the MCP server's endpoint (checked with ServerURL).
	URL string
	// Profile serves the tokens.
	Profile  string
	Resolver wire.Resolver
	// Interactive: a browser can be opened, so a missing login is run
	// (once) instead of failing.
	Interactive bool
	Stderr      io.Writer
	// Base is the HTTP transport (nil: http.DefaultTransport).
	Base http.RoundTripper
	// AddScopes adds scopes to the profile's scopes key and returns those
	// it added: the step-up on a 403 insufficient_scope (nil: none).
	AddScopes func(scopes []string) ([]string, error)
}

// Run relays between in/out (the MCP client's pipes) and the server until
// in ends (then the session is deleted at the server) or ctx is done.
func (r *Relay) Run(ctx context.Context, in io.ReadCloser, out io.WriteCloser) error {
	u, err := mcpauth.ServerURL(r.URL)
	if err != nil {
		return err
	}
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	b := &bearer{origin: mcpauth.Origin(u), base: base, tokens: &tokens{
		resolver: r.Resolver, profile: r.Profile, resource: mcpauth.CanonicalResource(u), interactive: r.Interactive,
	}, addScopes: r.AddScopes, stderr: r.Stderr}
	hc := httpClient(b)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	local, err := (&sdk.IOTransport{Reader: in, Writer: out}).Connect(ctx)
	if err != nil {
		return err
	}
	defer local.Close()
	// The SDK opens the GET stream and sends MCP-Protocol-Version only for
	// its own client (sessionUpdated is unexported); the relay does both
	// itself once it has seen the initialize result.
	remote, err := (&sdk.StreamableClientTransport{Endpoint: u.String(), HTTPClient: hc, DisableStandaloneSSE: true}).Connect(ctx)
	if err != nil {
		return err
	}
	s := &session{relay: r, local: local, remote: remote, bearer: b, http: hc, url: u.String()}
	downDone := make(chan error, 1)
	go func() { downDone <- s.down(ctx) }()
	upErr := s.up(ctx)
	// The client is gone: answers to calls still under way have nowhere to
	// go. Give them a moment, then cancel them with the session.
	waitBounded(&s.calls, 2*time.Second)
	// Shutdown (MCP lifecycle): the client closed stdin; DELETE the session.
	closeErr := remote.Close()
	cancel()
	s.streams.Wait()
	downErr := <-downDone
	if upErr != nil {
		return upErr
	}
	if downErr != nil && !errors.Is(downErr, io.EOF) && !errors.Is(downErr, context.Canceled) {
		return downErr
	}
	_ = closeErr // a server that cannot delete the session is not our failure
	return nil
}

func waitBounded(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

type session struct {
	relay  *Relay
	local  sdk.Connection
	remote sdk.Connection
	bearer *bearer
	http   *http.Client
	url    string

	mu        sync.Mutex
	initID    *jsonrpc.ID
	streaming bool
	calls     sync.WaitGroup // requests still being posted
	streams   sync.WaitGroup // the GET stream
	writeMu   sync.Mutex
}

// up relays the client's messages to the server. The initialize request
// is posted alone (the session id comes with its answer); later calls are
// posted concurrently, so a long tool call holds up nothing.
func (s *session) up(ctx context.Context) error {
	for {
		msg, err := s.local.Read(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading from the MCP client: %w", err)
		}
		req, isReq := msg.(*jsonrpc.Request)
		if isReq && req.Method == "initialize" && req.IsCall() {
			id := req.ID
			s.mu.Lock()
			s.initID = &id
			s.mu.Unlock()
			s.post(ctx, msg)
			continue
		}
		if isReq && req.IsCall() {
			s.calls.Add(1)
			go func() {
				defer s.calls.Done()
				s.post(ctx, msg)
			}()
			continue
		}
		s.post(ctx, msg)
	}
}

// post sends one message; a call that cannot be delivered is answered with
// a JSON-RPC error, so the client never waits for an answer that will not come.
func (s *session) post(ctx context.Context, msg jsonrpc.Message) {
	err := s.remote.Write(ctx, msg)
	if err == nil {
		return
	}
	req, ok := msg.(*jsonrpc.Request)
	code := int64(codeUpstream)
	var le *LoginError
	if errors.As(err, &le) {
		code = CodeLoginRequired
		err = le
	}
	fmt.Fprintf(s.relay.Stderr, "lanyard mcp: %v\n", err)
	if !ok || !req.IsCall() {
		return
	}
	_ = s.write(ctx, &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: code, Message: "lanyard mcp: " + err.Error()}})
}

func (s *session) write(ctx context.Context, msg jsonrpc.Message) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.local.Write(ctx, msg)
}

// down relays the server's messages to the client.
func (s *session) down(ctx context.Context) error {
	for {
		msg, err := s.remote.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(s.relay.Stderr, "lanyard mcp: the connection to %s ended: %v\n", s.url, err)
			}
			return err
		}
		if resp, ok := msg.(*jsonrpc.Response); ok {
			s.seen(ctx, resp)
		}
		if err := s.write(ctx, msg); err != nil {
			return err
		}
	}
}

// seen notes the initialize result: its protocol version goes on every
// later request, and the GET stream opens.
func (s *session) seen(ctx context.Context, resp *jsonrpc.Response) {
	s.mu.Lock()
	isInit := s.initID != nil && *s.initID == resp.ID && !s.streaming
	if isInit {
		s.streaming = true
	}
	s.mu.Unlock()
	if !isInit || resp.Error != nil {
		return
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if json.Unmarshal(resp.Result, &res) == nil && res.ProtocolVersion != "" {
		s.bearer.version.Store(res.ProtocolVersion)
	}
	s.streams.Add(1)
	go func() {
		defer s.streams.Done()
		s.listen(ctx)
	}()
}

// listenTries bounds reconnections of the GET stream in a row that bring
// no event.
const listenTries = 5

// listen holds the GET stream open (MCP Streamable HTTP, "Listening for
// Messages from the Server"), resuming with Last-Event-ID after a drop
// when the server numbers its events.
func (s *session) listen(ctx context.Context) {
	lastID := ""
	delay := time.Second
	for fails := 0; fails < listenTries && ctx.Err() == nil; {
		got, retry, err := s.listenOnce(ctx, lastID, &lastID)
		switch {
		case errors.Is(err, errNoStream):
			return
		case got:
			fails = 0
		default:
			fails++
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(s.relay.Stderr, "lanyard mcp: server stream: %v\n", err)
		}
		if retry > 0 {
			delay = retry
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

var errNoStream = errors.New("the server offers no GET stream")

func (s *session) listenOnce(ctx context.Context, from string, lastID *string) (got bool, retry time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return false, 0, errNoStream
	}
	req.Header.Set("Accept", "text/event-stream")
	if id := s.remote.SessionID(); id != "" {
		req.Header.Set("Mcp-Session-Id", id)
	}
	if from != "" {
		req.Header.Set("Last-Event-ID", from)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		var le *LoginError
		if errors.As(err, &le) {
			return false, 0, errNoStream
		}
		return false, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// 405: the server offers no stream; other answers likewise end it.
		return false, 0, errNoStream
	}
	err = Events(resp.Body, func(ev Event) error {
		if ev.ID != "" {
			*lastID = ev.ID
		}
		retry = ev.Retry
		if ev.Name != "" && ev.Name != "message" {
			return nil
		}
		msg, err := jsonrpc.DecodeMessage(ev.Data)
		if err != nil {
			return nil // not a JSON-RPC message: skip it, as the SDK does with priming events
		}
		got = true
		return s.write(ctx, msg)
	})
	return got, retry, err
}

// Refuse is the relay that could not start (no profile could be made for
// the server): it answers every call of the MCP client, initialize first,
// with err as a JSON-RPC error until in ends, so the client shows why
// rather than "server disconnected". It returns err.
func Refuse(ctx context.Context, in io.ReadCloser, out io.WriteCloser, stderr io.Writer, err error) error {
	fmt.Fprintf(stderr, "lanyard mcp: %v\n", err)
	conn, cerr := (&sdk.IOTransport{Reader: in, Writer: out}).Connect(ctx)
	if cerr != nil {
		return err
	}
	defer conn.Close()
	code := int64(codeUpstream)
	var le *LoginError
	if errors.As(err, &le) {
		code = CodeLoginRequired
	}
	for {
		msg, rerr := conn.Read(ctx)
		if rerr != nil {
			return err
		}
		if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() {
			if werr := conn.Write(ctx, &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: code, Message: "lanyard mcp: " + err.Error()}}); werr != nil {
				return err
			}
		}
	}
}
