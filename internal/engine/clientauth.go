package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/grant"
)

// clientAuth sets up the secretless client authentication of p on c: a
// private_key_jwt signer, a federated client_assertion source, or a TLS
// client certificate. Keys and certificates are read on every slow path
// and kept only in memory.
func (e *Engine) clientAuth(ctx context.Context, p *config.Profile, c *grant.Client) error {
	switch p.ClientAuth {
	case config.AuthPrivateKeyJWT:
		s, err := e.KeySigner(ctx, p)
		if err != nil {
			return err
		}
		c.Assertion = s
		if p.AssertionAudience == config.AudienceIssuer {
			c.AssertionAudience = p.Issuer
		}
	case config.AuthClientAssertion:
		c.Assertion = e.Source(p, "client_assertion", p.ClientAssertion, true)
	case config.AuthTLS, config.AuthSelfSignedTLS:
		cert, err := e.secrets(p).Resolve(ctx, p.Name, "tls_cert", p.TLSCert)
		if err != nil {
			return err
		}
		key, err := e.readKey(ctx, p, "tls_key", p.TLSKey)
		if err != nil {
			return err
		}
		httpc, err := grant.WithClientCert(e.HTTP, []byte(cert), []byte(key))
		if err != nil {
			return keyError(p, "tls_key", err)
		}
		c.HTTP = httpc
	}
	return nil
}

// KeySigner reads p's private_key and checks it against signing_alg.
func (e *Engine) KeySigner(ctx context.Context, p *config.Profile) (*grant.KeySigner, error) {
	pemKey, err := e.readKey(ctx, p, "private_key", p.PrivateKey)
	if err != nil {
		return nil, err
	}
	key, alg, err := grant.ParseSigningKey([]byte(pemKey), p.SigningAlg)
	if errors.Is(err, grant.ErrKeyAlgMismatch) {
		return nil, keyError(p, "signing_alg", err)
	}
	if err != nil {
		return nil, keyError(p, "private_key", fmt.Errorf("%q: %w", p.PrivateKey, err))
	}
	return &grant.KeySigner{ClientID: p.ClientID, KeyID: p.KeyID, Alg: alg, Key: key, Now: e.Now}, nil
}

// Source returns the token source ref (the value of key in p). jwt
// requires the token to be an unexpired JWT.
func (e *Engine) Source(p *config.Profile, key, ref string, jwt bool) *grant.Source {
	return &grant.Source{
		Key: key, Ref: ref, JWT: jwt,
		Resolve: func(ctx context.Context, key, ref string) (string, error) {
			return e.secrets(p).Resolve(ctx, p.Name, key, ref)
		},
		Getenv: e.getenv(), HTTP: e.HTTP, Now: e.Now,
	}
}

// isJWT reports whether a token type URI names a JWT, which is checked
// for expiry before it is sent.
func isJWT(typ string) bool { return typ == grant.TokenTypeJWT || typ == grant.TokenTypeIDToken }

// readKey resolves a private key reference; a key file must be the user's
// own and not writable by others.
func (e *Engine) readKey(ctx context.Context, p *config.Profile, key, ref string) (string, error) {
	if path, ok := strings.CutPrefix(ref, "file:"); ok {
		if rest, ok := strings.CutPrefix(path, "~/"); ok {
			path = filepath.Join(e.getenv()("HOME"), rest)
		}
		if err := checkKeyFile(path); err != nil {
			return "", keyError(p, key, err)
		}
	}
	return e.secrets(p).Resolve(ctx, p.Name, key, ref)
}

// keyError names the profile key whose value is wrong, as config errors do.
func keyError(p *config.Profile, key string, err error) error {
	return &config.Error{File: p.File, Line: p.Line, Key: "profiles." + p.Name + "." + key, Msg: err.Error(), Err: err}
}

// assertionGrant runs grant jwt_bearer or token_exchange: the assertion or
// subject token is fetched now, used once and never stored.
func (e *Engine) assertionGrant(ctx context.Context, p *config.Profile) (*grant.Token, error) {
	c, err := e.client(ctx, p)
	if err != nil {
		return nil, err
	}
	if p.Grant == config.GrantJWTBearer {
		a, err := e.Source(p, "assertion", p.Assertion, true).Token(ctx)
		if err != nil {
			return nil, err
		}
		return grant.JWTBearer(ctx, c, a, p.Scopes)
	}
	r := grant.TokenExchangeRequest{
		SubjectTokenType: p.SubjectTokenType, ActorTokenType: p.ActorTokenType,
		RequestedTokenType: p.RequestedTokenType, Audience: p.Audience, Resource: p.Resource, Scopes: p.Scopes,
	}
	if r.SubjectToken, err = e.Source(p, "subject_token", p.SubjectToken, isJWT(p.SubjectTokenType)).Token(ctx); err != nil {
		return nil, err
	}
	if p.ActorToken != "" {
		if r.ActorToken, err = e.Source(p, "actor_token", p.ActorToken, isJWT(p.ActorTokenType)).Token(ctx); err != nil {
			return nil, err
		}
	}
	return grant.TokenExchange(ctx, c, r)
}

// Check is one finding of CheckClientAuth.
type Check struct {
	What string
	Err  error
}

// CheckClientAuth checks p's keys, certificates and token sources for
// lanyard doctor: each key parses and fits signing_alg, certificate and key
// pair up, each source delivers an unexpired JWT (a github-actions source:
// its variables are set). Nothing is printed or kept.
func (e *Engine) CheckClientAuth(ctx context.Context, p *config.Profile) []Check {
	var out []Check
	switch {
	case p.ClientAuth == config.AuthPrivateKeyJWT:
		_, err := e.KeySigner(ctx, p)
		out = append(out, Check{"private_key parses and fits signing_alg", err})
	case p.UsesTLSClientAuth():
		err := e.clientAuth(ctx, p, &grant.Client{})
		out = append(out, Check{"tls_cert and tls_key form a pair", err})
	}
	for _, s := range []struct {
		key, ref string
		jwt      bool
	}{
		{"client_assertion", p.ClientAssertion, true}, {"assertion", p.Assertion, true},
		{"subject_token", p.SubjectToken, isJWT(p.SubjectTokenType)}, {"actor_token", p.ActorToken, isJWT(p.ActorTokenType)},
	} {
		if s.ref != "" {
			out = append(out, Check{s.key + " delivers a token", e.Source(p, s.key, s.ref, s.jwt).Check(ctx)})
		}
	}
	return out
}
