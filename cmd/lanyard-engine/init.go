package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/discovery"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// InitCmd writes a first profile, guided on the terminal.
type InitCmd struct {
	Issuer       string   `arg:"" optional:"" help:"The provider's issuer URL (discovery); empty asks, or give --token-url."`
	Name         string   `help:"Profile name (default: from the issuer's host)."`
	TokenURL     string   `name:"token-url" help:"Token endpoint, for providers without discovery."`
	AuthURL      string   `name:"auth-url" help:"Authorization endpoint (authorization_code without discovery)."`
	DeviceURL    string   `name:"device-auth-url" help:"Device authorization endpoint (device_code without discovery)."`
	Grant        string   `help:"Grant: client_credentials, authorization_code, device_code, password, refresh_token."`
	ClientID     string   `name:"client-id" help:"Client ID."`
	SecretStdin  bool     `name:"client-secret-stdin" help:"Read the client secret from stdin (stored in the keyring)."`
	PublicClient bool     `name:"public-client" help:"The client has no secret."`
	Scopes       []string `help:"Scopes (comma separated)."`
	Match        []string `help:"URL prefixes the profile serves, for git, docker and HTTPie (comma separated)."`
	Username     string   `help:"Username, for the password grant."`
	NoInput      bool     `name:"no-input" help:"Never prompt: take flags and defaults (also when no terminal is there)."`
	NoLogin      bool     `name:"no-login" help:"Write the profile only; do not fetch the first token."`
}

// supportedGrants are the grants init offers, in the order it prefers them.
var supportedGrants = []string{config.GrantClientCredentials, config.GrantAuthorizationCode, config.GrantDeviceCode, config.GrantPassword, config.GrantRefreshToken}

// Run asks, writes the profile, stores the secret and runs the first login.
// Prompts go to the terminal; nothing goes to stdout.
func (c *InitCmd) Run(ctx context.Context, env *Env, eng *engine.Engine) error {
	path := config.Path(env.Getenv)
	ask, closeTTY := c.prompter(env)
	defer closeTTY()

	// 1. Where the provider is, and what it advertises.
	issuer, err := ask.line("Issuer URL (empty if the provider has no discovery)", c.Issuer, "", false)
	if err != nil {
		return err
	}
	var meta *discovery.Metadata
	if issuer != "" {
		if err := config.CheckEndpoint(issuer); err != nil {
			return fmt.Errorf("issuer %s: %w", issuer, err)
		}
		r := &discovery.Resolver{HTTP: eng.HTTP} // no cache: fresh, with every advertised field
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		meta, err = r.Get(dctx, issuer)
		cancel()
		if err != nil {
			fmt.Fprintf(ask.out, "No discovery document at %s (%v).\n", issuer, err)
			meta = nil
		} else {
			describeProvider(ask.out, meta)
		}
	}
	tokenURL := c.TokenURL
	if meta == nil || tokenURL != "" {
		tokenURL, err = ask.line("Token endpoint URL", tokenURL, "", true)
		if err != nil {
			return err
		}
		if err := config.CheckEndpoint(tokenURL); err != nil {
			return fmt.Errorf("token URL %s: %w", tokenURL, err)
		}
		if issuer != "" && meta == nil {
			issuer = "" // discovery failed: the profile names the endpoint itself
		}
	}

	// 2. The profile's name: never one that exists.
	name, err := ask.line("Profile name", c.Name, defaultName(issuer, tokenURL), true)
	if err != nil {
		return err
	}
	if err := config.RefuseExisting(path, name); err != nil {
		return err
	}

	// 3. The client.
	var advertised []string
	if meta != nil {
		advertised = meta.GrantTypesSupported
	}
	grant, err := ask.choice("Grant", c.Grant, defaultGrant(advertised), supportedGrants)
	if err != nil {
		return err
	}
	// Without discovery, browser and device logins need their endpoint too.
	authURL, deviceURL := c.AuthURL, c.DeviceURL
	if issuer == "" && grant == config.GrantAuthorizationCode {
		if authURL, err = ask.line("Authorization endpoint URL", authURL, "", true); err != nil {
			return err
		}
	}
	if issuer == "" && grant == config.GrantDeviceCode {
		if deviceURL, err = ask.line("Device authorization endpoint URL", deviceURL, "", true); err != nil {
			return err
		}
	}
	clientID, err := ask.line("Client ID", c.ClientID, "", true)
	if err != nil {
		return err
	}
	var secret string
	switch {
	case c.PublicClient:
	case c.SecretStdin:
		secret, err = readSecretLine(env.Stdin, "client secret")
	default:
		secret, err = ask.secret("Client secret (empty for a public client; stored in the keyring)")
	}
	if err != nil {
		return err
	}
	var authMethods []string
	if meta != nil {
		authMethods = meta.TokenEndpointAuthMethodsSupported
	}
	username := c.Username
	if grant == config.GrantPassword {
		if username, err = ask.line("Username", username, "", true); err != nil {
			return err
		}
	}
	var scopeHint string
	if meta != nil && len(meta.ScopesSupported) > 0 {
		scopeHint = " (advertised: " + advertisedList(meta.ScopesSupported) + ")"
	}
	scopes, err := ask.list("Scopes, space separated"+scopeHint, c.Scopes)
	if err != nil {
		return err
	}
	match, err := ask.list("URLs this profile serves (git remotes, registries, APIs), space separated", c.Match)
	if err != nil {
		return err
	}

	// 4. Write it, checked by the same parser every command uses.
	spec := config.NewProfile{
		Name: name, Issuer: issuer, TokenURL: tokenURL, AuthURL: authURL, DeviceURL: deviceURL, Grant: grant, ClientID: clientID,
		HasSecret: secret != "", ClientAuth: clientAuth(secret != "", authMethods),
		Scopes: scopes, Match: match, Username: username,
	}
	if err := config.AppendProfile(path, spec); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "lanyard: wrote profile %q to %s\n", name, path)
	if secret != "" {
		if err := eng.Store.SetSecret(name, "client_secret", secret); err != nil {
			return fmt.Errorf("profile %q is written, but its client secret could not be stored (%w); store it with: lanyard secret set %s client_secret", name, err, name)
		}
		fmt.Fprintf(env.Stderr, "lanyard: stored the client secret in the %s keyring\n", eng.Store.Backend())
	}

	// 5. The first token, then the line that puts it to use.
	if !c.NoLogin {
		if err := firstLogin(ctx, env, eng, path, name); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "lanyard: next: %s\n", setupHint(name, match))
	return nil
}

