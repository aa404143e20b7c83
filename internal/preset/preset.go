// Package preset holds what lanyard knows about well-known providers, as
// data: endpoints (or discovery), grant, scopes, PKCE, usernames, refresh
// behaviour, and where to register an application. `lanyard init PRESET
// [URL]` turns one into a profile.
//
// Templates in URLs and steps: {url} is the URL given to init (or the
// preset's DefaultURL) without a trailing slash, {host} its host, {origin}
// its scheme and host, {last} its last path segment (a Keycloak realm),
// and {redirect} the preset's redirect URI.
package preset

// Endpoints are a provider's OAuth endpoints, as templates: Issuer for
// discovery, or the explicit URLs.
type Endpoints struct {
	Issuer    string
	AuthURL   string
	TokenURL  string
	DeviceURL string
}

// Preset is one provider.
type Preset struct {
	Name  string // what `lanyard init` takes
	Title string // for people
	// Forge: a git host; init then sets up git (lanyard setup git).
	Forge bool
	// DefaultURL is used when init gets no URL; "" means one is required
	// and URLHelp says which.
	DefaultURL string
	URLHelp    string
	Endpoints
	// SelfHosted replaces Endpoints when the URL is not DefaultURL
	// (Bitbucket Data Center has other paths than bitbucket.org).
	SelfHosted *Endpoints
	Grant      string
	Scopes     []string
	// PKCE is "" (S256, the default) or "none".
	PKCE string
	// Secret: the provider's clients for this flow have a client secret
	// (Google's desktop clients, Bitbucket consumers); else a public client.
	Secret       bool
	RedirectURI  string
	ResponseMode string
	AuthParams   map[string]string
	// GitUsername and GitAuth become git_username and git_auth.
	GitUsername string
	GitAuth     string
	// Match are the prefixes the profile serves (templates).
	Match []string
	// Refresh says how the provider's tokens expire and refresh.
	Refresh string
	// RegisterURL is the provider's "new OAuth application" page; Register
	// the steps there (templates).
	RegisterURL string
	Register    []string
}

// loopback is the redirect URI for providers that accept any port on
// 127.0.0.1 (RFC 8252 §7.3): lanyard listens on a free one.
const loopback = "http://127.0.0.1/callback"

// fixedLoopback is the redirect URI for providers that compare it exactly,
// port included.
const fixedLoopback = "http://127.0.0.1:8250/callback"

