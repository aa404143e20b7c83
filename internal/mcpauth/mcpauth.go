// Package mcpauth finds out how to get a token for an MCP server that
// answered 401, as the MCP authorization specification says: the server's
// protected resource metadata (RFC 9728), its authorization server's
// metadata (RFC 8414 / OpenID Connect Discovery, checked by
// internal/discovery), and, when lanyard has no client there yet, dynamic
// registration of a public client (RFC 7591). It returns what a profile
// needs; it stores nothing and holds no secret.
package mcpauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/lanyardhq/lanyard/internal/backchannel"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/discovery"
)

// RedirectURI is the loopback redirect a registered client uses: any free
// port (RFC 8252 §7.3; the MCP specification requires servers to accept it).
const RedirectURI = "http://127.0.0.1/callback"

// Server is what lanyard learned about an MCP server's authorization.
type Server struct {
	// Resource is the server's canonical URI (RFC 8707).
	Resource string
	// Issuer is the authorization server; Metadata its checked metadata.
	Issuer   string
	Metadata *discovery.Metadata
	// Scopes are the scopes the server names (its 401's scope, else its
	// metadata's scopes_supported).
	Scopes []string
}

// ResourceMetadata is RFC 9728 §2 (the fields lanyard uses).
type ResourceMetadata struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// ErrNoAuth is a server that did not ask for a token.
var ErrNoAuth = errors.New("the MCP server did not answer 401 to a request without a token")

// Discover probes serverURL without a token and follows its 401.
func Discover(ctx context.Context, hc *http.Client, serverURL string) (*Server, error) {
	u, err := ServerURL(serverURL)
	if err != nil {
		return nil, err
	}
	resource := CanonicalResource(u)
	body := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"lanyard","version":"probe"}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := backchannel.NoRedirects(hc).Do(req)
	if err != nil {
		return nil, fmt.Errorf("could not reach the MCP server %s: %w", u, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, fmt.Errorf("%w (HTTP %d); lanyard mcp relays only to servers that take OAuth tokens", ErrNoAuth, resp.StatusCode)
	}
	ch, _ := ParseChallenge(resp.Header.Get("WWW-Authenticate"))
	var candidates []string
	if ch.ResourceMetadata != "" {
		candidates = []string{ch.ResourceMetadata}
	} else {
		candidates = WellKnown(u)
	}
	var prm *ResourceMetadata
	var errs []error
	for _, c := range candidates {
		m, err := fetchJSON[ResourceMetadata](ctx, hc, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		prm = m
		break
	}
	if prm == nil {
		return nil, fmt.Errorf("could not read the MCP server's protected resource metadata (RFC 9728): %w", errors.Join(errs...))
	}
	// RFC 9728 §3.3: metadata for another resource must not be used.
	if strings.TrimSuffix(prm.Resource, "/") != resource {
		return nil, fmt.Errorf("the protected resource metadata of %s names resource %q, not this server (RFC 9728 §3.3), so it was not used", u, prm.Resource)
	}
	if len(prm.AuthorizationServers) == 0 {
		return nil, fmt.Errorf("the protected resource metadata of %s names no authorization server", u)
	}
	issuer := prm.AuthorizationServers[0]
	if err := config.CheckEndpoint(issuer); err != nil {
		return nil, fmt.Errorf("authorization server of %s: %w", u, err)
	}
	md, err := (&discovery.Resolver{HTTP: hc}).Get(ctx, issuer)
	if err != nil {
		return nil, err
	}
	if md.AuthorizationEndpoint == "" {
		return nil, fmt.Errorf("authorization server %s announces no authorization_endpoint", issuer)
	}
	scopes := strings.Fields(ch.Scope)
	if len(scopes) == 0 {
		scopes = prm.ScopesSupported
	}
	return &Server{Resource: resource, Issuer: issuer, Metadata: md, Scopes: scopes}, nil
}

// Register registers lanyard as a public client (RFC 7591 §2:
// token_endpoint_auth_method none, a loopback redirect) and returns its
// client_id. A client_secret in the answer is ignored: nothing secret is kept.
func Register(ctx context.Context, hc *http.Client, s *Server) (string, error) {
	if s.Metadata.RegistrationEndpoint == "" {
		return "", fmt.Errorf("authorization server %s offers no dynamic client registration; register a client there and run lanyard mcp with --profile (docs/mcp.md)", s.Issuer)
	}
	reg := map[string]any{
		"client_name":                "lanyard",
		"redirect_uris":              []string{RedirectURI},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	}
	if len(s.Scopes) > 0 {
		reg["scope"] = strings.Join(s.Scopes, " ")
	}
	b, _ := json.Marshal(reg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Metadata.RegistrationEndpoint, bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := backchannel.NoRedirects(hc).Do(req)
	if err != nil {
		return "", fmt.Errorf("client registration at %s: %w", s.Metadata.RegistrationEndpoint, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		return "", fmt.Errorf("client registration at %s: HTTP %d: %q", s.Metadata.RegistrationEndpoint, resp.StatusCode, line)
	}
	var out struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.ClientID == "" {
		return "", fmt.Errorf("client registration at %s: the answer has no client_id", s.Metadata.RegistrationEndpoint)
	}
	return out.ClientID, nil
}

func fetchJSON[T any](ctx context.Context, hc *http.Client, u string) (*T, error) {
	if err := config.CheckEndpoint(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := backchannel.SameOriginHTTPS(hc).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%s: not a JSON document", u)
	}
	return &v, nil
}

// NewProfile is the profile lanyard mcp appends for s: marked as its
// own, with the registered public client's id and nothing secret.
func (s *Server) NewProfile(name, serverURL, clientID string) config.NewProfile {
	return config.NewProfile{
		Name: name, Issuer: s.Issuer, Grant: "authorization_code", ClientID: clientID, ClientAuth: "none",
		RedirectURI: RedirectURI, PKCE: "S256", Scopes: s.Scopes, Resource: []string{s.Resource},
		WrittenBy: "lanyard mcp",
		Note:      "For the MCP server " + serverURL + "; client_id was registered at the\nauthorization server (RFC 7591, a public client: no secret).",
	}
}

// Ensure returns the name of the profile lanyard mcp uses for the server
// at u: reused when the profiles file at path has it (its registered
// client too), else made now from the server's 401 (Discover, Register)
// and appended. made says whether it was appended by this call.
func Ensure(ctx context.Context, hc *http.Client, path string, u *url.URL) (name string, made bool, err error) {
	name = ProfileName(u)
	p, err := existing(path, name)
	if err != nil {
		return "", false, err
	}
	if p != nil {
		if !slices.Contains(p.Resources(), CanonicalResource(u)) {
			return "", false, fmt.Errorf("profile %q (%s:%d) is not for %s (its resource is %q); pass --profile, or remove that profile", name, p.File, p.Line, CanonicalResource(u), p.Resources())
		}
		return name, false, nil
	}
	s, err := Discover(ctx, hc, u.String())
	if err != nil {
		return "", false, err
	}
	clientID, err := Register(ctx, hc, s)
	if err != nil {
		return "", false, err
	}
	if err := config.AppendProfile(path, s.NewProfile(name, u.String(), clientID)); err != nil {
		// Another lanyard mcp for the same server may have won the race.
		if p, _ := existing(path, name); p != nil {
			return name, false, nil
		}
		return "", false, err
	}
	return name, true, nil
}

func existing(path, name string) (*config.Profile, error) {
	cfg, err := config.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return cfg.Profiles[name], nil
}
