package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/store"
)

// Invalidate drops p's cached access token and keeps its refresh token, so
// the next Token call refreshes (git's erase after a 401). When rejected is
// not empty, only that token is dropped: a newer one another process just
// fetched stays.
func (e *Engine) Invalidate(ctx context.Context, p *config.Profile, rejected string) error {
	unlock, err := e.lock(ctx, p.Name)
	if err != nil {
		return err
	}
	defer unlock()
	e.Hot.Drop(p.Name)
	t, err := e.Store.Token(p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rejected != "" && rejected != t.AccessToken && rejected != t.IDToken {
		return nil
	}
	if t.RefreshToken == "" && p.Interactive() {
		// Without a refresh token, dropping the access token would force a
		// login: only the server's 401 says it is dead, so drop it.
		return e.Store.DeleteToken(p.Name)
	}
	t.AccessToken, t.IDToken, t.Expiry = "", "", e.now()
	return e.Store.SaveToken(p.Name, t)
}

// Logout deletes p's cached access and refresh tokens; with revoke, it
// first revokes them at the server (RFC 7009). For a shared profile the
// team's record is what holds the refresh token: it is revoked (refresh
// token, then access token) under the team lock before the tombstone is
// written, and a record that cannot be read or opened stops the logout
// before anything is revoked or removed. Client secrets stored with
// lanyard secret set stay.
func (e *Engine) Logout(ctx context.Context, p *config.Profile, revoke bool) error {
	unlock, err := e.lock(ctx, p.Name)
	if err != nil {
		return err
	}
	defer unlock()
	var local *Token
	if revoke {
		local, err = e.Store.Token(p.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w (to discard the damaged token without revoking, run: lanyard logout %s)", err, p.Name)
		}
	}
	if p.Shared != "" {
		tier, err := e.openShared(ctx, p)
		if err != nil {
			return err
		}
		defer tier.Close()
		var revokeShared func(cur *Token) error
		if revoke {
			revokeShared = func(cur *Token) error {
				if cur != nil {
					if err := e.revoke(ctx, p, cur); err != nil {
						return err
					}
				}
				if local != nil && (cur == nil || local.AccessToken != cur.AccessToken) {
					return e.revoke(ctx, p, &Token{AccessToken: local.AccessToken})
				}
				return nil
			}
		}
		if err := tier.Retire(ctx, p.Name, revokeShared); err != nil {
			return fmt.Errorf("%w; nothing was revoked or removed", err)
		}
	} else if local != nil {
		if err := e.revoke(ctx, p, local); err != nil {
			return err
		}
	}
	e.Hot.Drop(p.Name)
	e.Hot.ClearJournal(p.Name)
	return e.Store.DeleteToken(p.Name)
}

func (e *Engine) revoke(ctx context.Context, p *config.Profile, t *Token) error {
	m, err := e.Endpoints(ctx, p)
	if err != nil {
		return err
	}
	if m.RevocationEndpoint == "" {
		return fmt.Errorf("profile %q has no revocation endpoint (set revocation_url); run lanyard logout %s without --revoke to forget the tokens locally", p.Name, p.Name)
	}
	c, err := e.client(ctx, p)
	if err != nil {
		return err
	}
	for _, tok := range []struct{ v, hint string }{{t.RefreshToken, "refresh_token"}, {t.AccessToken, "access_token"}} {
		if tok.v == "" {
			continue
		}
		if err := c.Revoke(ctx, m.RevocationEndpoint, tok.v, tok.hint); err != nil {
			return fmt.Errorf("profile %q: %w; the tokens are still stored", p.Name, err)
		}
	}
	return nil
}

// Cached returns the stored token of p without any network call (for
// status), or nil when none is stored.
func (e *Engine) Cached(p *config.Profile) (*Token, error) {
	t, err := e.Store.Token(p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// Fresh reports whether t may be handed out for p now.
func (e *Engine) Fresh(t *Token, p *config.Profile) bool { return e.fresh(t, p, 0) }