// All are the presets, in the order `lanyard init --help` lists them.
var All = []Preset{
	{
		Name: "github", Title: "GitHub (github.com or GitHub Enterprise Server)", Forge: true,
		DefaultURL: "https://github.com", URLHelp: "your GitHub Enterprise Server, e.g. https://github.example.com",
		Endpoints: Endpoints{AuthURL: "{url}/login/oauth/authorize", TokenURL: "{url}/login/oauth/access_token", DeviceURL: "{url}/login/device/code"},
		// The device flow needs no redirect: it works over SSH and in
		// containers alike. GitHub's device flow has no PKCE.
		Grant: "device_code", Scopes: []string{"repo", "read:org"}, PKCE: "none",
		RedirectURI: loopback,
		// GitHub takes any username with a token as the password;
		// x-access-token also fits GitHub App tokens.
		GitUsername: "x-access-token",
		Match:       []string{"{url}/"},
		Refresh:     "OAuth app tokens do not expire and come without a refresh token; GitHub App user tokens expire after 8 hours and carry a 6-month refresh token that rotates on every use",
		RegisterURL: "{url}/settings/applications/new",
		Register: []string{
			"open {url}/settings/applications/new (an OAuth app; for a GitHub App: {url}/settings/apps/new)",
			"Application name: lanyard; Homepage URL: {url}",
			"Authorization callback URL: {redirect} (unused by the device flow, but required)",
			"tick Enable Device Flow, press Register application, and copy the Client ID (no client secret is needed)",
		},
	},
	{
		Name: "gitlab", Title: "GitLab (gitlab.com or self-managed)", Forge: true,
		DefaultURL: "https://gitlab.com", URLHelp: "your GitLab, e.g. https://gitlab.example.com",
		Endpoints: Endpoints{Issuer: "{url}"},
		Grant:     "authorization_code", Scopes: []string{"read_repository", "write_repository"},
		RedirectURI: loopback, GitUsername: "oauth2",
		Match:       []string{"{url}/"},
		Refresh:     "access tokens expire after 2 hours; the refresh token rotates on every use",
		RegisterURL: "{url}/-/user_settings/applications",
		Register: []string{
			"open {url}/-/user_settings/applications (an instance-wide app: {url}/admin/applications/new)",
			"Name: lanyard; Redirect URI: {redirect}",
			"untick Confidential; tick the scopes read_repository and write_repository",
			"press Save application and copy the Application ID",
		},
	},
	gitea("gitea", "Gitea", "https://gitea.com", "your Gitea, e.g. https://gitea.example.com"),
	gitea("forgejo", "Forgejo (Codeberg or your own)", "https://codeberg.org", "your Forgejo, e.g. https://forgejo.example.com"),
	{
		Name: "bitbucket", Title: "Bitbucket (bitbucket.org or Data Center)", Forge: true,
		DefaultURL: "https://bitbucket.org", URLHelp: "your Bitbucket Data Center, e.g. https://bitbucket.example.com",
		Endpoints:  Endpoints{AuthURL: "https://bitbucket.org/site/oauth2/authorize", TokenURL: "https://bitbucket.org/site/oauth2/access_token"},
		SelfHosted: &Endpoints{AuthURL: "{url}/rest/oauth2/latest/authorize", TokenURL: "{url}/rest/oauth2/latest/token"},
		// Bitbucket Cloud consumers are confidential and compare the
		// callback URL exactly.
		Grant: "authorization_code", Scopes: []string{"repository", "repository:write"}, Secret: true,
		RedirectURI: fixedLoopback, GitUsername: "x-token-auth",
		Match:       []string{"{url}/"},
		Refresh:     "access tokens expire after 2 hours; refresh tokens do not expire and are not rotated",
		RegisterURL: "https://bitbucket.org/WORKSPACE/workspace/settings/oauth-consumers/new",
		Register: []string{
			"open https://bitbucket.org/WORKSPACE/workspace/settings/oauth-consumers/new (WORKSPACE: yours; Data Center: {url}/plugins/servlet/applinks/listApplicationLinks, Create link, External application, Incoming)",
			"Name: lanyard; Callback URL: {redirect}",
			"permissions: Repositories Read and Write; press Save",
			"copy the Key (the client id) and the Secret (give it with --client-secret-stdin)",
		},
	},
	{
		Name: "azure-devops", Title: "Azure DevOps (through Microsoft Entra ID)", Forge: true,
		DefaultURL: "https://dev.azure.com", URLHelp: "your organization, e.g. https://dev.azure.com/ORG",
		Endpoints: Endpoints{
			AuthURL:   "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
			TokenURL:  "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
			DeviceURL: "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode",
		},
		// 499b84ac-...: the Azure DevOps resource.
		Grant: "authorization_code", Scopes: []string{"499b84ac-1321-427f-aa17-267ca6975798/.default", "offline_access"},
		RedirectURI: "http://localhost/callback", GitUsername: "oauth2", GitAuth: "bearer",
		Match:       []string{"{url}/"},
		Refresh:     "access tokens live about an hour; refresh tokens rotate on every use and expire after 90 days without use",
		RegisterURL: "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade",
		Register: []string{
			"open https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade",
			"Name: lanyard; Supported account types: this organizational directory (or any)",
			"Redirect URI: platform Public client/native (mobile & desktop), {redirect}",
			"under API permissions add Azure DevOps, user_impersonation; copy the Application (client) ID",
		},
	},
	{
		Name: "entra", Title: "Microsoft Entra ID", DefaultURL: "organizations",
		URLHelp: "your tenant (ID or domain, e.g. contoso.onmicrosoft.com); default organizations",
		Endpoints: Endpoints{
			AuthURL:   "https://login.microsoftonline.com/{url}/oauth2/v2.0/authorize",
			TokenURL:  "https://login.microsoftonline.com/{url}/oauth2/v2.0/token",
			DeviceURL: "https://login.microsoftonline.com/{url}/oauth2/v2.0/devicecode",
		},
		// Entra prefers the response posted to the listener.
		Grant: "authorization_code", Scopes: []string{"openid", "profile", "offline_access"},
		RedirectURI: "http://localhost/callback", ResponseMode: "form_post",
		Refresh:     "access tokens live about an hour; refresh tokens rotate on every use and expire after 90 days without use",
		RegisterURL: "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade",
		Register: []string{
			"open https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade",
			"Name: lanyard; Redirect URI: platform Public client/native (mobile & desktop), {redirect}",
			"under Authentication, set Allow public client flows to Yes; copy the Application (client) ID",
		},
	},
	{
		Name: "google", Title: "Google", DefaultURL: "https://accounts.google.com",
		Endpoints: Endpoints{Issuer: "https://accounts.google.com"},
		// Google's desktop clients have a secret (not kept secret, but
		// required at the token endpoint); access_type=offline and
		// prompt=consent give a refresh token.
		Grant: "authorization_code", Scopes: []string{"openid", "email"}, Secret: true,
		RedirectURI: loopback, AuthParams: map[string]string{"access_type": "offline", "prompt": "consent"},
		Refresh:     "access tokens live 1 hour; the refresh token does not rotate and lasts until revoked (7 days for apps in testing)",
		RegisterURL: "https://console.cloud.google.com/apis/credentials/oauthclient",
		Register: []string{
			"open https://console.cloud.google.com/apis/credentials/oauthclient",
			"Application type: Desktop app; Name: lanyard; press Create",
			"copy the Client ID, and the client secret (give it with --client-secret-stdin)",
		},
	},
	{
		Name: "okta", Title: "Okta", URLHelp: "your Okta domain, e.g. https://dev-123456.okta.com",
		Endpoints: Endpoints{Issuer: "{url}/oauth2/default"},
		Grant:     "authorization_code", Scopes: []string{"openid", "profile", "offline_access"},
		RedirectURI: fixedLoopback,
		Refresh:     "access tokens live 1 hour by default; refresh tokens rotate when the app's refresh token behaviour says so (the default for native apps)",
		RegisterURL: "{url}/admin/apps/active",
		Register: []string{
			"open {url}/admin/apps/active and press Create App Integration",
			"Sign-in method: OIDC; Application type: Native Application",
			"Grant types: Authorization Code and Refresh Token; Sign-in redirect URI: {redirect}",
			"save, and copy the Client ID (Client authentication: none, PKCE required)",
		},
	},
	{
		Name: "auth0", Title: "Auth0", URLHelp: "your tenant, e.g. https://TENANT.eu.auth0.com",
		Endpoints: Endpoints{Issuer: "{url}/"},
		Grant:     "authorization_code", Scopes: []string{"openid", "profile", "offline_access"},
		RedirectURI: fixedLoopback,
		Refresh:     "refresh tokens are issued for offline_access when the API allows offline access, and rotate when Refresh Token Rotation is on",
		RegisterURL: "https://manage.auth0.com/dashboard/",
		Register: []string{
			"open https://manage.auth0.com/dashboard/, Applications, Create Application, type Native",
			"Allowed Callback URLs: {redirect}; save and copy the Client ID",
			"for an API's tokens add auth_params = { audience = \"https://api.example.com\" } to the profile",
		},
	},
	{
		Name: "keycloak", Title: "Keycloak", URLHelp: "the realm's URL, e.g. https://sso.example.com/realms/acme",
		Endpoints: Endpoints{Issuer: "{url}"},
		Grant:     "authorization_code", Scopes: []string{"openid", "offline_access"},
		RedirectURI: loopback,
		Refresh:     "access tokens live 5 minutes by default; refresh tokens rotate when the realm's Revoke Refresh Token is on",
		RegisterURL: "{origin}/admin/master/console/#/{last}/clients/add-client",
		Register: []string{
			"open {origin}/admin/master/console/#/{last}/clients/add-client",
			"Client ID: lanyard; Client authentication: off; Standard flow: on; OAuth 2.0 Device Authorization Grant: on if you log in over SSH",
			"Valid redirect URIs: http://127.0.0.1/* ; save",
		},
	},
}

