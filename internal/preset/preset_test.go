package preset

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/golden"
)

// sampleURL is a URL each preset accepts ("" = its default).
var sampleURL = map[string]string{
	"okta": "https://dev-123456.okta.com", "auth0": "https://acme.eu.auth0.com",
	"keycloak": "https://sso.example.com/realms/acme",
}

// TestEveryPresetMakesAValidProfile: each preset, filled with its default
// or a sample URL, renders a profile the real parser accepts, with the
// endpoints, grant and redirect the preset says.
func TestEveryPresetMakesAValidProfile(t *testing.T) {
	for _, p := range All {
		t.Run(p.Name, func(t *testing.T) {
			s, err := p.Expand(sampleURL[p.Name])
			if err != nil {
				t.Fatal(err)
			}
			text := s.Profile(p.Name, "client-123").TOML(time.Now())
			if strings.Contains(text, "[profiles]") {
				t.Errorf("the profile defines [profiles], which a file may define already:\n%s", text)
			}
			f, err := config.Parse("t.toml", []byte("[profiles]\n"+text))
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			prof := f.Profiles[p.Name]
			if prof.Grant != p.Grant || prof.ClientID != "client-123" || prof.RedirectURI != p.RedirectURI {
				t.Errorf("profile %+v", prof)
			}
			if prof.Issuer == "" && prof.TokenURL == "" {
				t.Errorf("no issuer and no token_url:\n%s", text)
			}
			if p.Grant == config.GrantDeviceCode && prof.DeviceAuthURL == "" {
				t.Errorf("device_code without device_auth_url:\n%s", text)
			}
			if p.Forge && len(prof.Match) == 0 {
				t.Errorf("a forge without match:\n%s", text)
			}
			if strings.Contains(text, "{") && !strings.Contains(text, "auth_params") {
				t.Errorf("an unfilled template:\n%s", text)
			}
			if s.RegisterURL == "" || strings.Contains(s.RegisterURL, "{") || len(s.Register) == 0 {
				t.Errorf("registration page %q, steps %q", s.RegisterURL, s.Register)
			}
			if p.Secret != (prof.ClientSecret == "keyring") {
				t.Errorf("client_secret %q for a preset with Secret=%v", prof.ClientSecret, p.Secret)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		preset, url string
		want        Setup
		err         string
	}{
		{"github", "", Setup{URL: "https://github.com", Endpoints: Endpoints{AuthURL: "https://github.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token", DeviceURL: "https://github.com/login/device/code"}, Match: []string{"https://github.com/"}, RegisterURL: "https://github.com/settings/applications/new"}, ""},
		{"github", "https://ghe.example.com/", Setup{URL: "https://ghe.example.com", Endpoints: Endpoints{AuthURL: "https://ghe.example.com/login/oauth/authorize", TokenURL: "https://ghe.example.com/login/oauth/access_token", DeviceURL: "https://ghe.example.com/login/device/code"}, Match: []string{"https://ghe.example.com/"}, RegisterURL: "https://ghe.example.com/settings/applications/new"}, ""},
		{"gitlab", "https://gitlab.example.com/gitlab", Setup{URL: "https://gitlab.example.com/gitlab", Endpoints: Endpoints{Issuer: "https://gitlab.example.com/gitlab"}, Match: []string{"https://gitlab.example.com/gitlab/"}, RegisterURL: "https://gitlab.example.com/gitlab/-/user_settings/applications"}, ""},
		{"codeberg", "", Setup{URL: "https://codeberg.org", Endpoints: Endpoints{AuthURL: "https://codeberg.org/login/oauth/authorize", TokenURL: "https://codeberg.org/login/oauth/access_token"}, Match: []string{"https://codeberg.org/"}, RegisterURL: "https://codeberg.org/user/settings/applications"}, ""},
		{"bitbucket", "https://bitbucket.example.com", Setup{URL: "https://bitbucket.example.com", Endpoints: Endpoints{AuthURL: "https://bitbucket.example.com/rest/oauth2/latest/authorize", TokenURL: "https://bitbucket.example.com/rest/oauth2/latest/token"}, Match: []string{"https://bitbucket.example.com/"}, RegisterURL: "https://bitbucket.org/WORKSPACE/workspace/settings/oauth-consumers/new"}, ""},
		{"entra", "contoso.onmicrosoft.com", Setup{URL: "contoso.onmicrosoft.com", Endpoints: Endpoints{AuthURL: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize", TokenURL: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token", DeviceURL: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"}, RegisterURL: "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade"}, ""},
		{"keycloak", "https://sso.example.com/realms/acme", Setup{URL: "https://sso.example.com/realms/acme", Endpoints: Endpoints{Issuer: "https://sso.example.com/realms/acme"}, RegisterURL: "https://sso.example.com/admin/master/console/#/acme/clients/add-client"}, ""},
		{"okta", "", Setup{}, "lanyard init okta URL, with URL your Okta domain"},
		{"gitea", "ftp://gitea.example.com", Setup{}, "is not a URL lanyard init gitea can use"},
		{"gitea", "https://user:pw@gitea.example.com", Setup{}, "without user, query or fragment"},
		{"entra", "contoso/../x", Setup{}, "is not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.preset+" "+tc.url, func(t *testing.T) {
			p, ok := Lookup(tc.preset)
			if !ok {
				t.Fatalf("no preset %q", tc.preset)
			}
			s, err := p.Expand(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				if tc.preset == "okta" && !errors.Is(err, ErrNeedURL) {
					t.Errorf("error %v does not wrap ErrNeedURL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := Setup{URL: s.URL, Endpoints: s.Endpoints, Match: s.Match, RegisterURL: s.RegisterURL}
			if got.URL != tc.want.URL || got.Endpoints != tc.want.Endpoints || strings.Join(got.Match, " ") != strings.Join(tc.want.Match, " ") || got.RegisterURL != tc.want.RegisterURL {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestProfilesGolden: what lanyard init PRESET writes, for every preset
// (testdata/profiles.golden; go test -update rewrites it).
func TestProfilesGolden(t *testing.T) {
	var b strings.Builder
	for _, p := range All {
		s, err := p.Expand(sampleURL[p.Name])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(s.Profile(p.Name, "client-123").TOML(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)))
	}
	golden.Check(t, "profiles.golden", []byte(b.String()))
}
