package engine

import (
	"context"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/discovery"
	"github.com/lanyardhq/lanyard/internal/grant"
)

// Endpoints returns p's endpoints: explicit settings win, the rest comes
// from discovery of p.Issuer (cached on disk). Only the slow path calls it.
func (e *Engine) Endpoints(ctx context.Context, p *config.Profile) (*discovery.Metadata, error) {
	m := &discovery.Metadata{}
	needDiscovery := p.TokenURL == "" ||
		(p.AuthURL == "" && (p.Grant == config.GrantAuthorizationCode || p.Grant == config.GrantImplicit)) ||
		(p.DeviceAuthURL == "" && p.Grant == config.GrantDeviceCode)
	if p.Issuer != "" && needDiscovery {
		d, err := e.resolver().Get(ctx, p.Issuer)
		if err != nil {
			return nil, err
		}
		*m = *d
		if a := d.MTLSEndpointAliases; a != nil && p.UsesTLSClientAuth() {
			// RFC 8705 §5: a certificate-authenticated client uses the aliases.
			for _, o := range []struct {
				dst *string
				v   string
			}{{&m.TokenEndpoint, a.TokenEndpoint}, {&m.DeviceAuthorizationEndpoint, a.DeviceAuthorizationEndpoint}, {&m.RevocationEndpoint, a.RevocationEndpoint}} {
				if o.v != "" {
					*o.dst = o.v
				}
			}
		}
	}
	for _, o := range []struct {
		dst *string
		v   string
	}{
		{&m.TokenEndpoint, p.TokenURL}, {&m.AuthorizationEndpoint, p.AuthURL},
		{&m.DeviceAuthorizationEndpoint, p.DeviceAuthURL}, {&m.RevocationEndpoint, p.RevocationURL},
	} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	// Discovered endpoints get the same check as written ones: a metadata
	// document must not send the client secret or tokens over plain http.
	for _, u := range []string{m.TokenEndpoint, m.AuthorizationEndpoint, m.DeviceAuthorizationEndpoint, m.RevocationEndpoint} {
		if u == "" {
			continue
		}
		if err := config.CheckEndpoint(u); err != nil {
			return nil, fmt.Errorf("profile %q: endpoint from discovery of %s: %w; set the endpoint explicitly in %s:%d", p.Name, p.Issuer, err, p.File, p.Line)
		}
	}
	return m, nil
}

// client builds the token endpoint client for p, resolving its secret.
func (e *Engine) client(ctx context.Context, p *config.Profile) (*grant.Client, error) {
	m, err := e.Endpoints(ctx, p)
	if err != nil {
		return nil, err
	}
	secret := ""
	if p.ClientSecret != "" {
		secret, err = e.secrets(p).Resolve(ctx, p.Name, "client_secret", p.ClientSecret)
		if err != nil {
			return nil, err
		}
	}
	c := &grant.Client{
		HTTP:           e.HTTP,
		TokenURL:       m.TokenEndpoint,
		ClientID:       p.ClientID,
		ClientSecret:   secret,
		ClientAuth:     p.ClientAuth,
		Dialect:        p.TokenRequest,
		ScopeParam:     p.ScopeParam,
		ScopeSeparator: p.ScopeSeparator,
		TokenParams:    p.TokenParams,
		Resource:       p.Resources(),
		Now:            e.Now,
		Log:            e.log(),
	}
	if err := e.clientAuth(ctx, p, c); err != nil {
		return nil, err
	}
	return c, nil
}
