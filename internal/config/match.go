package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Match returns the profile that serves rawURL, or nil when none does. It is
// how git, docker and HTTPie pick a profile from a profile's `match` list.
//
// A match prefix serves a URL when:
//
//   - the schemes are equal (https://… never serves http://…);
//   - the hosts are equal, compared case-insensitively, ports included
//     (https://host:8443/ and https://host/ are different servers; the
//     scheme's default port may be written or left out);
//   - when the URL has a path, the prefix's path is a prefix of it on whole
//     path segments: https://host/acme serves https://host/acme/app.git but
//     not https://host/acmeinc/app.git. A trailing ".git" is ignored when
//     segments are compared, so https://host/acme/app serves
//     https://host/acme/app.git.
//
// When the URL has no path (git without credential.useHttpPath, a docker
// registry host) only scheme, host and port count, so every prefix on that
// host serves it.
//
// The most specific prefix wins: for a URL with a path, the prefix with the
// most path segments; for a URL without one, the prefix with the fewest (the
// profile that claims the whole host). Remaining ties go to the profile whose
// name sorts first, so the answer never depends on map order.
//
// A prefix may carry a username (https://work@github.com/): it then serves
// only URLs with that username (git's request for a remote
// https://work@github.com/acme/app.git, cargo's), and wins over prefixes
// without one, which serve URLs with any username or none. This is how two
// accounts on one host get two profiles.
//
// rawURL may omit the scheme ("registry.example.com", as docker passes
// server addresses); https is assumed then. Passwords, query and fragment
// are ignored. A URL that does not parse matches nothing, and neither does one
// with "." or ".." path segments, also as "..;" or "..;param" (git decodes %2e%2e, so
// https://host/acme/%2e%2e/evil reaches a helper as acme/../evil, which a
// server that normalises paths serves from /evil).
func (f *File) Match(rawURL string) *Profile {
	u, ok := parseMatchURL(rawURL)
	if !ok {
		return nil
	}
	var best *Profile
	bestScore := 0
	for _, name := range f.Names() {
		p := f.Profiles[name]
		score, ok := p.matchScore(u)
		if ok && (best == nil || score > bestScore) {
			best, bestScore = p, score
		}
	}
	return best
}

// Matches reports whether one of p's match prefixes serves rawURL, by the
// rules of [File.Match].
func (p *Profile) Matches(rawURL string) bool { return p.Serves(rawURL) == nil }

// Reasons [Profile.Serves] gives for not serving a URL.
var (
	// ErrNotMatched: none of the profile's match prefixes covers the URL.
	// Helpers treat it as "not mine" and let the tool ask elsewhere.
	ErrNotMatched = errors.New("none of its match prefixes covers the URL")
	// ErrNoMatchList: the profile has no match prefixes, so it serves no
	// URL: a profile pinned for every host must not hand its token to all.
	ErrNoMatchList = errors.New("the profile has no match list")
	// ErrDotSegments: the URL's path has "." or ".." segments, which a
	// server may resolve to a path outside every prefix.
	ErrDotSegments = errors.New("the URL's path has . or .. segments")
)

// Serves says whether p hands its token to rawURL, by the rules of
// [File.Match], for a tool that names the profile itself (a pinned git
// helper, lanyard token --url): nil when it does, else an error wrapping
// ErrNotMatched, ErrNoMatchList or ErrDotSegments that says what to change.
func (p *Profile) Serves(rawURL string) error {
	shown := redactURL(rawURL)
	if len(p.Match) == 0 {
		return fmt.Errorf("profile %q will not send its token to %s: %w; set match (the URL prefixes it serves) in [profiles.%s] at %s:%d",
			p.Name, shown, ErrNoMatchList, p.Name, p.File, p.Line)
	}
	if hasDotSegments(rawURL) {
		return fmt.Errorf("profile %q will not send its token to %s: %w (a server may resolve them outside the profile's match prefixes); use the URL without them", p.Name, shown, ErrDotSegments)
	}
	u, ok := parseMatchURL(rawURL)
	if ok {
		if _, ok = p.matchScore(u); ok {
			return nil
		}
	}
	return fmt.Errorf("profile %q will not send its token to %s: %w (%s); if it should serve it, edit match in [profiles.%s] at %s:%d", p.Name, shown, ErrNotMatched, strings.Join(p.Match, ", "), p.Name, p.File, p.Line)
}