// gitea is the preset of a Gitea-compatible forge (Gitea, and Forgejo
// which kept its OAuth endpoints and settings pages).
func gitea(name, title, defaultURL, help string) Preset {
	return Preset{
		Name: name, Title: title, Forge: true, DefaultURL: defaultURL, URLHelp: help,
		Endpoints: Endpoints{AuthURL: "{url}/login/oauth/authorize", TokenURL: "{url}/login/oauth/access_token"},
		Grant:     "authorization_code", RedirectURI: loopback, GitUsername: "oauth2",
		Match:       []string{"{url}/"},
		Refresh:     "access tokens expire after 1 hour; the refresh token rotates on every use",
		RegisterURL: "{url}/user/settings/applications",
		Register: []string{
			"open {url}/user/settings/applications, section Manage OAuth2 applications",
			"Application name: lanyard; Redirect URIs: {redirect}",
			"untick Confidential client, press Create application and copy the Client ID",
		},
	}
}

// Lookup finds a preset by name; codeberg is forgejo at codeberg.org.
func Lookup(name string) (Preset, bool) {
	if name == "codeberg" {
		name = "forgejo"
	}
	for _, p := range All {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// Names lists the preset names.
func Names() []string {
	n := make([]string, len(All))
	for i, p := range All {
		n[i] = p.Name
	}
	return n
}
