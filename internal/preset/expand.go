package preset

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/lanyardhq/lanyard/internal/config"
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

// Profile is the profile for name and clientID, for the profile writer
// (config.AppendProfile), with a comment naming the preset. A preset with
// a client secret refers to the keyring (lanyard secret set NAME
// client_secret), never the secret itself.
func (s *Setup) Profile(name, clientID string) config.NewProfile {
	p := s.Preset
	n := config.NewProfile{
		Name: name, Issuer: s.Issuer, AuthURL: s.AuthURL, TokenURL: s.TokenURL, DeviceURL: s.DeviceURL,
		Grant: p.Grant, ClientID: clientID, ClientAuth: "none", Scopes: p.Scopes,
		RedirectURI: p.RedirectURI, PKCE: p.PKCE, ResponseMode: p.ResponseMode, AuthParams: p.AuthParams,
		GitUsername: p.GitUsername, GitAuth: p.GitAuth, Match: s.Match,
		WrittenBy: "lanyard init " + p.Name,
		Note:      fmt.Sprintf("Preset: %s, docs/presets.md. Refresh: %s.", p.Title, p.Refresh),
	}
	if p.Secret {
		n.HasSecret, n.ClientAuth = true, "basic"
	}
	return n
}
