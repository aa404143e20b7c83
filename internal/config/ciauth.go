package config

import (
	"fmt"
	"slices"
	"strings"
)

// Client authentication methods a profile may name (client_auth).
const (
	AuthBasic           = "basic"
	AuthPost            = "post"
	AuthNone            = "none"
	AuthPrivateKeyJWT   = "private_key_jwt"             // RFC 7523 §2.2
	AuthClientAssertion = "client_assertion"            // set by client_assertion
	AuthTLS             = "tls_client_auth"             // RFC 8705 §2.1
	AuthSelfSignedTLS   = "self_signed_tls_client_auth" // RFC 8705 §2.2
)

// Token types of RFC 8693 §3 that a profile's defaults use.
const (
	TokenTypeJWT = "urn:ietf:params:oauth:token-type:jwt"
)

// SigningAlgs are the signing_alg values for private_key_jwt.
var SigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Assertion audiences (assertion_audience).
const (
	AudienceTokenEndpoint = "token_endpoint"
	AudienceIssuer        = "issuer"
)

// CheckTokenSource validates a token source (client_assertion, assertion,
// subject_token, actor_token): a token someone else issues, fetched anew on
// every use.
func CheckTokenSource(ref string) error {
	switch {
	case strings.HasPrefix(ref, "github-actions:") && len(ref) > len("github-actions:"),
		strings.HasPrefix(ref, "env:") && len(ref) > 4:
		return nil
	case strings.HasPrefix(ref, "file:") && len(ref) > 5,
		strings.HasPrefix(ref, "cmd:") && len(ref) > 4:
		return checkRefPath(ref)
	}
	return fmt.Errorf("%q is not a token source; use \"github-actions:AUDIENCE\", \"env:VAR\" (GitLab CI id_tokens), \"file:PATH\" (a projected service-account token) or \"cmd:COMMAND\"", ref)
}

// UsesTLSClientAuth reports whether p authenticates with a client certificate.
func (p *Profile) UsesTLSClientAuth() bool {
	return p.ClientAuth == AuthTLS || p.ClientAuth == AuthSelfSignedTLS
}

// buildClientAuth checks client_auth and its keys and applies defaults:
// basic with a secret, client_assertion with a source, else none.
func buildClientAuth(p *Profile, fail func(k, msg string) error) error {
	for _, r := range []struct{ k, v string }{{"private_key", p.PrivateKey}, {"tls_cert", p.TLSCert}, {"tls_key", p.TLSKey}} {
		if r.v != "" {
			if err := CheckSecretRef(r.v); err != nil {
				return fail(r.k, err.Error())
			}
		}
	}
	if p.ClientAssertion != "" {
		if err := CheckTokenSource(p.ClientAssertion); err != nil {
			return fail("client_assertion", err.Error())
		}
		switch {
		case p.ClientSecret != "":
			return fail("client_assertion", "the federated token is the client's credential: remove client_secret (a client uses one method)")
		case p.ClientAuth == "":
			p.ClientAuth = AuthClientAssertion
		case p.ClientAuth != AuthClientAssertion:
			return fail("client_auth", fmt.Sprintf("%q conflicts with client_assertion, which is the client's credential; remove client_auth", p.ClientAuth))
		}
	}
	secretless := "; set client_secret = \"keyring\" (then: lanyard secret set " + p.Name + " client_secret) or use client_auth = \"none\""
	switch p.ClientAuth {
	case "":
		p.ClientAuth = AuthNone
		if p.ClientSecret != "" {
			p.ClientAuth = AuthBasic
		}
	case AuthBasic, AuthPost:
		if p.ClientSecret == "" {
			return fail("client_auth", fmt.Sprintf("%q needs client_secret%s", p.ClientAuth, secretless))
		}
	case AuthNone:
	case AuthPrivateKeyJWT:
		if p.PrivateKey == "" {
			return fail("private_key", "missing; client_auth = \"private_key_jwt\" signs with private_key: set private_key = \"file:PATH\" (a PEM RSA, EC P-256/P-384 or Ed25519 key) or \"keyring\"")
		}
	case AuthClientAssertion:
		if p.ClientAssertion == "" {
			return fail("client_assertion", "missing; client_auth = \"client_assertion\" needs client_assertion = \"github-actions:AUDIENCE\", \"env:VAR\", \"file:PATH\" or \"cmd:COMMAND\"")
		}
	case AuthTLS, AuthSelfSignedTLS:
		if p.TLSCert == "" {
			return fail("tls_cert", fmt.Sprintf("missing; client_auth = %q presents tls_cert: set tls_cert = \"file:PATH\" (PEM) and tls_key", p.ClientAuth))
		}
	default:
		return fail("client_auth", fmt.Sprintf("%q is not valid; use basic, post, none, private_key_jwt, tls_client_auth or self_signed_tls_client_auth", p.ClientAuth))
	}
	if p.TLSCert != "" && p.TLSKey == "" {
		return fail("tls_key", "missing; tls_cert is a certificate without its key: set tls_key = \"file:PATH\" to the certificate's PEM private key")
	}
	if p.TLSKey != "" && p.TLSCert == "" {
		return fail("tls_cert", "missing; tls_key is a key without its certificate: set tls_cert = \"file:PATH\" (PEM)")
	}
	if p.ClientSecret != "" && (p.ClientAuth == AuthPrivateKeyJWT || p.UsesTLSClientAuth()) {
		return fail("client_secret", fmt.Sprintf("not used with client_auth = %q; remove it (a client uses one method)", p.ClientAuth))
	}
	if p.ClientAuth != AuthPrivateKeyJWT {
		for _, r := range []struct{ k, v string }{{"private_key", p.PrivateKey}, {"key_id", p.KeyID}, {"signing_alg", p.SigningAlg}, {"assertion_audience", p.AssertionAudience}} {
			if r.v != "" {
				return fail(r.k, "only used with client_auth = \"private_key_jwt\"; set that or remove "+r.k)
			}
		}
	}
	if p.SigningAlg != "" && !slices.Contains(SigningAlgs, p.SigningAlg) {
		return fail("signing_alg", fmt.Sprintf("%q is not valid; use %s, or remove it to take the key type's default", p.SigningAlg, strings.Join(SigningAlgs, ", ")))
	}
	switch p.AssertionAudience {
	case "":
		if p.ClientAuth == AuthPrivateKeyJWT {
			p.AssertionAudience = AudienceTokenEndpoint
		}
	case AudienceTokenEndpoint:
	case AudienceIssuer:
		if p.Issuer == "" {
			return fail("assertion_audience", "\"issuer\" needs issuer; set issuer or use assertion_audience = \"token_endpoint\"")
		}
	default:
		return fail("assertion_audience", fmt.Sprintf("%q is not valid; use token_endpoint (default) or issuer", p.AssertionAudience))
	}
	if p.Grant == GrantClientCredentials && p.ClientAuth == AuthNone {
		return fail("client_secret", "missing; client_credentials needs a secret: set client_secret = \"keyring\" and run: lanyard secret set "+p.Name+" client_secret (or go without one: client_auth = \"private_key_jwt\" or \"tls_client_auth\", or client_assertion)")
	}
	return nil
}

