// Package discovery reads OpenID Connect Discovery and RFC 8414
// authorization server metadata, and caches it on disk so that only the
// first token request of a profile pays for it. The cache-hit path of the
// engine never calls this package.
package discovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/backchannel"
	"github.com/lanyardhq/lanyard/internal/config"
)

// Metadata is the subset of provider metadata lanyard uses.
type Metadata struct {
	Issuer                      string `json:"issuer"`
	AuthorizationEndpoint       string `json:"authorization_endpoint"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	RevocationEndpoint          string `json:"revocation_endpoint"`
	// RegistrationEndpoint is RFC 7591 dynamic client registration
	// (lanyard mcp registers a public client there).
	RegistrationEndpoint string `json:"registration_endpoint,omitempty"`
	// IssParameterSupported: authorization responses carry iss (RFC 9207).
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// MTLSEndpointAliases are the endpoints for clients that authenticate
	// with a TLS certificate (RFC 8705 §5).
	MTLSEndpointAliases *Aliases `json:"mtls_endpoint_aliases,omitempty"`
	// What the provider advertises, shown by lanyard init.
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
}

// Aliases is RFC 8705 §5's mtls_endpoint_aliases.
type Aliases struct {
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	RevocationEndpoint          string `json:"revocation_endpoint"`
	// IssParameterSupported: authorization responses carry iss (RFC 9207).
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// TTL is how long cached metadata is trusted.
const TTL = 24 * time.Hour

// Resolver fetches metadata, caching it as JSON files in Dir.
type Resolver struct {
	HTTP *http.Client
	Dir  string // "" disables the disk cache
	Now  func() time.Time
}

type cached struct {
	Fetched  time.Time `json:"fetched"`
	Metadata Metadata  `json:"metadata"`
}

// Get returns the metadata of issuer: from the cache when fresh, else from
// /.well-known/openid-configuration, then /.well-known/oauth-authorization-server.
func (r *Resolver) Get(ctx context.Context, issuer string) (*Metadata, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	path := r.cachePath(issuer)
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			var c cached
			// A cached document is checked again: one written by an older
			// lanyard may predate the issuer and endpoint checks.
			if json.Unmarshal(b, &c) == nil && now().Sub(c.Fetched) < TTL && c.Metadata.TokenEndpoint != "" && c.Metadata.check(issuer, path) == nil {
				return &c.Metadata, nil
			}
		}
	}
	base := strings.TrimRight(issuer, "/")
	var errs []error
	for _, wk := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		m, err := r.fetch(ctx, base+wk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.TokenEndpoint == "" {
			return nil, fmt.Errorf("discovery document %s has no token_endpoint; set token_url in the profile", base+wk)
		}
		if err := m.check(issuer, base+wk); err != nil {
			return nil, err
		}
		if path != "" {
			if b, err := json.Marshal(cached{Fetched: now(), Metadata: *m}); err == nil {
				_ = os.MkdirAll(filepath.Dir(path), 0o700)
				tmp := path + ".tmp" + fmt.Sprint(os.Getpid())
				if os.WriteFile(tmp, b, 0o600) == nil {
					_ = os.Rename(tmp, path)
				}
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("could not discover endpoints of issuer %s (set token_url to skip discovery): %w", issuer, errors.Join(errs...))
}

func (r *Resolver) fetch(ctx context.Context, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	// Same-origin https redirects only: a redirect elsewhere (or to http)
	// would let another server name the endpoints the secrets go to.
	resp, err := backchannel.SameOriginHTTPS(r.HTTP).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err
		}
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
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		return nil, fmt.Errorf("%s: not a JSON metadata document: %q", u, line)
	}
	return &m, nil
}

// check applies RFC 8414 §3.3 and OpenID Connect Discovery §4.3: the
// document's issuer must be the configured one, or the document describes
// another server (an issuer mix-up). WhenFresh's document has no issuer at
// all; that is accepted, since it was fetched from the issuer's own https
// origin. Every endpoint must be https or loopback http, as written ones.
func (m *Metadata) check(issuer, from string) error {
	if m.Issuer != "" && strings.TrimRight(m.Issuer, "/") != strings.TrimRight(issuer, "/") {
		return fmt.Errorf("discovery document %s names issuer %q, not the configured %q (RFC 8414 §3.3), so it was not used; set issuer to the server's real issuer, or set token_url and the other endpoints explicitly", from, m.Issuer, issuer)
	}
	for _, e := range []struct{ k, v string }{
		{"token_endpoint", m.TokenEndpoint}, {"authorization_endpoint", m.AuthorizationEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint}, {"revocation_endpoint", m.RevocationEndpoint},
		{"registration_endpoint", m.RegistrationEndpoint},
	} {
		if e.v == "" {
			continue
		}
		if err := config.CheckEndpoint(e.v); err != nil {
			return fmt.Errorf("discovery document %s: %s: %w, so the document was not used; set the endpoints explicitly in the profile", from, e.k, err)
		}
	}
	return nil
}

func (r *Resolver) cachePath(issuer string) string {
	if r.Dir == "" {
		return ""
	}
	h := sha256.Sum256([]byte(issuer))
	return filepath.Join(r.Dir, hex.EncodeToString(h[:8])+".json")
}

// Forget drops the cached metadata of issuer (after endpoints moved).
func (r *Resolver) Forget(issuer string) {
	if p := r.cachePath(issuer); p != "" {
		_ = os.Remove(p)
	}
}
