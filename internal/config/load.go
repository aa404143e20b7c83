package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/env"

	"github.com/BurntSushi/toml"
)

// typeErr matches BurntSushi/toml's type mismatch errors, which carry the
// line only in their text. Compiled on first use: every helper links this
// package, and only a broken profiles file needs it.
var typeErr = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): (.*)$`)
})

// DefaultRefreshBefore is how long before expiry a token is refreshed when
// the profile does not say.
const DefaultRefreshBefore = 60 * time.Second

// File is a parsed, validated profiles file.
type File struct {
	Path     string
	Profiles map[string]*Profile
	// Shared holds the [shared.NAME] tables (Redis/Valkey team tiers).
	Shared map[string]*SharedTier
}

// Path returns the profiles file location: $LANYARD_CONFIG, else
// $XDG_CONFIG_HOME/lanyard/config.toml, else ~/.config/lanyard/config.toml.
func Path(getenv func(string) string) string { return env.Env(getenv).ConfigPath() }

// Error is a problem in the profiles file. It names the file, line and key,
// and says what to change.
type Error struct {
	File string
	Line int
	Key  string // profiles.NAME.key, or "" for file-level problems
	Msg  string
	Err  error // the underlying error, e.g. fs.ErrNotExist for a missing file
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// ErrNoProfile is returned (wrapped) when a profile name is not in the file.
var ErrNoProfile = errors.New("no such profile")

// rawProfile mirrors the TOML keys of a profile table.
type rawProfile struct {
	Issuer         string            `toml:"issuer"`
	TokenURL       string            `toml:"token_url"`
	AuthURL        string            `toml:"auth_url"`
	DeviceAuthURL  string            `toml:"device_auth_url"`
	RevocationURL  string            `toml:"revocation_url"`
	Grant          string            `toml:"grant"`
	ClientID       string            `toml:"client_id"`
	ClientSecret   string            `toml:"client_secret"`
	ClientAuth     string            `toml:"client_auth"`
	TokenRequest   string            `toml:"token_request"`
	Scopes         []string          `toml:"scopes"`
	ScopeParam     string            `toml:"scope_param"`
	ScopeSeparator *string           `toml:"scope_separator"`
	Audience       string            `toml:"audience"`
	RedirectURI    string            `toml:"redirect_uri"`
	PKCE           string            `toml:"pkce"`
	ResponseMode   string            `toml:"response_mode"`
	LoginTimeout   string            `toml:"login_timeout"`
	AuthParams     map[string]string `toml:"auth_params"`
	TokenParams    map[string]string `toml:"token_params"`
	Username       string            `toml:"username"`
	Match          []string          `toml:"match"`
	RefreshBefore  string            `toml:"refresh_before"`
	Use            string            `toml:"use"`
	GitUsername    string            `toml:"git_username"`
	GitAuth        string            `toml:"git_auth"`
	DockerUsername string            `toml:"docker_username"`
	CargoAuth      string            `toml:"cargo_auth"`
	PipUsername    string            `toml:"pip_username"`
	Plugin         map[string]string `toml:"plugin"`
	PluginSHA256   string            `toml:"plugin_sha256"`

	// Client authentication and grants without stored secrets (ciauth.go).
	PrivateKey         string   `toml:"private_key"`
	KeyID              string   `toml:"key_id"`
	SigningAlg         string   `toml:"signing_alg"`
	AssertionAudience  string   `toml:"assertion_audience"`
	TLSCert            string   `toml:"tls_cert"`
	TLSKey             string   `toml:"tls_key"`
	ClientAssertion    string   `toml:"client_assertion"`
	Assertion          string   `toml:"assertion"`
	SubjectToken       string   `toml:"subject_token"`
	SubjectTokenType   string   `toml:"subject_token_type"`
	ActorToken         string   `toml:"actor_token"`
	ActorTokenType     string   `toml:"actor_token_type"`
	RequestedTokenType string   `toml:"requested_token_type"`
	Resource           []string `toml:"resource"`

	Shared string `toml:"shared"`
}

type rawFile struct {
	Profiles map[string]rawProfile `toml:"profiles"`
	Shared   map[string]rawShared  `toml:"shared"`
}

// Load reads and validates the profiles file at path. A missing file is an
// error that says how to create one and wraps fs.ErrNotExist, for helpers
// that treat "no file" as "no profiles".
//
// The path must be absolute (a relative LANYARD_CONFIG would be read from
// the repository git runs a helper in), and the file must pass
// CheckTrusted: its cmd: references run as the user.
func Load(path string) (*File, error) {
	if !filepath.IsAbs(path) {
		return nil, &Error{File: path, Msg: "the profiles file path is relative, so it would be read from whatever directory lanyard runs in (git runs helpers inside the repository); set LANYARD_CONFIG (or XDG_CONFIG_HOME, HOME) to an absolute path"}
	}
	data, err := readTrusted("profiles file", path, 16<<20)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &Error{File: path, Msg: "profiles file does not exist; create it with a [profiles.NAME] table (see docs/profiles.md) or set LANYARD_CONFIG", Err: os.ErrNotExist}
	}
	if err != nil {
		return nil, fmt.Errorf("could not read profiles file: %w", err)
	}
	return Parse(path, data)
}

// Parse validates the TOML document data read from path.
func Parse(path string, data []byte) (*File, error) {
	var raw rawFile
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: path, Line: pe.Position.Line, Msg: pe.Message + "; fix the TOML syntax"}
		}
		if m := typeErr().FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: path, Line: line, Key: m[2], Msg: m[3] + "; lists are written [\"a\", \"b\"], durations \"60s\", everything else as a quoted string"}
		}
		return nil, &Error{File: path, Msg: err.Error()}
	}
	lines := newLineIndex(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		msg := "unknown key; remove it or check its spelling (known keys are listed in docs/profiles.md)"
		if len(k) == 1 {
			msg = "unknown top-level table; profiles go in [profiles.NAME] tables, shared tiers in [shared.NAME]"
		} else if k[0] == "shared" {
			msg = "unknown key; remove it or check its spelling (known keys are listed in docs/shared.md)"
		}
		return nil, &Error{File: path, Line: lines.find(k), Key: k.String(), Msg: msg}
	}
	f := &File{Path: path, Profiles: map[string]*Profile{}, Shared: map[string]*SharedTier{}}
	tiers := make([]string, 0, len(raw.Shared))
	for name := range raw.Shared {
		tiers = append(tiers, name)
	}
	sort.Strings(tiers)
	for _, name := range tiers {
		s, err := buildShared(path, name, raw.Shared[name], lines)
		if err != nil {
			return nil, err
		}
		f.Shared[name] = s
	}
	names := make([]string, 0, len(raw.Profiles))
	for name := range raw.Profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !ValidProfileName(name) {
			return nil, &Error{File: path, Line: lines.find(toml.Key{"profiles", name}),
				Msg: fmt.Sprintf("profile name %q is not allowed: use letters, digits, '.', '_' and '-' (starting with a letter or digit, at most 64); rename the table", name)}
		}
	}
	for _, name := range names {
		p, err := build(path, name, raw.Profiles[name], lines)
		if err != nil {
			return nil, err
		}
		if p.Shared != "" {
			if p.SharedTier = f.Shared[p.Shared]; p.SharedTier == nil {
				return nil, &Error{File: path, Line: lines.find(toml.Key{"profiles", name, "shared"}), Key: "profiles." + name + ".shared",
					Msg: fmt.Sprintf("%q names no [shared.%s] table; add one (see docs/shared.md) or remove the key", p.Shared, p.Shared)}
			}
		}
		f.Profiles[name] = p
	}
	f.hideOthersEnv()
	return f, nil
}

// Profile returns the named profile or an error listing the known ones.
func (f *File) Profile(name string) (*Profile, error) {
	if p, ok := f.Profiles[name]; ok {
		return p, nil
	}
	known := f.Names()
	hint := "add a [profiles." + name + "] table"
	if len(known) > 0 {
		hint = "known profiles: " + strings.Join(known, ", ")
	}
	return nil, fmt.Errorf("profile %q not found in %s (%s): %w", name, f.Path, hint, ErrNoProfile)
}

// Names returns the profile names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func build(path, name string, r rawProfile, lines lineIndex) (*Profile, error) {
	key := func(k string) toml.Key { return toml.Key{"profiles", name, k} }
	fail := func(k, msg string) error {
		return &Error{File: path, Line: lines.find(key(k)), Key: key(k).String(), Msg: msg}
	}
	p := &Profile{
		Name: name, File: path, Line: lines.find(toml.Key{"profiles", name}),
		Issuer: r.Issuer, TokenURL: r.TokenURL, AuthURL: r.AuthURL, DeviceAuthURL: r.DeviceAuthURL,
		RevocationURL: r.RevocationURL, Grant: r.Grant, ClientID: r.ClientID, ClientSecret: r.ClientSecret,
		ClientAuth: r.ClientAuth, TokenRequest: r.TokenRequest, Scopes: r.Scopes, ScopeParam: r.ScopeParam,
		Audience: r.Audience, RedirectURI: r.RedirectURI, PKCE: r.PKCE, AuthParams: r.AuthParams,
		TokenParams: r.TokenParams, Username: r.Username, Match: r.Match, Use: r.Use,
		GitUsername: r.GitUsername, GitAuth: r.GitAuth, DockerUsername: r.DockerUsername, CargoAuth: r.CargoAuth, PipUsername: r.PipUsername,
		Plugin: r.Plugin, PluginSHA256: r.PluginSHA256,
		PrivateKey: r.PrivateKey, KeyID: r.KeyID, SigningAlg: r.SigningAlg, AssertionAudience: r.AssertionAudience,
		TLSCert: r.TLSCert, TLSKey: r.TLSKey, ClientAssertion: r.ClientAssertion, Assertion: r.Assertion,
		SubjectToken: r.SubjectToken, SubjectTokenType: r.SubjectTokenType, ActorToken: r.ActorToken,
		ActorTokenType: r.ActorTokenType, RequestedTokenType: r.RequestedTokenType, Resource: r.Resource,
		Shared: r.Shared,
	}
	if p.Grant == "" {
		return nil, fail("grant", "missing; set grant to one of client_credentials, refresh_token, password, authorization_code, device_code, implicit, jwt_bearer, token_exchange, plugin:NAME")
	}
	switch p.Grant {
	case GrantClientCredentials, GrantRefreshToken, GrantPassword, GrantAuthorizationCode, GrantDeviceCode, GrantImplicit, GrantJWTBearer, GrantTokenExchange:
	default:
		if p.PluginName() == "" {
			return nil, fail("grant", fmt.Sprintf("%q is not a grant; use one of client_credentials, refresh_token, password, authorization_code, device_code, implicit, jwt_bearer, token_exchange, plugin:NAME", p.Grant))
		}
	}
	for _, u := range []struct{ k, v string }{
		{"issuer", p.Issuer}, {"token_url", p.TokenURL}, {"auth_url", p.AuthURL},
		{"device_auth_url", p.DeviceAuthURL}, {"revocation_url", p.RevocationURL},
	} {
		if u.v == "" {
			continue
		}
		if err := CheckEndpoint(u.v); err != nil {
			return nil, fail(u.k, err.Error())
		}
	}
	if p.PluginName() == "" {
		// The implicit grant gets its token from the authorize redirect and
		// never calls the token endpoint.
		if p.Issuer == "" && p.TokenURL == "" && p.Grant != GrantImplicit {
			return nil, fail("token_url", "missing; set issuer (for discovery) or token_url")
		}
		// RFC 7523 §3.1 and RFC 8693 §2.1: a client need not identify itself
		// to trade an assertion or a subject token.
		if p.ClientID == "" && !((p.Grant == GrantJWTBearer || p.Grant == GrantTokenExchange) && p.ClientSecret == "" && p.ClientAuth == "" && p.ClientAssertion == "") {
			return nil, fail("client_id", "missing; set client_id to the client (application) id the provider gave you")
		}
		if p.Issuer == "" && p.AuthURL == "" && (p.Grant == GrantAuthorizationCode || p.Grant == GrantImplicit) {
			return nil, fail("auth_url", "missing; set issuer (for discovery) or auth_url for grant "+p.Grant)
		}
		if p.Issuer == "" && p.DeviceAuthURL == "" && p.Grant == GrantDeviceCode {
			return nil, fail("device_auth_url", "missing; set issuer (for discovery) or device_auth_url for grant device_code")
		}
	}
	if p.DockerUsername == IdentityTokenUsername {
		return nil, fail("docker_username", fmt.Sprintf("%q makes docker clients treat the token as a registry identity (refresh) token; remove docker_username or set another name", p.DockerUsername))
	}
	if p.ClientSecret != "" {
		if err := CheckSecretRef(p.ClientSecret); err != nil {
			return nil, fail("client_secret", err.Error())
		}
	}
	for k, v := range p.Plugin {
		if IsSecretRef(v) {
			if err := CheckSecretRef(v); err != nil {
				return nil, fail("plugin."+k, err.Error())
			}
		}
	}
	if err := buildClientAuth(p, fail); err != nil {
		return nil, err
	}
	if err := buildAssertionGrants(p, fail); err != nil {
		return nil, err
	}
	switch p.TokenRequest {
	case "":
		p.TokenRequest = "form"
	case "form", "json", "multipart":
	default:
		return nil, fail("token_request", fmt.Sprintf("%q is not valid; use form, json or multipart", p.TokenRequest))
	}
	if p.ScopeParam == "" {
		p.ScopeParam = "scope"
	}
	p.ScopeSeparator = " "
	if r.ScopeSeparator != nil {
		if *r.ScopeSeparator != " " && *r.ScopeSeparator != "," {
			return nil, fail("scope_separator", fmt.Sprintf("%q is not valid; use \" \" or \",\"", *r.ScopeSeparator))
		}
		p.ScopeSeparator = *r.ScopeSeparator
	}
	if err := buildLogin(p, r, fail); err != nil {
		return nil, err
	}
	switch p.PKCE {
	case "":
		p.PKCE = "S256"
	case "S256", "none":
	default:
		return nil, fail("pkce", fmt.Sprintf("%q is not valid; use S256 or none", p.PKCE))
	}
	if p.RedirectURI != "" {
		if u, err := url.Parse(p.RedirectURI); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fail("redirect_uri", fmt.Sprintf("%q is not an absolute URL; use e.g. http://127.0.0.1:8765/callback", p.RedirectURI))
		}
	}
	if p.Grant == GrantPassword && p.Username == "" {
		return nil, fail("username", "missing; the password grant needs username (the password is asked at login, never stored)")
	}
	for _, m := range p.Match {
		u, err := url.Parse(m)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			return nil, fail("match", fmt.Sprintf("%q is not a URL prefix; use e.g. https://git.example.com/ or https://registry.example.com", m))
		case u.Scheme == "http" && !IsLoopback(u.Hostname()):
			// The token would cross the network in clear to whoever answers.
			return nil, fail("match", fmt.Sprintf("%q sends the token over plain http to a non-loopback host; use https://%s%s", m, u.Host, u.Path))
		case hasDotSegments(m):
			return nil, fail("match", fmt.Sprintf("%q has . or .. path segments; write the prefix without them", m))
		}
	}
	p.RefreshBefore = DefaultRefreshBefore
	if r.RefreshBefore != "" {
		d, err := time.ParseDuration(r.RefreshBefore)
		if err != nil || d < 0 {
			return nil, fail("refresh_before", fmt.Sprintf("%q is not a duration; use e.g. \"60s\" or \"5m\"", r.RefreshBefore))
		}
		p.RefreshBefore = d
	}
	switch p.Use {
	case "":
		p.Use = "access_token"
	case "access_token", "id_token":
	default:
		return nil, fail("use", fmt.Sprintf("%q is not valid; use access_token or id_token", p.Use))
	}
	switch p.GitAuth {
	case "":
		p.GitAuth = GitAuthAuto
	case GitAuthAuto, GitAuthBearer, GitAuthBasic:
	default:
		return nil, fail("git_auth", fmt.Sprintf("%q is not valid; use auto (Bearer when the server asks only for Bearer and git is 2.46 or later), bearer or basic", p.GitAuth))
	}
	switch p.CargoAuth {
	case "":
		p.CargoAuth = CargoAuthBearer
	case CargoAuthBearer, CargoAuthBare:
	default:
		return nil, fail("cargo_auth", fmt.Sprintf("%q is not valid; use bearer (cargo sends \"Bearer TOKEN\") or bare (the token alone)", p.CargoAuth))
	}
	if p.PluginSHA256 != "" && !isHex64(p.PluginSHA256) {
		return nil, fail("plugin_sha256", "must be 64 hex digits; get it with: lanyard plugins")
	}
	return p, nil
}

// CheckEndpoint rejects relative URLs and plain http to anything but
// loopback: tokens and secrets must not cross a network in clear.
func CheckEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL; use https://HOST/PATH", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q uses plain http to a non-loopback host; use https://%s%s", raw, u.Host, u.Path)
	}
	return fmt.Errorf("%q: scheme %q is not supported; use https", raw, u.Scheme)
}

// IsLoopback reports whether host is localhost or a loopback IP.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