// firstLogin runs the new profile's grant once, as lanyard login would.
func firstLogin(ctx context.Context, env *Env, eng *engine.Engine, path, name string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	p, err := cfg.Profile(name)
	if err != nil {
		return err
	}
	if p.Grant == config.GrantRefreshToken {
		fmt.Fprintf(env.Stderr, "lanyard: import the refresh token with: lanyard login %s --refresh-token-stdin < FILE\n", name)
		return nil
	}
	t, err := eng.Login(ctx, p, engine.LoginOptions{Timeout: 5 * time.Minute})
	if err != nil {
		return fmt.Errorf("the profile is written, but the first token failed: %w (edit %s, then run: lanyard login %s)", err, path, name)
	}
	fmt.Fprintf(env.Stderr, "lanyard: got a token for %s, valid until %s\n", name, engine.Handout(t, p).Expiry.Local().Format(time.RFC3339))
	return nil
}

// describeProvider shows what discovery found.
func describeProvider(w io.Writer, m *discovery.Metadata) {
	fmt.Fprintf(w, "Discovered %s\n  token endpoint:  %s\n", grant.Printable(m.Issuer), grant.Printable(m.TokenEndpoint))
	if m.AuthorizationEndpoint != "" {
		fmt.Fprintf(w, "  authorization:   %s\n", grant.Printable(m.AuthorizationEndpoint))
	}
	if m.DeviceAuthorizationEndpoint != "" {
		fmt.Fprintf(w, "  device login:    %s\n", grant.Printable(m.DeviceAuthorizationEndpoint))
	}
	fmt.Fprintf(w, "  grants:          %s\n", orNotAdvertised(m.GrantTypesSupported))
	fmt.Fprintf(w, "  client auth:     %s\n", orNotAdvertised(m.TokenEndpointAuthMethodsSupported))
}

func orNotAdvertised(v []string) string {
	if len(v) == 0 {
		return "(not advertised)"
	}
	return advertisedList(v)
}

// advertisedList is a discovery list as shown on the terminal: the server
// wrote it, so it is filtered (grant.Printable).
func advertisedList(v []string) string { return grant.Printable(strings.Join(v, " ")) }

// defaultName is the issuer's (or token URL's) host without its port and
// its usual prefixes: https://login.acme.example -> "acme".
func defaultName(issuer, tokenURL string) string {
	raw := issuer
	if raw == "" {
		raw = tokenURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "default"
	}
	labels := strings.Split(u.Hostname(), ".")
	if len(labels) > 2 {
		labels = labels[:len(labels)-1]
	}
	for _, l := range labels {
		switch l {
		case "login", "auth", "sso", "id", "accounts", "oauth", "api", "www":
			continue
		}
		if l != "" && l[0] >= 'a' && l[0] <= 'z' {
			return l
		}
	}
	return "default"
}

