package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/browser"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/grant"
)

// browserLogin runs p's browser login in the agent for a caller without a
// terminal (wire.Request.BrowserLogin): one login, however many callers
// wait for the profile, each waiting at most p's login_timeout. needed is
// the login_required error the caller got; it is returned unchanged when
// the agent cannot log in for p (a device or paste-mode login needs a
// person at a terminal; a forwarding socket's caller is on another
// machine).
func (h *Handler) browserLogin(ctx context.Context, p *config.Profile, req *wire.Request, needed error) (*engine.Token, error) {
	if req.Only != nil || (p.Grant != config.GrantAuthorizationCode && p.Grant != config.GrantImplicit) ||
		(p.RedirectURI != "" && !browser.IsLoopback(p.RedirectURI)) {
		return nil, needed
	}
	timeout := p.LoginTimeout
	if timeout <= 0 {
		timeout = config.DefaultLoginTimeout
	}
	key := "login\x00" + p.Name + "\x00" + p.CacheKey()
	if err := h.logins.recentFailure(key, h.now()); err != nil {
		// A caller that was waiting for the profile's lock while that
		// login ran: it gets its outcome, not a second browser tab.
		return nil, err
	}
	ch := h.flights.DoChan(key, func() (any, error) {
		eng, err := h.engine()
		if err != nil {
			return nil, err
		}
		ui := &authURLCatcher{}
		e := *eng // this login's own UI, stdin and $BROWSER
		e.UI, e.Stdin = ui, nil
		getenv := e.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		callerBrowser := req.Browser
		e.Getenv = func(k string) string {
			if k == "BROWSER" && callerBrowser != "" {
				return callerBrowser
			}
			return getenv(k)
		}
		// Detached from the first caller: the others wait for it too. The
		// wait for the browser is bounded by timeout inside the grant; the
		// margin is for the code exchange after the browser came back.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout+exchangeMargin)
		defer cancel()
		t, err := e.Login(c, p, engine.LoginOptions{Timeout: timeout})
		if err != nil {
			err = &BrowserLoginError{Profile: p.Name, AuthURL: ui.url(), Timeout: timeout, Err: err}
			h.logins.remember(key, err, h.now())
			return nil, err
		}
		h.remember(p, t, nil, true)
		return t, nil
	})
	// The login ends by itself within timeout plus the exchange margin;
	// this bound only guards against a bug there.
	wait, cancel := context.WithTimeout(ctx, timeout+2*exchangeMargin)
	defer cancel()
	t, err := awaitToken(wait, ch)
	if err != nil && err == wait.Err() && ctx.Err() == nil {
		return nil, &BrowserLoginError{Profile: p.Name, Timeout: timeout, Err: grant.ErrLoginTimeout}
	}
	return t, err
}

// loginMemory remembers the browser logins that failed a moment ago.
type loginMemory struct {
	mu     sync.Mutex
	failed map[string]loginFailure
}

type loginFailure struct {
	err error
	at  time.Time
}

// failureReuse is how long a failed browser login answers the callers
// that were blocked behind it, instead of starting another.
const failureReuse = 5 * time.Second

func (m *loginMemory) remember(key string, err error, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed == nil {
		m.failed = map[string]loginFailure{}
	}
	for k, f := range m.failed {
		if now.Sub(f.at) > failureReuse {
			delete(m.failed, k)
		}
	}
	m.failed[key] = loginFailure{err, now}
}

func (m *loginMemory) recentFailure(key string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.failed[key]; ok && now.Sub(f.at) <= failureReuse {
		return f.err
	}
	return nil
}

// exchangeMargin bounds the code exchange and save after the browser came
// back, on top of login_timeout.
const exchangeMargin = 30 * time.Second

// BrowserLoginError is a browser login the agent ran that ended without a
// token: nobody came back in time (a closed tab, a browser that never
// opened, a provider error page), or the provider refused.
type BrowserLoginError struct {
	Profile string
	AuthURL string // the authorization URL the browser was sent to, "" if none
	Timeout time.Duration
	Err     error
}

func (e *BrowserLoginError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %q: the browser login lanyard started did not finish", e.Profile)
	if errors.Is(e.Err, grant.ErrLoginTimeout) {
		fmt.Fprintf(&b, " within login_timeout (%s)", e.Timeout)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.AuthURL != "" {
		fmt.Fprintf(&b, "; the browser was sent to %s", e.AuthURL)
	}
	fmt.Fprintf(&b, "; run: lanyard login %s", e.Profile)
	return b.String()
}

func (e *BrowserLoginError) Unwrap() error { return e.Err }

// authURLCatcher is the UI of a login the agent runs: nobody reads it, but
// the authorization URL it prints (indented on its own line) goes into
// the error a waiting caller gets.
type authURLCatcher struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *authURLCatcher) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf.Len() < 64<<10 {
		c.buf.Write(p)
	}
	return len(p), nil
}

func (c *authURLCatcher) url() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range strings.Split(c.buf.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "    "); ok && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			return grant.Printable(strings.TrimSpace(u))
		}
	}
	return ""
}
