package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeDemoFiles writes, into dir, a lanyard profiles file with one profile
// per provider, the test secrets and refresh tokens as 0600 files the
// profiles reference (never inline), and env.sh with the servers' URLs, so
// scripts/demo.sh needs neither jq nor Python.
func writeDemoFiles(dir string, out output) error {
	files := map[string]string{
		"op.secret":         out.OP.ConfidentialClientSecret,
		"whenfresh.secret":  out.WhenFresh.MachineClientSecret,
		"whenfresh.refresh": out.WhenFresh.DeveloperRefreshToken,
		"shopware.secret":   out.Shopware.ClientSecret,
		"shopware.password": out.Shopware.Password,
		"whiplash.secret":   out.Whiplash.ClientSecret,
		"whiplash.refresh":  out.Whiplash.RefreshToken,
		"whisk.secret":      out.Whisk.ClientSecret,
		"whisk.refresh":     out.Whisk.RefreshToken,
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			return err
		}
	}
	f := func(name string) string { return "file:" + filepath.Join(dir, name) }
	config := fmt.Sprintf(`# lanyard demo profiles, one per in-repo provider (written by lanyard-demo-provider).

# The real OpenID provider: discovery + client credentials.
[profiles.demo]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = %q
scopes = ["openid"]
match = [%q]

# WhenFresh developer access: public client, imported refresh token.
[profiles.whenfresh]
issuer = %q
grant = "refresh_token"
client_id = %q
client_auth = "none"

# WhenFresh machine access: client credentials with Basic auth.
[profiles.whenfresh-machine]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = %q

# Shopware integration: JSON body, id and secret in it.
[profiles.shopware]
token_url = %q
grant = "client_credentials"
client_id = %q
client_secret = %q
client_auth = "post"
token_request = "json"

# Shopware admin: password grant, "scopes", rotating refresh token.
[profiles.shopware-admin]
token_url = %q
grant = "password"
client_id = "administration"
username = %q
token_request = "json"
scopes = ["write"]
scope_param = "scopes"

# Whiplash: fixed non-loopback callback (paste mode), secret in the body.
[profiles.whiplash]
auth_url = %q
token_url = %q
grant = "authorization_code"
client_id = %q
client_secret = %q
client_auth = "post"
redirect_uri = %q
scopes = ["user_manage"]
match = [%q]

# Whisk: multipart code exchange, offline_access, identity_provider.
[profiles.whisk]
auth_url = %q
token_url = %q
grant = "authorization_code"
client_id = %q
client_secret = %q
client_auth = "post"
token_request = "multipart"
redirect_uri = "http://127.0.0.1:0/callback"   # loopback: lanyard's listener receives the code
scopes = ["recipe:read", "offline_access"]
match = [%q]
[profiles.whisk.auth_params]
identity_provider = "Google"
`,
		out.OP.Issuer, out.OP.ConfidentialClientID, f("op.secret"), out.OP.Issuer+"/",
		out.WhenFresh.URL, out.WhenFresh.DeveloperClientID,
		out.WhenFresh.URL, out.WhenFresh.MachineClientID, f("whenfresh.secret"),
		out.Shopware.TokenURL, out.Shopware.ClientID, f("shopware.secret"),
		out.Shopware.TokenURL, out.Shopware.Username,
		out.Whiplash.AuthURL, out.Whiplash.TokenURL, out.Whiplash.ClientID, f("whiplash.secret"), out.Whiplash.CallbackURL, out.Whiplash.URL+"/",
		out.Whisk.AuthURL, out.Whisk.TokenURL, out.Whisk.ClientID, f("whisk.secret"), out.Whisk.URL+"/",
	)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600); err != nil {
		return err
	}
	var env strings.Builder
	for _, kv := range [][2]string{
		{"OP_URL", out.OP.Issuer}, {"WHENFRESH_URL", out.WhenFresh.URL}, {"SHOPWARE_URL", out.Shopware.URL},
		{"WHIPLASH_URL", out.Whiplash.URL}, {"WHISK_URL", out.Whisk.URL}, {"STATS_PATH", out.StatsPath},
	} {
		fmt.Fprintf(&env, "%s=%q\n", kv[0], kv[1])
	}
	return os.WriteFile(filepath.Join(dir, "env.sh"), []byte(env.String()), 0o600)
}
