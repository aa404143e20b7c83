package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/store"
)

// SharedTier is the team tier (internal/shared, on Redis) as the engine's
// slow path uses it. It is an interface, not the concrete type, so that the
// engine does not import go-redis: the helper binaries link the engine, and
// profiles without shared must not pay for the tier (they hand shared
// profiles to lanyard-engine instead, see delegateShared).
type SharedTier interface {
	// Refresh returns a fresh token: the shared record when fresh(record),
	// else, under the team lock, obtain's result once it is stored.
	Refresh(ctx context.Context, profile string, fresh func(*Token) bool, obtain func(cur *Token) (next *Token, drop bool, err error)) (*Token, error)
	// Put replaces the shared record (nil: removes it), under the team lock.
	Put(ctx context.Context, profile string, t *Token) error
	// Retire replaces the shared record with a tombstone under the team
	// lock, after revoke (when not nil) has revoked the record's tokens
	// (cur is nil when there are none). A record that cannot be read or
	// opened fails before revoke runs.
	Retire(ctx context.Context, profile string, revoke func(cur *Token) error) error
	Close() error
}

// OpenSharedFunc opens the tier of a [shared.NAME] table; secrets resolves
// its key and password references.
type OpenSharedFunc func(ctx context.Context, cfg *config.SharedTier, secrets config.SecretSource) (SharedTier, error)

func (e *Engine) openShared(ctx context.Context, p *config.Profile) (SharedTier, error) {
	if e.OpenShared == nil {
		return nil, fmt.Errorf("profile %q uses shared = %q, which this binary cannot reach; run: lanyard token %s", p.Name, p.Shared, p.Name)
	}
	return e.OpenShared(ctx, p.SharedTier, e.SharedSecrets(p.SharedTier))
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
		e.log().Debug("refreshing the shared token", "profile", p.Name, "refresh_token", Redact(cur.RefreshToken))
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
	if err := tier.Put(ctx, p.Name, t); err != nil {
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
