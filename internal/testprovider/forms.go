package testprovider

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// loginPage renders the one login/consent form every server of this package
// uses: hidden fields, username, password, and Allow/Deny buttons posting
// action=allow|deny. The scripted agent below parses exactly this shape.
func loginPage(w http.ResponseWriter, status int, title, action string, hidden url.Values, message string) {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><title>%s</title></head><body>\n<h1>%s</h1>\n", html.EscapeString(title), html.EscapeString(title))
	if message != "" {
		fmt.Fprintf(&b, "<p class=\"error\">%s</p>\n", html.EscapeString(message))
	}
	fmt.Fprintf(&b, "<form method=\"post\" action=\"%s\">\n", html.EscapeString(action))
	for k, vs := range hidden {
		for _, v := range vs {
			fmt.Fprintf(&b, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n", html.EscapeString(k), html.EscapeString(v))
		}
	}
	b.WriteString("<label>Username <input type=\"text\" name=\"username\"></label>\n")
	b.WriteString("<label>Password <input type=\"password\" name=\"password\"></label>\n")
	b.WriteString("<button type=\"submit\" name=\"action\" value=\"allow\">Sign in and allow</button>\n")
	b.WriteString("<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\n</form></body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

var (
	formRE   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// agent is a scripted user agent: a cookie-keeping HTTP client that follows
// redirects while they stay on the provider's host and stops at the first
// redirect that leaves it (the client's redirect_uri).
type agent struct {
	client *http.Client
	host   string // provider host:port
}

func newAgent(providerURL string) (*agent, error) {
	u, err := url.Parse(providerURL)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	a := &agent{host: u.Host}
	a.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != a.host {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("testprovider: too many redirects")
		}
		return nil
	}}
	return a, nil
}

// run GETs authorizeURL, answers every login form with fields (username,
// password, action) and returns the redirect that leaves the provider.
func (a *agent) run(ctx context.Context, authorizeURL string, fields url.Values) (*url.URL, error) {
	u, form, err := a.runForm(ctx, authorizeURL, fields)
	if err == nil && form != nil {
		return nil, fmt.Errorf("testprovider: the provider answered with a form posting to %s (response_mode=form_post); use ScriptedLoginFormPost", u)
	}
	return u, err
}

// formPostHiddenRE matches the hidden inputs of zitadel's form_post page
// (form_post.html.tmpl), which close with "/>" and may have a space.
var formPostHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"\s*/?>`)

// runForm is run that also stops at a page whose form posts off the
// provider (response_mode=form_post), returning its action and fields.
func (a *agent) runForm(ctx context.Context, authorizeURL string, fields url.Values) (*url.URL, url.Values, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return nil, nil, err
	}
	for range 5 { // login, then maybe a consent page
		resp, err := a.client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			u, err := resp.Request.URL.Parse(loc)
			return u, nil, err
		}
		m := formRE.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			return nil, nil, fmt.Errorf("testprovider: %s %s: status %d: %.300s", req.Method, req.URL, resp.StatusCode, body)
		}
		action, err := resp.Request.URL.Parse(html.UnescapeString(string(m[1])))
		if err != nil {
			return nil, nil, err
		}
		if action.Host != a.host {
			post := url.Values{}
			for _, h := range formPostHiddenRE.FindAllSubmatch(body, -1) {
				post.Add(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
			}
			return action, post, nil
		}
		form := url.Values{}
		for _, h := range hiddenRE.FindAllSubmatch(body, -1) {
			form.Add(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
		}
		for k, v := range fields {
			form[k] = v
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", formType)
	}
	return nil, nil, errors.New("testprovider: login did not finish after 5 forms")
}

// scripted plays a user who signs in with username/password and allows
// (allow=true) or denies the request at providerURL.
func scripted(ctx context.Context, providerURL, authorizeURL, username, password string, allow bool) (*url.URL, error) {
	a, err := newAgent(providerURL)
	if err != nil {
		return nil, err
	}
	action := "allow"
	if !allow {
		action = "deny"
	}
	return a.run(ctx, authorizeURL, url.Values{"username": {username}, "password": {password}, "action": {action}})
}
