package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/preset"
)

// runPreset is lanyard init PRESET [URL]: handled is false when the first
// argument is not a preset (an issuer URL, or nothing), and init goes on
// as before.
func (c *InitCmd) runPreset(ctx context.Context, env *Env, eng *engine.Engine) (handled bool, err error) {
	p, ok := preset.Lookup(c.Issuer)
	switch {
	case !ok && c.URL != "":
		return true, fmt.Errorf("lanyard init %s %s: a second argument is only for presets (%s)", c.Issuer, c.URL, strings.Join(preset.Names(), ", "))
	case !ok && c.Issuer != "" && !strings.Contains(c.Issuer, "://"):
		return true, fmt.Errorf("%q is neither a preset (%s) nor an issuer URL (https://...)", c.Issuer, strings.Join(preset.Names(), ", "))
	case !ok:
		return false, nil
	}
	s, err := p.Expand(c.URL)
	if err != nil {
		return true, err
	}
	path := config.Path(env.Getenv)
	name := c.Name
	if name == "" {
		name = p.Name
	}
	if err := config.RefuseExisting(path, name); err != nil {
		return true, err
	}
	if c.Yes {
		c.NoInput = true
	}
	ask, closeTTY := c.prompter(env)
	defer closeTTY()

	clientID := c.ClientID
	if clientID == "" {
		if ask.tty == nil {
			return true, fmt.Errorf("%s needs a client id: register an application at %s (redirect URI %s), then run lanyard init %s %s--client-id ID", p.Title, s.RegisterURL, p.RedirectURI, c.Issuer, urlArg(c.URL))
		}
		fmt.Fprintf(ask.out, "lanyard needs an OAuth application registered at %s:\n", p.Title)
		for i, step := range s.Register {
			fmt.Fprintf(ask.out, "  %d. %s\n", i+1, step)
		}
		if clientID, err = ask.line("Client ID", "", "", true); err != nil {
			return true, err
		}
	}
	var secret string
	if p.Secret {
		switch {
		case c.SecretStdin:
			secret, err = readSecretLine(env.Stdin, "client secret")
		case ask.tty != nil:
			secret, err = ask.secret("Client secret (stored in the keyring)")
		default:
			err = fmt.Errorf("%s clients have a client secret: pipe it in with --client-secret-stdin (it is stored in the keyring; see %s)", p.Title, s.RegisterURL)
		}
		if err != nil {
			return true, err
		}
		if secret == "" {
			return true, fmt.Errorf("empty client secret: %s needs the one shown at %s", p.Title, s.RegisterURL)
		}
	}

	if err := config.AppendProfile(path, s.Profile(name, clientID)); err != nil {
		return true, err
	}
	fmt.Fprintf(env.Stderr, "lanyard: wrote profile %q (%s) to %s\n", name, p.Title, path)
	if secret != "" {
		if err := eng.Store.SetSecret(name, "client_secret", secret); err != nil {
			return true, fmt.Errorf("profile %q is written, but its client secret could not be stored (%w); store it with: lanyard secret set %s client_secret", name, err, name)
		}
	}
	if !c.NoLogin {
		if err := firstLogin(ctx, env, eng, path, name); err != nil {
			return true, err
		}
	}
	if !p.Forge {
		fmt.Fprintf(env.Stderr, "lanyard: next: %s\n", setupHint(name, s.Match))
		return true, nil
	}
	if !c.Yes {
		fmt.Fprintf(env.Stderr, "lanyard: next: lanyard setup git --global %s\n", name)
		return true, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return true, err
	}
	return true, (&SetupGitCmd{Global: true, Profile: name}).Run(ctx, env, cfg)
}

func urlArg(u string) string {
	if u == "" {
		return ""
	}
	return u + " "
}
