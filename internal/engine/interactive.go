package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/lanyardhq/lanyard/internal/browser"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// devicePollSleep replaces the device flow's wait between polls; nil waits
// for real. Tests set it so they never sleep for the server's interval.
var devicePollSleep func(ctx context.Context, d time.Duration) error

// openTTY opens the controlling terminal; tests replace it.
var openTTY = tty.Open

// interactiveLogin runs a grant that needs a person: authorization code,
// implicit or device code. It is called with the profile lock held, and
// only from Login or from Token with Options.Interactive set: a caller
// that may not interact gets a LoginRequiredError before reaching here.
func (e *Engine) interactiveLogin(ctx context.Context, p *config.Profile, opt LoginOptions) (*Token, error) {
	switch p.Grant {
	case config.GrantAuthorizationCode, config.GrantImplicit, config.GrantDeviceCode:
	default:
		return nil, fmt.Errorf("profile %q: grant %q has no interactive login", p.Name, p.Grant)
	}
	m, err := e.Endpoints(ctx, p)
	if err != nil {
		return nil, err
	}
	c, err := e.client(ctx, p)
	if err != nil {
		return nil, err
	}
	in := e.interaction(opt)
	paste, pasteTTY, closePaste := browser.PasteInput(e.Stdin)
	defer closePaste()
	in.Paste, in.PasteTerminal = paste, pasteTTY

	var t *grant.Token
	switch p.Grant {
	case config.GrantDeviceCode:
		if m.DeviceAuthorizationEndpoint == "" {
			return nil, fmt.Errorf("profile %q: the provider announces no device_authorization_endpoint; set device_auth_url in %s:%d", p.Name, p.File, p.Line)
		}
		t, err = grant.DeviceCode(ctx, c, grant.DeviceRequest{
			DeviceAuthURL: m.DeviceAuthorizationEndpoint, Scopes: p.Scopes, Params: p.AuthParams, Sleep: devicePollSleep,
		}, in)
	default:
		if m.AuthorizationEndpoint == "" {
			return nil, fmt.Errorf("profile %q: the provider announces no authorization_endpoint; set auth_url in %s:%d", p.Name, p.File, p.Line)
		}
		req := grant.AuthCodeRequest{
			AuthURL: m.AuthorizationEndpoint, RedirectURI: p.RedirectURI, Scopes: p.Scopes,
			ScopeSeparator: p.ScopeSeparator, AuthParams: p.AuthParams, PKCE: p.PKCE, Resource: p.Resources(),
			// RFC 9207: iss is checked against the issuer when present,
			// and required when discovery says the server sends it.
			Issuer: p.Issuer, RequireIss: p.Issuer != "" && m.IssParameterSupported,
		}
		if p.Grant == config.GrantImplicit {
			t, err = grant.Implicit(ctx, c, req, in)
		} else {
			t, err = grant.AuthCode(ctx, c, req, in)
		}
	}
	if err != nil {
		return nil, e.explainLogin(p, err)
	}
	return e.save(p, t, "")
}

// interaction says how to reach the person: URLs and prompts on e.UI, a
// browser unless --no-browser or headless.
func (e *Engine) interaction(opt LoginOptions) grant.Interaction {
	getenv := e.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	in := grant.Interaction{UI: e.UI, NoBrowser: opt.NoBrowser, Timeout: opt.Timeout}
	if !opt.NoBrowser {
		in.Open = browser.Opener(getenv)
	}
	if f, ok := e.UI.(*os.File); ok && tty.IsTerminal(f) {
		in.UITerminal = true
	}
	return in
}

// explainLogin says what to do after a failed interactive login. Nothing
// was stored: the caller saves only on success.
func (e *Engine) explainLogin(p *config.Profile, err error) error {
	if _, ok := grant.AsTokenError(err); ok {
		return e.explain(p, err)
	}
	var ae *grant.AuthorizeError
	var de *grant.DeviceError
	switch {
	case errors.As(err, &ae), errors.As(err, &de), errors.Is(err, grant.ErrStateMismatch), errors.Is(err, grant.ErrLoginTimeout):
		return fmt.Errorf("profile %q: %w; nothing was stored: run lanyard login %s to try again", p.Name, err, p.Name)
	}
	return fmt.Errorf("profile %q: %w; nothing was stored", p.Name, err)
}

// promptPassword asks for the password grant's password on the terminal
// (/dev/tty), echo off. Never stdin, never stdout: those may carry a tool
// protocol.
func (e *Engine) promptPassword(p *config.Profile) (string, error) {
	tty, err := openTTY()
	if err != nil {
		return "", fmt.Errorf("profile %q: no password given and no terminal to ask on; pipe it to lanyard login %s --password-stdin", p.Name, p.Name)
	}
	defer tty.Close()
	fmt.Fprintf(tty, "lanyard: password for %s (profile %s): ", p.Username, p.Name)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", fmt.Errorf("profile %q: could not read the password from the terminal: %w; or pipe it to lanyard login %s --password-stdin", p.Name, err, p.Name)
	}
	if len(b) == 0 {
		return "", fmt.Errorf("profile %q: empty password; type it, or pipe it to lanyard login %s --password-stdin", p.Name, p.Name)
	}
	return string(b), nil
}
