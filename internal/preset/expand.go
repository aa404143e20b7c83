package preset

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/BurntSushi/toml"
)

// Setup is a preset made concrete for one URL: what the profile says.
type Setup struct {
	Preset Preset
	URL    string // the URL the templates were filled with
	Endpoints
	Match       []string
	RegisterURL string
	Register    []string
}

// ErrNeedURL means the preset has no default URL and none was given.
var ErrNeedURL = errors.New("this preset needs a URL")

// Expand fills p's templates with rawURL ("" is p.DefaultURL).
func (p Preset) Expand(rawURL string) (*Setup, error) {
	raw := strings.TrimSpace(rawURL)
	if raw == "" {
		raw = p.DefaultURL
	}
	if raw == "" {
		return nil, fmt.Errorf("%w: lanyard init %s URL, with URL %s", ErrNeedURL, p.Name, p.URLHelp)
	}
	vars := map[string]string{"{redirect}": p.RedirectURI}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("%q is not a URL lanyard init %s can use; give %s", rawURL, p.Name, p.URLHelp)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%q: give the URL without user, query or fragment (%s)", rawURL, p.URLHelp)
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		raw = u.String()
		vars["{host}"] = u.Host
		vars["{origin}"] = u.Scheme + "://" + u.Host
		vars["{last}"] = path.Base("/" + u.Path)
	} else if strings.ContainsAny(raw, "/?#@ ") {
		return nil, fmt.Errorf("%q is not a URL lanyard init %s can use; give %s", rawURL, p.Name, p.URLHelp)
	}
	vars["{url}"] = raw
	fill := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
	e := p.Endpoints
	if p.SelfHosted != nil && raw != p.DefaultURL {
		e = *p.SelfHosted
	}
	s := &Setup{Preset: p, URL: raw, RegisterURL: fill(p.RegisterURL)}
	s.Issuer, s.AuthURL, s.TokenURL, s.DeviceURL = fill(e.Issuer), fill(e.AuthURL), fill(e.TokenURL), fill(e.DeviceURL)
	for _, m := range p.Match {
		s.Match = append(s.Match, fill(m))
	}
	for _, r := range p.Register {
		s.Register = append(s.Register, fill(r))
	}
	return s, nil
}

// profileTable is one [profiles.NAME] table in key order.
type profileTable struct {
	Issuer        string            `toml:"issuer,omitempty"`
	AuthURL       string            `toml:"auth_url,omitempty"`
	TokenURL      string            `toml:"token_url,omitempty"`
	DeviceAuthURL string            `toml:"device_auth_url,omitempty"`
	Grant         string            `toml:"grant"`
	ClientID      string            `toml:"client_id"`
	ClientSecret  string            `toml:"client_secret,omitempty"`
	ClientAuth    string            `toml:"client_auth,omitempty"`
	Scopes        []string          `toml:"scopes,omitempty"`
	RedirectURI   string            `toml:"redirect_uri,omitempty"`
	PKCE          string            `toml:"pkce,omitempty"`
	ResponseMode  string            `toml:"response_mode,omitempty"`
	AuthParams    map[string]string `toml:"auth_params,omitempty"`
	GitUsername   string            `toml:"git_username,omitempty"`
	GitAuth       string            `toml:"git_auth,omitempty"`
	Match         []string          `toml:"match,omitempty"`
}

// Profile renders the profile table for name and clientID, with a
// comment naming the preset. A preset with a client secret refers to the
// keyring (lanyard secret set NAME client_secret), never the secret itself.
func (s *Setup) Profile(name, clientID string) (string, error) {
	p := s.Preset
	t := profileTable{
		Issuer: s.Issuer, AuthURL: s.AuthURL, TokenURL: s.TokenURL, DeviceAuthURL: s.DeviceURL,
		Grant: p.Grant, ClientID: clientID, Scopes: p.Scopes, RedirectURI: p.RedirectURI, PKCE: p.PKCE,
		ResponseMode: p.ResponseMode, AuthParams: p.AuthParams, GitUsername: p.GitUsername, GitAuth: p.GitAuth, Match: s.Match,
	}
	if p.Secret {
		t.ClientSecret = "keyring"
	} else {
		t.ClientAuth = "none"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n# %s, written by lanyard init %s (docs/presets.md). Refresh: %s.\n", p.Title, p.Name, p.Refresh)
	var body strings.Builder
	enc := toml.NewEncoder(&body)
	enc.Indent = ""
	if err := enc.Encode(map[string]map[string]profileTable{"profiles": {name: t}}); err != nil {
		return "", err
	}
	// The file may define [profiles] itself: only the profile's own table
	// header may appear, or the file would define it twice.
	b.WriteString(strings.TrimPrefix(body.String(), "[profiles]\n"))
	return b.String(), nil
}
