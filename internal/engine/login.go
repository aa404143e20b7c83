package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/grant"
)

// LoginOptions carry what a person provides at login.
type LoginOptions struct {
	// RefreshToken imports a refresh token obtained elsewhere (WhenFresh's
	// "My Tokens" page). It is checked at once by refreshing with it.
	RefreshToken string
	// Password for the password grant; never stored.
	Password string
	// NoBrowser prints the authorize URL instead of opening a browser.
	NoBrowser bool
	// Timeout bounds an interactive login (default 5 minutes).
	Timeout time.Duration
}

// Login obtains a new token for p, replacing whatever is stored, under the
// profile lock. A profile with shared = "NAME" stores it in its team tier
// and keeps only the access token locally.
func (e *Engine) Login(ctx context.Context, p *config.Profile, opt LoginOptions) (*Token, error) {
	t, err := e.login(ctx, p, opt)
	if err != nil || p.Shared == "" {
		return t, err
	}
	return e.Push(ctx, p)
}

func (e *Engine) login(ctx context.Context, p *config.Profile, opt LoginOptions) (tok *Token, err error) {
	unlock, err := e.lock(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := e.Store.Prepare(p.Name); err != nil {
		return nil, err
	}
	// A failed first login leaves no seal key behind (Unprepare keeps it
	// when a state is stored).
	defer func() {
		if err != nil {
			e.Store.Unprepare(p.Name)
		}
	}()

	if opt.RefreshToken != "" {
		c, err := e.client(ctx, p)
		if err != nil {
			return nil, err
		}
		t, err := grant.Refresh(ctx, c, opt.RefreshToken)
		if err != nil {
			if grant.RefreshRefused(err) != grant.RefreshNotRefused {
				te, _ := grant.AsTokenError(err)
				return nil, fmt.Errorf("profile %q: the refresh token you gave was rejected (%s); nothing was stored: copy a fresh one and run lanyard login %s --refresh-token-stdin again", p.Name, describe(te), p.Name)
			}
			return nil, e.explain(p, err)
		}
		return e.save(p, t, opt.RefreshToken)
	}
	switch p.Grant {
	case config.GrantClientCredentials:
		c, err := e.client(ctx, p)
		if err != nil {
			return nil, err
		}
		t, err := grant.ClientCredentials(ctx, c, p.Scopes)
		if err != nil {
			return nil, e.explain(p, err)
		}
		return e.save(p, t, "")
	case config.GrantJWTBearer, config.GrantTokenExchange:
		t, err := e.assertionGrant(ctx, p)
		if err != nil {
			return nil, e.explain(p, err)
		}
		return e.save(p, t, "")
	case config.GrantRefreshToken:
		return nil, fmt.Errorf("profile %q uses grant refresh_token: import the refresh token with: lanyard login %s --refresh-token-stdin", p.Name, p.Name)
	case config.GrantPassword:
		pw := opt.Password
		if pw == "" {
			pw, err = e.promptPassword(p)
			if err != nil {
				return nil, err
			}
		}
		c, err := e.client(ctx, p)
		if err != nil {
			return nil, err
		}
		t, err := grant.Password(ctx, c, p.Username, pw, p.Scopes)
		if err != nil {
			return nil, e.explain(p, err)
		}
		return e.save(p, t, "")
	}
	if p.PluginName() != "" {
		return e.runPlugin(ctx, p, nil)
	}
	return e.interactiveLogin(ctx, p, opt)
}
