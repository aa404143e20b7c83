// Package config reads and validates the lanyard profiles file.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// Grant types a profile may name. Plugin grants are "plugin:NAME".
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
	GrantAuthorizationCode = "authorization_code"
	GrantDeviceCode        = "device_code"
	GrantImplicit          = "implicit"
	GrantJWTBearer         = "jwt_bearer"     // RFC 7523 §2.1
	GrantTokenExchange     = "token_exchange" // RFC 8693
	GrantPluginPrefix      = "plugin:"
)

// How git receives the token (git_auth): as a Basic password, as a Bearer
// credential (git 2.46+ only), or Bearer exactly when the server's
// WWW-Authenticate offers Bearer and not Basic.
const (
	GitAuthAuto   = "auto"
	GitAuthBearer = "bearer"
	GitAuthBasic  = "basic"
)

// How cargo receives the token (cargo_auth): cargo sends the credential
// provider's answer as the whole Authorization header value, so "bearer"
// answers "Bearer TOKEN" and "bare" the token alone, for registries that
// compare the header with the token itself.
const (
	CargoAuthBearer = "bearer"
	CargoAuthBare   = "bare"
)

// Profile is one API account: where its tokens come from and how the tools
// receive them. Secret fields hold references ("keyring", "env:NAME",
// "file:PATH", "cmd:COMMAND"), never the secret itself.
type Profile struct {
	Name string
	// File and Line locate the profile's table, for error messages.
	File string
	Line int

	Issuer        string
	TokenURL      string
	AuthURL       string
	DeviceAuthURL string
	RevocationURL string

	Grant        string
	ClientID     string
	ClientSecret string // reference
	ClientAuth   string // basic | post | none | private_key_jwt | client_assertion | tls_client_auth | self_signed_tls_client_auth
	TokenRequest string // form | json | multipart

	Scopes         []string
	ScopeParam     string
	ScopeSeparator string
	Audience       string

	RedirectURI string
	PKCE        string // S256 | none
	// ResponseMode and LoginTimeout: see login.go.
	ResponseMode string        // query | form_post
	LoginTimeout time.Duration // how long a waiting tool waits for a browser login
	AuthParams   map[string]string
	TokenParams  map[string]string

	Username string
	Match    []string

	RefreshBefore time.Duration
	Use           string // access_token | id_token

	GitUsername    string
	GitAuth        string // auto | bearer | basic
	DockerUsername string
	CargoAuth      string // bearer | bare
	PipUsername    string // the username pip and twine send with the token (keyrings.lanyard)

	// Plugin settings for grant = "plugin:NAME"; values may be secret references.
	Plugin       map[string]string
	PluginSHA256 string

	// Client authentication and grants without stored secrets (ciauth.go).
	PrivateKey         string   // reference to a PEM key (private_key_jwt)
	KeyID              string   // kid header of signed assertions
	SigningAlg         string   // "" = the key type's default
	AssertionAudience  string   // token_endpoint | issuer
	TLSCert, TLSKey    string   // references to PEM (tls_client_auth)
	ClientAssertion    string   // token source sent as the client's credential
	Assertion          string   // token source of grant jwt_bearer
	SubjectToken       string   // token source of grant token_exchange
	SubjectTokenType   string   // default urn:ietf:params:oauth:token-type:jwt
	ActorToken         string   // optional token source (delegation)
	ActorTokenType     string   // default urn:ietf:params:oauth:token-type:jwt
	RequestedTokenType string   // optional
	Resource           []string // optional RFC 8707 resource indicators, sent by every grant

	// DefaultResource is the resource a caller asks for when the profile
	// sets none (lanyard mcp: the MCP server's canonical URI). It is not
	// read from the file and not part of the cache key: a caller's
	// resource must not log the profile out.
	DefaultResource []string

	// Shared names the [shared.NAME] team tier this profile's token state
	// lives in ("" for none); SharedTier is that table.
	Shared     string
	SharedTier *SharedTier

	// hiddenEnv: see HiddenEnv.
	hiddenEnv []string
}

// PluginName returns NAME for grant "plugin:NAME", or "".
func (p *Profile) PluginName() string {
	name, ok := strings.CutPrefix(p.Grant, GrantPluginPrefix)
	if !ok {
		return ""
	}
	return name
}

// Interactive reports whether the profile's grant needs a person at a
// browser or terminal to obtain its first token.
func (p *Profile) Interactive() bool {
	switch p.Grant {
	case GrantAuthorizationCode, GrantDeviceCode, GrantImplicit, GrantPassword, GrantRefreshToken:
		// refresh_token: the first refresh token is imported by a person
		// (lanyard login --refresh-token-stdin), as WhenFresh's developer token.
		return true
	}
	return false
}

// CacheKey hashes the fields that change what a token means, so that editing
// a profile's scopes or endpoints never hands out a token minted for the old
// settings.
func (p *Profile) CacheKey() string {
	h := sha256.New()
	write := func(k, v string) {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	write("issuer", p.Issuer)
	write("token_url", p.TokenURL)
	write("auth_url", p.AuthURL)
	write("device_auth_url", p.DeviceAuthURL)
	write("grant", p.Grant)
	write("client_id", p.ClientID)
	write("scopes", strings.Join(p.Scopes, "\x1f"))
	write("username", p.Username)
	write("audience", p.Audience)
	write("redirect_uri", p.RedirectURI)
	// Written only when set, so the keys of profiles older than these
	// settings do not change.
	for _, kv := range []struct{ k, v string }{
		{"client_assertion", p.ClientAssertion}, {"assertion", p.Assertion},
		{"subject_token", p.SubjectToken}, {"subject_token_type", p.SubjectTokenType},
		{"actor_token", p.ActorToken}, {"requested_token_type", p.RequestedTokenType},
		{"resource", strings.Join(p.Resource, "\x1f")},
	} {
		if kv.v != "" {
			write(kv.k, kv.v)
		}
	}
	keys := make([]string, 0, len(p.TokenParams)+len(p.AuthParams))
	for k := range p.TokenParams {
		keys = append(keys, "t."+k)
	}
	for k := range p.AuthParams {
		keys = append(keys, "a."+k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := strings.CutPrefix(k, "t."); ok {
			write(k, p.TokenParams[v])
		} else {
			write(k, p.AuthParams[strings.TrimPrefix(k, "a.")])
		}
	}
	if p.PluginName() != "" {
		pk := make([]string, 0, len(p.Plugin))
		for k := range p.Plugin {
			pk = append(pk, k)
		}
		sort.Strings(pk)
		for _, k := range pk {
			write("plugin."+k, p.Plugin[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// UseIDToken reports whether tools receive the id_token instead of the access token.
func (p *Profile) UseIDToken() bool { return p.Use == "id_token" }

// EffectiveRefreshBefore returns how long before expiry a token counts as
// stale: refresh_before, but never more than a tenth of the token's lifetime,
// so a 30 s token is used for 27 s.
func (p *Profile) EffectiveRefreshBefore(lifetime time.Duration) time.Duration {
	rb := p.RefreshBefore
	if lifetime > 0 && rb > lifetime/10 {
		rb = lifetime / 10
	}
	return rb
}

// Resources are the RFC 8707 resource indicators sent on authorization and
// token requests: the profile's own, else DefaultResource.
func (p *Profile) Resources() []string {
	if len(p.Resource) > 0 {
		return p.Resource
	}
	return p.DefaultResource
}
