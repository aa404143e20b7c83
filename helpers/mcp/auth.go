package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/mcpauth"
)

// LoginError is a profile that needs a person to log in, where lanyard mcp
// cannot run the login itself (no browser). Its message names the command.
type LoginError struct {
	Profile string
	Reason  string
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("profile %q needs a login (%s); run: lanyard login %s", e.Profile, e.Reason, e.Profile)
}

// tokens asks the agent for the profile's token.
type tokens struct {
	resolver wire.Resolver
	profile  string
	resource string
	// interactive lets a login run (a browser can be opened): the agent
	// client then logs in in a oneshot child, as the other helpers do.
	interactive bool
	// loginOnce: one login attempt per relay, never a loop.
	loginOnce sync.Once
	loginErr  error
}

// get returns a token; rejected is the fingerprint of a token the server
// refused (it is dropped only if it is still the current one, so N relays
// that see one revoked token cause one refresh).
func (t *tokens) get(ctx context.Context, rejected string) (string, error) {
	req := &wire.Request{Op: wire.OpGet, Tool: wire.ToolMCP, Profile: t.profile, Resource: t.resource, Rejected: rejected}
	resp, err := t.resolver.Resolve(ctx, req)
	if err != nil {
		return "", fmt.Errorf("could not reach the lanyard agent: %w", err)
	}
	if resp.Status == wire.StatusLoginRequired && t.interactive {
		ran := false
		t.loginOnce.Do(func() {
			ran = true
			login := *req
			login.Rejected, login.Interactive = "", true
			resp, t.loginErr = t.resolver.Resolve(ctx, &login)
		})
		if !ran {
			// A login already ran (or failed): ask the agent, no second login.
			resp, err = t.resolver.Resolve(ctx, &wire.Request{Op: wire.OpGet, Tool: wire.ToolMCP, Profile: t.profile, Resource: t.resource})
			if err != nil {
				return "", err
			}
		} else if t.loginErr != nil {
			return "", t.loginErr
		}
	}
	return t.answer(resp)
}

// login asks for a token with a login allowed (the step-up after the
// profile's scopes grew: its stored token no longer matches the profile).
func (t *tokens) login(ctx context.Context) (string, error) {
	resp, err := t.resolver.Resolve(ctx, &wire.Request{Op: wire.OpGet, Tool: wire.ToolMCP, Profile: t.profile, Resource: t.resource, Interactive: t.interactive})
	if err != nil {
		return "", fmt.Errorf("could not reach the lanyard agent: %w", err)
	}
	return t.answer(resp)
}

// answer is the token in resp, or the error it stands for.
func (t *tokens) answer(resp *wire.Response) (string, error) {
	switch resp.Status {
	case wire.StatusOK:
		if resp.Token == "" {
			return "", errors.New("the lanyard agent answered without a token")
		}
		return resp.Token, nil
	case wire.StatusLoginRequired:
		reason := "no browser can be opened here"
		if t.interactive {
			reason = "the browser login did not complete"
		}
		return "", &LoginError{Profile: t.profile, Reason: reason}
	default:
		msg := resp.Message
		if msg == "" {
			msg = "status " + resp.Status
		}
		return "", errors.New(msg)
	}
}

// bearer is the HTTP client side: it sends requests only to the server's
// origin, with the token, the negotiated MCP-Protocol-Version, and on a
// 401 asks once for a fresh token and retries that request once.
type bearer struct {
	origin  string
	base    http.RoundTripper
	tokens  *tokens
	version atomic.Value // string: the negotiated protocol version
	// retries counts requests sent again after a 401 (tests, stats).
	retries atomic.Int64
	// addScopes adds scopes to the profile (nil: no step-up); stepped says
	// the one step-up of this relay was tried.
	addScopes func([]string) ([]string, error)
	stderr    io.Writer
	stepped   atomic.Bool
}

// ErrOtherOrigin is a request or redirect to another origin than the MCP
// server's: the token never goes there.
var ErrOtherOrigin = errors.New("refusing to send the token to another origin than the MCP server's")

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	if mcpauth.Origin(req.URL) != b.origin {
		return nil, fmt.Errorf("%w (%s)", ErrOtherOrigin, mcpauth.Origin(req.URL))
	}
	tok, err := b.tokens.get(req.Context(), "")
	if err != nil {
		return nil, err
	}
	resp, err := b.send(req, tok)
	if err == nil && resp.StatusCode == http.StatusForbidden {
		return b.stepUp(req, resp)
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// One refresh and one retry: a revoked or expired token. A body that
	// cannot be sent again ends here, with the 401.
	if req.Body != nil && req.GetBody == nil {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	fresh, err := b.tokens.get(req.Context(), wire.Fingerprint(tok))
	if err != nil {
		return nil, err
	}
	b.retries.Add(1)
	return b.send(req, fresh)
}

func (b *bearer) send(req *http.Request, tok string) (*http.Response, error) {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	if v, _ := b.version.Load().(string); v != "" && r.Header.Get("MCP-Protocol-Version") == "" {
		r.Header.Set("MCP-Protocol-Version", v)
	}
	return b.base.RoundTrip(r)
}

// httpClient is the client the transports use: every request through b,
// redirects only within the origin.
func httpClient(b *bearer) *http.Client {
	return &http.Client{
		Transport: b,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if mcpauth.Origin(req.URL) != b.origin {
				return fmt.Errorf("%w: the server redirected to %s", ErrOtherOrigin, mcpauth.Origin(req.URL))
			}
			if len(via) >= 5 {
				return errors.New("more than 5 redirects from the MCP server")
			}
			return nil
		},
	}
}

// stepUp answers a 403 insufficient_scope that names the scopes the
// request needs (MCP authorization, "Scope Challenge Handling"): once per
// relay, it adds them to the profile's scopes, logs in again (the profile
// changed, so its stored token no longer serves it) and sends the request
// again once. Any other 403, a second one, or a step-up that cannot run
// goes to the client as it came: never a loop.
func (b *bearer) stepUp(req *http.Request, resp *http.Response) (*http.Response, error) {
	ch, _ := mcpauth.ParseChallenge(resp.Header.Get("WWW-Authenticate"))
	scopes := mcpauth.StepUpScopes(ch)
	if len(scopes) == 0 || b.addScopes == nil || (req.Body != nil && req.GetBody == nil) || !b.stepped.CompareAndSwap(false, true) {
		return resp, nil
	}
	profile := b.tokens.profile
	if !b.tokens.interactive {
		fmt.Fprintf(b.stderr, "lanyard mcp: the server needs scopes %q (insufficient_scope); no browser can be opened here: add them to the scopes of profile %q and run: lanyard login %s\n", scopes, profile, profile)
		return resp, nil
	}
	added, err := b.addScopes(scopes)
	if err != nil {
		fmt.Fprintf(b.stderr, "lanyard mcp: the server needs scopes %q (insufficient_scope): %v\n", scopes, err)
		return resp, nil
	}
	if len(added) == 0 {
		// The profile asks for them already: a new login would not help.
		fmt.Fprintf(b.stderr, "lanyard mcp: the server refused scopes %q that profile %q already asks for (insufficient_scope)\n", scopes, profile)
		return resp, nil
	}
	fmt.Fprintf(b.stderr, "lanyard mcp: the server needs scopes %q; added them to profile %q, logging in again\n", added, profile)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	tok, err := b.tokens.login(req.Context())
	if err != nil {
		return nil, err
	}
	b.retries.Add(1)
	return b.send(req, tok)
}
