package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/redact"
	"github.com/lanyardhq/lanyard/internal/store"
)

// Token returns a token for p that stays valid for at least
// max(refresh_before, opt.MinTTL).
//
// Fast path: the hot cache (no unlock), else one keyring read; no lock, no
// network, no discovery, no plugin. Slow path: the profile
// lock, a second read (another process may have refreshed meanwhile), then a
// refresh or the grant, and one atomic save before the token is returned.
func (e *Engine) Token(ctx context.Context, p *config.Profile, opt Options) (*Token, error) {
	if !opt.ForceRefresh {
		if t, ok := e.Hot.Get(p.Name); ok && e.fresh(t, p, opt.MinTTL) {
			return t, nil
		}
	}
	stamp := e.Hot.Stamp(p.Name) // before the read: see HotCache.Put
	cached, err := e.Store.Token(p.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if !opt.ForceRefresh && e.fresh(cached, p, opt.MinTTL) {
		e.Hot.Put(p.Name, cached, stamp)
		return cached, nil
	}
	// After a 401 the caller forces a refresh; if another process already
	// replaced the token we saw, that newer token is the answer.
	seen := ""
	if cached != nil {
		seen = cached.AccessToken
	}

	unlock, err := e.lock(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()

	cached, err = e.Store.Token(p.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	cached = e.recoverJournal(p, cached)
	if e.fresh(cached, p, opt.MinTTL) && (!opt.ForceRefresh || cached.AccessToken != seen) {
		e.log().Debug("token refreshed by another process", "profile", p.Name)
		e.Hot.Put(p.Name, cached, e.Hot.Stamp(p.Name)) // we hold the lock: no writer races this
		return cached, nil
	}
	if p.Shared != "" {
		return e.sharedToken(ctx, p, opt, seen)
	}
	return e.obtain(ctx, p, cached, opt)
}

// fresh reports whether t may be handed out for p now.
func (e *Engine) fresh(t *Token, p *config.Profile, minTTL time.Duration) bool {
	return FreshFor(t, p, minTTL, e.now())
}

// FreshFor reports whether t may be handed out for p at now: before
// RefreshAt, and valid for minTTL more. The rule of Token's fast path, for
// callers that keep tokens in memory (the agent) too.
func FreshFor(t *Token, p *config.Profile, minTTL time.Duration, now time.Time) bool {
	if t == nil || t.Key != p.CacheKey() || value(t, p) == "" {
		return false
	}
	exp := expiry(t, p)
	margin := max(p.EffectiveRefreshBefore(exp.Sub(t.Obtained)), minTTL)
	return now.Add(margin).Before(exp)
}

// RefreshAt is when lanyard replaces t for p: refresh_before ahead of its
// expiry (refresh_before is at most a tenth of the lifetime, so a 30 s
// token is used for 27 s). The agent refreshes ahead at this moment, and
// it is the expiry Handout announces: a server may revoke the previous
// access token when it issues the next one (Ory Hydra does), so no token
// is announced, to git, kubectl or --format json, as living past the
// moment lanyard itself may kill it.
func RefreshAt(t *Token, p *config.Profile) time.Time {
	exp := expiry(t, p)
	return exp.Add(-p.EffectiveRefreshBefore(exp.Sub(t.Obtained)))
}

// value is what the tools receive: the access token or, with use =
// "id_token", the ID token.
func value(t *Token, p *config.Profile) string {
	if p.UseIDToken() {
		return t.IDToken
	}
	return t.AccessToken
}

// Credential is what a tool receives for a profile.
type Credential struct {
	// Value is the access token, or the ID token with use = "id_token".
	Value string
	// Type is the scheme in front of it: the server's token_type, else
	// Bearer (always Bearer for an ID token).
	Type string
	// Expiry is when lanyard stops handing Value out (RefreshAt): never
	// later than the server's expiry, nor than the next refresh.
	Expiry time.Time
}

// Handout decides what a tool receives from t for p: value, type and
// expiry. It is the only place these are decided, as x/oauth2's
// Token.Type is for the type; the agent, the in-process answer and every
// command that prints a token ask it.
func Handout(t *Token, p *config.Profile) Credential {
	typ := t.TokenType
	if typ == "" || p.UseIDToken() {
		typ = "Bearer"
	}
	return Credential{Value: value(t, p), Type: typ, Expiry: RefreshAt(t, p)}
}

func expiry(t *Token, p *config.Profile) time.Time {
	if p.UseIDToken() {
		if exp := jwtExpiry(t.IDToken); !exp.IsZero() && exp.Before(t.Expiry) {
			return exp
		}
	}
	return t.Expiry
}

// obtain runs under the profile lock: refresh when a refresh token is
// stored for the same profile settings, else the grant itself.
func (e *Engine) obtain(ctx context.Context, p *config.Profile, cached *Token, opt Options) (tok *Token, err error) {
	// A keyring that cannot take the new state must fail now, before the
	// server rotates a refresh token.
	if err := e.Store.Prepare(p.Name); err != nil {
		return nil, err
	}
	if cached == nil {
		// Nothing was stored: a failure leaves nothing behind either
		// (Prepare may just have made a seal key).
		defer func() {
			if err != nil {
				e.Store.Unprepare(p.Name)
			}
		}()
	}
	key := p.CacheKey()
	if p.UseIDToken() && !opt.ForceRefresh && cached != nil && cached.Key == key && cached.IDToken == "" && e.now().Before(cached.Expiry) {
		// The last answer had no id_token and its access token is still
		// good: refreshing now would only ask again, on every call.
		return nil, noIDToken(p)
	}
	if cached != nil && cached.Key == key && cached.RefreshToken != "" && cached.RefreshRefused.IsZero() {
		return e.refresh(ctx, p, cached)
	}
	if cached != nil && cached.Key != key && cached.RefreshToken != "" {
		e.log().Debug("profile settings changed since the stored token was minted", "profile", p.Name)
	}
	switch {
	case p.Grant == config.GrantClientCredentials:
		c, err := e.client(ctx, p)
		if err != nil {
			return nil, err
		}
		stop := e.notice("the token endpoint of %s (%s)", p.Name, c.TokenURL)
		t, err := grant.ClientCredentials(ctx, c, p.Scopes)
		stop()
		if err != nil {
			return nil, e.explain(p, err)
		}
		return e.save(p, t, "")
	case p.Grant == config.GrantJWTBearer || p.Grant == config.GrantTokenExchange:
		t, err := e.assertionGrant(ctx, p)
		if err != nil {
			return nil, e.explain(p, err)
		}
		return e.save(p, t, "")
	case p.PluginName() != "":
		return e.runPlugin(ctx, p, cached)
	case opt.Interactive && p.Grant != config.GrantRefreshToken && p.Grant != config.GrantPassword:
		return e.interactiveLogin(ctx, p, LoginOptions{})
	}
	reason := "not logged in"
	switch {
	case cached != nil && cached.Key == key && !cached.RefreshRefused.IsZero():
		reason = fmt.Sprintf("the server refused the stored refresh token at %s; it is not sent again", cached.RefreshRefused.Format(time.RFC3339))
	case cached != nil && cached.Key != key:
		reason = "profile settings changed since the last login"
	case cached != nil && p.Grant == config.GrantImplicit:
		reason = "the implicit grant's token expired and cannot be refreshed"
	case cached != nil:
		reason = "token expired and no refresh token is stored"
	}
	return nil, &LoginRequiredError{Profile: p.Name, Reason: reason}
}

// refresh exchanges the stored refresh token. A rotated refresh token is
// saved (with the access token, in one write) before anything else; a
// failed refresh leaves the stored refresh token alone unless the server
// said it is dead (invalid_grant).
func (e *Engine) refresh(ctx context.Context, p *config.Profile, cached *Token) (*Token, error) {
	c, err := e.client(ctx, p)
	if err != nil {
		return nil, err
	}
	e.log().Debug("refreshing", "profile", p.Name, "refresh_token", redact.Secret(cached.RefreshToken))
	stop := e.notice("the token endpoint of %s to refresh the token (%s)", p.Name, c.TokenURL)
	t, err := grant.Refresh(ctx, c, cached.RefreshToken)
	stop()
	if err != nil {
		switch grant.RefreshRefused(err) {
		case grant.RefreshDead:
			// The refresh token is dead at the server: keeping it would only
			// repeat this failure.
			e.Hot.Drop(p.Name)
			if derr := e.Store.DeleteToken(p.Name); derr != nil {
				e.log().Debug("could not drop dead refresh token", "err", derr)
			}
		case grant.RefreshSuspect:
			// Not RFC 6749's answer, so keep the token (a login replaces
			// it), but never send it again: Dex revokes a grant whose
			// refresh token is presented twice.
			marked := *cached
			marked.RefreshRefused = e.now()
			e.Hot.Drop(p.Name)
			if serr := e.Store.SaveToken(p.Name, &marked); serr != nil {
				e.log().Debug("could not mark the refused refresh token", "err", serr)
			}
		default:
			return nil, e.explain(p, err)
		}
		te, _ := grant.AsTokenError(err)
		return nil, &LoginRequiredError{Profile: p.Name, Reason: fmt.Sprintf("the refresh token was rejected (%s)", describe(te))}
	}
	return e.save(p, t, cached.RefreshToken)
}

// save persists t for p in one atomic write. prevRefresh is kept when the
// server did not rotate the refresh token.
func (e *Engine) save(p *config.Profile, t *grant.Token, prevRefresh string) (*Token, error) {
	rec := e.record(p, t, prevRefresh)
	// The server may just have rotated the refresh token: journal the new
	// state in microseconds before the keyring save, which with the file
	// backend spends milliseconds in PBKDF2. A process killed in between
	// leaves the journal for the next caller (recoverJournal).
	journaled := prevRefresh != "" && rec.RefreshToken != prevRefresh && e.Hot.WriteJournal(p.Name, prevRefresh, rec)
	e.Hot.Drop(p.Name)
	if err := e.Store.SaveToken(p.Name, rec); err != nil {
		if journaled {
			return nil, fmt.Errorf("the server issued a new refresh token but it could not be saved; it is kept in the journal %s, which the next lanyard call for %s adopts once the save works; fix the store, do not log in again: %w", e.Hot.JournalPath(p.Name), p.Name, err)
		}
		if rec.RefreshToken != prevRefresh {
			return nil, fmt.Errorf("the server issued a new refresh token but it could not be saved, so the login is lost; fix the keyring, then run: lanyard login %s: %w", p.Name, err)
		}
		return nil, err
	}
	if journaled {
		e.Hot.ClearJournal(p.Name)
	}
	e.Hot.Put(p.Name, rec, e.Hot.Stamp(p.Name)) // we hold the lock: the item is ours
	e.log().Debug("token saved", "profile", p.Name, "access_token", redact.Secret(rec.AccessToken), "expiry", rec.Expiry, "rotated", rec.RefreshToken != prevRefresh && prevRefresh != "")
	if p.UseIDToken() && rec.IDToken == "" {
		return nil, noIDToken(p)
	}
	return rec, nil
}

// explain adds what the user should change to a token endpoint error.
func (e *Engine) explain(p *config.Profile, err error) error {
	te, ok := grant.AsTokenError(err)
	if !ok {
		var ce *config.Error
		if errors.As(err, &ce) || strings.HasPrefix(err.Error(), fmt.Sprintf("profile %q", p.Name)) {
			return err // already names the profile
		}
		return fmt.Errorf("profile %q: %w", p.Name, err)
	}
	switch te.Code {
	case "invalid_client", "unauthorized_client":
		return fmt.Errorf("profile %q: %w; check %s in %s:%d", p.Name, err, clientKeys(p), p.File, p.Line)
	case "invalid_grant", "invalid_request":
		if p.Grant == config.GrantJWTBearer || p.Grant == config.GrantTokenExchange {
			return fmt.Errorf("profile %q: %w; the server refused the token from %s (check its audience, issuer, subject and expiry against the trust configured at the server) in %s:%d", p.Name, err, sourceKeys(p), p.File, p.Line)
		}
	case "invalid_scope":
		return fmt.Errorf("profile %q: %w; check scopes, scope_param and scope_separator in %s:%d", p.Name, err, p.File, p.Line)
	case "invalid_target":
		return fmt.Errorf("profile %q: %w; check audience and resource in %s:%d", p.Name, err, p.File, p.Line)
	case "unsupported_grant_type":
		return fmt.Errorf("profile %q: %w; the server does not allow grant = %q for this client", p.Name, err, p.Grant)
	}
	return fmt.Errorf("profile %q: %w", p.Name, err)
}

// clientKeys names the settings behind p's client authentication.
func clientKeys(p *config.Profile) string {
	switch p.ClientAuth {
	case config.AuthPrivateKeyJWT:
		return "client_id, private_key, key_id, signing_alg and assertion_audience (the server must hold the public key)"
	case config.AuthClientAssertion:
		return fmt.Sprintf("client_id and client_assertion = %q (the server must trust its issuer, subject and audience)", p.ClientAssertion)
	case config.AuthTLS, config.AuthSelfSignedTLS:
		return "client_id, tls_cert and tls_key (the server must know the certificate)"
	}
	return "client_id, client_secret and client_auth (basic, post or none)"
}

func sourceKeys(p *config.Profile) string {
	if p.Grant == config.GrantJWTBearer {
		return fmt.Sprintf("assertion = %q", p.Assertion)
	}
	return fmt.Sprintf("subject_token = %q", p.SubjectToken)
}

func describe(te *grant.TokenError) string {
	if te.Description != "" {
		return grant.Printable(te.Code + ": " + te.Description)
	}
	return grant.Printable(te.Code)
}

// recoverJournal adopts the token state a process received but was killed
// before saving: the journal applies while the store still holds the
// refresh token it replaced. Stale journals are removed. Called under the
// profile lock.
func (e *Engine) recoverJournal(p *config.Profile, cached *Token) *Token {
	j, ok := e.Hot.ReadJournal(p.Name)
	if !ok {
		return cached
	}
	if cached == nil || cached.RefreshToken == "" || cached.RefreshToken != j.Prev || cached.Key != j.Token.Key {
		e.Hot.ClearJournal(p.Name)
		return cached
	}
	if err := e.Store.SaveToken(p.Name, &j.Token); err != nil {
		// The stored refresh token is already rotated away: use the
		// journaled state and keep the journal for the next caller.
		e.log().Debug("could not save the journaled token; using it, keeping the journal", "profile", p.Name, "err", err)
		return &j.Token
	}
	e.Hot.ClearJournal(p.Name)
	e.log().Debug("adopted the token state a killed process received but did not save", "profile", p.Name, "refresh_token", redact.Secret(j.Token.RefreshToken))
	return &j.Token
}

func noIDToken(p *config.Profile) error {
	return fmt.Errorf("profile %q has use = \"id_token\" but the token endpoint returned no id_token; add the openid scope or set use = \"access_token\" in %s:%d", p.Name, p.File, p.Line)
}

// record builds the token state to store for p from a token response.
// prevRefresh is kept when the server did not rotate the refresh token.
func (e *Engine) record(p *config.Profile, t *grant.Token, prevRefresh string) *Token {
	rec := &Token{
		Key:             p.CacheKey(),
		AccessToken:     t.AccessToken,
		TokenType:       t.TokenType,
		IDToken:         t.IDToken,
		RefreshToken:    t.RefreshToken,
		Expiry:          t.Expiry,
		ExpiryGuessed:   t.ExpiryGuessed,
		Obtained:        e.now(),
		Scope:           t.Scope,
		State:           t.State,
		IssuedTokenType: t.IssuedTokenType,
	}
	if rec.RefreshToken == "" {
		rec.RefreshToken = prevRefresh
	}
	if prevRefresh != "" { // a refresh (or an imported refresh token)
		rec.LastRefresh = rec.Obtained
		rec.RefreshRotates = rec.RefreshToken != prevRefresh
	}
	return rec
}