// buildAssertionGrants checks the keys of grants jwt_bearer and
// token_exchange and applies the token type defaults.
func buildAssertionGrants(p *Profile, fail func(k, msg string) error) error {
	for _, r := range []struct{ k, v string }{{"assertion", p.Assertion}, {"subject_token", p.SubjectToken}, {"actor_token", p.ActorToken}} {
		if r.v != "" {
			if err := CheckTokenSource(r.v); err != nil {
				return fail(r.k, err.Error())
			}
		}
	}
	if p.Grant == GrantJWTBearer && p.Assertion == "" {
		return fail("assertion", "missing; grant = \"jwt_bearer\" sends assertion: set assertion = \"github-actions:AUDIENCE\", \"env:VAR\", \"file:PATH\" or \"cmd:COMMAND\"")
	}
	if p.Grant != GrantJWTBearer && p.Assertion != "" {
		return fail("assertion", "only used with grant = \"jwt_bearer\"; to authenticate the client with a federated token use client_assertion")
	}
	if p.Grant == GrantTokenExchange {
		if p.SubjectToken == "" {
			return fail("subject_token", "missing; grant = \"token_exchange\" trades subject_token: set subject_token = \"github-actions:AUDIENCE\", \"env:VAR\", \"file:PATH\" or \"cmd:COMMAND\"")
		}
		if p.SubjectTokenType == "" {
			p.SubjectTokenType = TokenTypeJWT
		}
		if p.ActorToken != "" && p.ActorTokenType == "" {
			p.ActorTokenType = TokenTypeJWT
		}
		if p.ActorTokenType != "" && p.ActorToken == "" {
			return fail("actor_token_type", "set without actor_token; add actor_token or remove actor_token_type")
		}
		for _, r := range []struct{ k, v string }{{"subject_token_type", p.SubjectTokenType}, {"actor_token_type", p.ActorTokenType}, {"requested_token_type", p.RequestedTokenType}} {
			if r.v != "" && !strings.HasPrefix(r.v, "urn:") {
				return fail(r.k, fmt.Sprintf("%q is not a token type URI; use e.g. urn:ietf:params:oauth:token-type:jwt or urn:ietf:params:oauth:token-type:access_token", r.v))
			}
		}
		return nil
	}
	for _, r := range []struct{ k, v string }{{"subject_token", p.SubjectToken}, {"subject_token_type", p.SubjectTokenType}, {"actor_token", p.ActorToken}, {"actor_token_type", p.ActorTokenType}, {"requested_token_type", p.RequestedTokenType}} {
		if r.v != "" {
			return fail(r.k, "only used with grant = \"token_exchange\"; set that grant or remove "+r.k)
		}
	}
	return nil
}
