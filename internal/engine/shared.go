package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/redact"
	"github.com/lanyardhq/lanyard/internal/shared"
	"github.com/lanyardhq/lanyard/internal/store"
)

// openShared opens the team tier of p's [shared.NAME] table; the state
// directory keeps the versions this machine has seen (rollback refusal).
func (e *Engine) openShared(ctx context.Context, p *config.Profile) (*shared.Tier, error) {
	t, err := shared.Open(ctx, p.SharedTier, shared.Options{Secrets: e.SharedSecrets(p.SharedTier), Log: e.log(), Now: e.Now, Getenv: e.getenv(), StateDir: e.StateDir})
	e.sharedDone("open", err)
	return t, err
}

// sharedDone tells OnShared about one team-tier operation.
func (e *Engine) sharedDone(op string, err error) {
	if e.OnShared != nil {
		e.OnShared(op, err)
	}
}

// sharedToken is the slow path of a profile with shared = "NAME", under the
// local profile lock: the team tier decides who refreshes; this machine
// keeps only the access token.
func (e *Engine) sharedToken(ctx context.Context, p *config.Profile, opt Options, seen string) (*Token, error) {
	tier, err := e.openShared(ctx, p)
	if err != nil {
		return nil, err
	}
	defer tier.Close()
	fresh := func(t *Token) bool {
		return e.fresh(t, p, opt.MinTTL) && (!opt.ForceRefresh || t.AccessToken != seen)
	}
	t, err := tier.Refresh(ctx, p.Name, fresh, func(cur *Token) (*Token, bool, error) {
		return e.sharedObtain(ctx, p, cur)
	})
	e.sharedDone("refresh", err)
	if err != nil {
		if isUnavailable(err) && p.Grant == config.GrantClientCredentials && p.SharedTier.OnUnavailable == config.SharedFallbackLocal {
			e.log().Debug("shared tier unreachable; fetching a token locally (on_unavailable = \"local\")", "profile", p.Name, "tier", p.SharedTier.Table(), "err", err)
			return e.obtain(ctx, p, nil, opt)
		}
		return nil, err
	}
	return e.keepLocal(p, t), nil
}

// sharedObtain runs under the team lock when the shared record is not
// fresh: refresh with the shared refresh token, or run the grant for
// client_credentials. Nothing is saved here; the tier writes the result
// (fenced) before anyone gets it.
func (e *Engine) sharedObtain(ctx context.Context, p *config.Profile, cur *Token) (*Token, bool, error) {
	key := p.CacheKey()
	if cur != nil && cur.Key == key && cur.RefreshToken != "" && !cur.RefreshRefused.IsZero() {
		return nil, false, &LoginRequiredError{Profile: p.Name, Reason: fmt.Sprintf("the server refused the shared refresh token in %s at %s; it is not sent again", p.SharedTier.Table(), cur.RefreshRefused.Format(time.RFC3339))}
	}
	if cur != nil && cur.Key == key && cur.RefreshToken != "" {
		c, err := e.client(ctx, p)
		if err != nil {
			return nil, false, err
		}
		e.log().Debug("refreshing the shared token", "profile", p.Name, "refresh_token", redact.Secret(cur.RefreshToken))
		t, err := grant.Refresh(ctx, c, cur.RefreshToken)
		if err != nil {
			refused := grant.RefreshRefused(err)
			if refused == grant.RefreshNotRefused {
				return nil, false, e.explain(p, err)
			}
			te, _ := grant.AsTokenError(err)
			lerr := &LoginRequiredError{Profile: p.Name, Reason: fmt.Sprintf("the shared refresh token in %s was rejected (%s)", p.SharedTier.Table(), describe(te))}
			if refused == grant.RefreshSuspect {
				// Keep the record, marked: no machine sends it again.
				marked := *cur
				marked.RefreshRefused = e.now()
				return &marked, false, lerr
			}
			return nil, true, lerr
		}
		return e.record(p, t, cur.RefreshToken), false, nil
	}
	if p.Grant == config.GrantClientCredentials {
		c, err := e.client(ctx, p)
		if err != nil {
			return nil, false, err
		}
		t, err := grant.ClientCredentials(ctx, c, p.Scopes)
		if err != nil {
			return nil, false, e.explain(p, err)
		}
		return e.record(p, t, ""), false, nil
	}
	reason := fmt.Sprintf("no token for it in %s (log in once from any machine of the team, or move a local login there with lanyard shared push %s)", p.SharedTier.Table(), p.Name)
	if cur != nil && cur.Key != key {
		reason = fmt.Sprintf("the record in %s was minted for other profile settings", p.SharedTier.Table())
	}
	return nil, false, &LoginRequiredError{Profile: p.Name, Reason: reason}
}

// keepLocal stores what this machine may keep of a shared token state: the
// access and ID tokens, never the refresh token. A failed local save costs
// only a later trip to the tier.
func (e *Engine) keepLocal(p *config.Profile, t *Token) *Token {
	local := *t
	local.RefreshToken, local.State = "", ""
	e.Hot.Drop(p.Name)
	if err := e.Store.SaveToken(p.Name, &local); err != nil {
		e.log().Debug("could not keep the shared token locally", "profile", p.Name, "err", err)
		return &local
	}
	e.Hot.Put(p.Name, &local, e.Hot.Stamp(p.Name)) // we hold the lock: the item is ours
	return &local
}

// Push moves p's local token state (a login made before p had shared, or
// while Redis was down) into its team tier, then keeps only the access
// token locally.
func (e *Engine) Push(ctx context.Context, p *config.Profile) (*Token, error) {
	if p.Shared == "" {
		return nil, fmt.Errorf("profile %q has no shared key; add shared = \"NAME\" to its table in %s:%d first", p.Name, p.File, p.Line)
	}
	unlock, err := e.lock(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, err := e.Store.Token(p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &LoginRequiredError{Profile: p.Name, Reason: "nothing to push: not logged in on this machine"}
	}
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" && p.Grant != config.GrantClientCredentials {
		return nil, fmt.Errorf("profile %q: the local token state holds no refresh token (already pushed, or the server issued none); nothing to push", p.Name)
	}
	tier, err := e.openShared(ctx, p)
	if err != nil {
		return nil, err
	}
	defer tier.Close()
	err = tier.Put(ctx, p.Name, t)
	e.sharedDone("put", err)
	if err != nil {
		return nil, fmt.Errorf("%w; the login stays on this machine: run lanyard shared push %s when the tier is reachable", err, p.Name)
	}
	return e.keepLocal(p, t), nil
}

// isUnavailable reports whether err says the tier could not be reached
// (shared.UnavailableError, matched by behaviour to keep go-redis out).
func isUnavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}