// redactURL drops userinfo, query and fragment from a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "the URL"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// hasDotSegments reports "." or ".." path segments in rawURL, also
// percent-encoded (%2e, once or twice: a server may decode again), separated
// by backslashes (which some servers treat as "/"), or followed by a path
// parameter: Tomcat and Jetty (so Bitbucket Data Center, Artifactory,
// Jenkins, Gerrit) drop ";..." from each segment before resolving dot
// segments, so /acme/..;/evil and /acme/..;jsessionid=1/evil reach /evil.
func hasDotSegments(rawURL string) bool {
	path := rawURL
	if u, err := url.Parse(strings.TrimSpace(rawURL)); err == nil {
		path = u.EscapedPath() + "/" + u.Path
	}
	path = strings.ToLower(path)
	for range 2 {
		path = strings.ReplaceAll(path, "%25", "%")
	}
	path = strings.ReplaceAll(path, "%2e", ".")
	path = strings.ReplaceAll(path, "%2f", "/")
	path = strings.ReplaceAll(path, "%5c", "/")
	path = strings.ReplaceAll(path, "%3b", ";")
	path = strings.ReplaceAll(path, "\\", "/")
	for s := range strings.FieldsFuncSeq(path, func(r rune) bool { return r == '/' }) {
		s, _, _ = strings.Cut(s, ";")
		if s == "." || s == ".." {
			return true
		}
	}
	return false
}

// matchURL is a URL or prefix reduced to what matching compares.
type matchURL struct {
	scheme, host string // host is lower case, with ":port" unless the port is the default
	user         string // the username, compared exactly; "" when none
	segs         []string
}

// userBonus ranks a prefix whose username matched above every prefix
// without one, whatever their paths.
const userBonus = 1 << 20

func (p *Profile) matchScore(u matchURL) (int, bool) {
	best, found := 0, false
	for _, m := range p.Match {
		pre, ok := parseMatchURL(m)
		if !ok {
			continue
		}
		if score, ok := prefixScore(pre, u); ok && (!found || score > best) {
			best, found = score, true
		}
	}
	return best, found
}

// prefixScore is the one rule of matching: whether the match prefix pre
// serves u, and how well. Scheme and host must be equal, and the
// prefix's username, when it has one, too. For a URL with a path, the
// prefix's segments must lead it and more of them score higher; for one
// without, fewer score higher (the profile that claims the whole host).
// A prefix with the URL's username ranks above every prefix without one.
func prefixScore(pre, u matchURL) (int, bool) {
	if pre.scheme != u.scheme || pre.host != u.host || (pre.user != "" && pre.user != u.user) {
		return 0, false
	}
	score := -len(pre.segs)
	if len(u.segs) > 0 {
		if !segsPrefix(pre.segs, u.segs) {
			return 0, false
		}
		score = len(pre.segs)
	}
	if pre.user != "" {
		score += userBonus
	}
	return score, true
}

func segsPrefix(prefix, segs []string) bool {
	if len(prefix) > len(segs) {
		return false
	}
	for i, s := range prefix {
		if s != segs[i] && strings.TrimSuffix(s, ".git") != strings.TrimSuffix(segs[i], ".git") {
			return false
		}
	}
	return true
}

var defaultPorts = map[string]string{"https": "443", "http": "80"}

func parseMatchURL(raw string) (matchURL, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || hasDotSegments(raw) {
		return matchURL{}, false
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return matchURL{}, false
	}
	m := matchURL{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname())}
	if m.host == "" {
		return matchURL{}, false
	}
	if u.User != nil {
		m.user = u.User.Username()
	}
	if strings.Contains(m.host, ":") {
		m.host = "[" + m.host + "]" // IPv6 literal
	}
	if port := u.Port(); port != "" && port != defaultPorts[m.scheme] {
		m.host += ":" + port
	}
	for s := range strings.SplitSeq(u.Path, "/") {
		if s != "" {
			m.segs = append(m.segs, s)
		}
	}
	return m, true
}