// defaultGrant picks client_credentials when advertised (or nothing is),
// else the first advertised grant init supports.
func defaultGrant(advertised []string) string {
	if len(advertised) == 0 {
		return config.GrantClientCredentials
	}
	for _, g := range supportedGrants {
		for _, a := range advertised {
			if a == g || a == "urn:ietf:params:oauth:grant-type:"+g {
				return g
			}
		}
	}
	return config.GrantClientCredentials
}

// clientAuth picks how the client authenticates: HTTP Basic unless the
// provider advertises only client_secret_post; "none" without a secret.
func clientAuth(hasSecret bool, advertised []string) string {
	switch {
	case !hasSecret:
		return "none"
	case len(advertised) == 0 || slices.Contains(advertised, "client_secret_basic"):
		return "basic"
	case slices.Contains(advertised, "client_secret_post"):
		return "post"
	}
	return "basic"
}

// setupHint is the command that puts the new profile to use, guessed from
// what its match URLs look like.
func setupHint(name string, match []string) string {
	for _, m := range match {
		u, err := url.Parse(m)
		if err != nil {
			continue
		}
		h := strings.ToLower(u.Hostname())
		switch {
		case strings.Contains(h, "git"):
			return "lanyard setup git --global " + name
		case strings.Contains(h, "registry") || strings.Contains(h, "docker") || strings.HasPrefix(h, "cr.") || strings.Contains(h, ".cr."):
			return "lanyard setup docker " + name
		case strings.Contains(h, "k8s") || strings.Contains(h, "kube"):
			return "kubectl lanyard setup --profile " + name + " --context CONTEXT"
		}
	}
	if len(match) > 0 {
		return fmt.Sprintf("lanyard setup git --global %s (git), lanyard setup docker %s (registries), or http --auth-type=lanyard --auth=%s %s", name, name, name, match[0])
	}
	return fmt.Sprintf(`curl -H "Authorization: Bearer $(lanyard token %s)" URL, or kubectl lanyard setup --profile %s --context CONTEXT`, name, name)
}

// prompter asks on the terminal, or takes flags and defaults when there is
// none (or --no-input).
type prompter struct {
	in  *bufio.Reader
	tty *os.File // nil: no prompting
	out io.Writer
}

// prompter opens /dev/tty for questions; without one, answers come from
// flags and defaults, and questions print nothing.
func (c *InitCmd) prompter(env *Env) (*prompter, func()) {
	if !c.NoInput {
		if t, err := tty.Open(); err == nil {
			return &prompter{in: bufio.NewReader(t), tty: t, out: t}, func() { t.Close() }
		}
	}
	return &prompter{out: env.Stderr}, func() {}
}

// line asks one question; given (a flag) answers it without asking.
func (p *prompter) line(q, given, def string, required bool) (string, error) {
	if given != "" {
		return given, nil
	}
	if p.tty == nil {
		if def == "" && required {
			return "", fmt.Errorf("no terminal to ask %q; pass it as a flag (lanyard init --help)", q)
		}
		return def, nil
	}
	for {
		if def != "" {
			fmt.Fprintf(p.out, "%s [%s]: ", q, def)
		} else {
			fmt.Fprintf(p.out, "%s: ", q)
		}
		s, err := p.in.ReadString('\n')
		s = strings.TrimSpace(s)
		if err != nil && s == "" {
			return "", fmt.Errorf("no answer to %q: %w", q, err)
		}
		if s == "" {
			s = def
		}
		if s != "" || !required {
			return s, nil
		}
	}
}

// choice asks for one of options.
func (p *prompter) choice(q, given, def string, options []string) (string, error) {
	for {
		s, err := p.line(q+" ("+strings.Join(options, ", ")+")", given, def, true)
		if err != nil {
			return "", err
		}
		if slices.Contains(options, s) {
			return s, nil
		}
		if p.tty == nil || given != "" {
			return "", fmt.Errorf("grant %q: lanyard init sets up %s; other grants: write the profile by hand (docs/profiles.md)", s, strings.Join(options, ", "))
		}
		fmt.Fprintf(p.out, "%q is not one of them.\n", s)
	}
}

// list asks for space or comma separated words.
func (p *prompter) list(q string, given []string) ([]string, error) {
	if len(given) > 0 {
		return given, nil
	}
	s, err := p.line(q, "", "", false)
	if err != nil {
		return nil, err
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }), nil
}

// secret asks without echo.
func (p *prompter) secret(q string) (string, error) {
	if p.tty == nil {
		return "", errors.New("no terminal to ask the client secret; pass --client-secret-stdin (and pipe it in) or --public-client")
	}
	fmt.Fprintf(p.out, "%s: ", q)
	b, err := term.ReadPassword(int(p.tty.Fd()))
	fmt.Fprintln(p.out)
	if err != nil {
		return "", fmt.Errorf("could not read the client secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
