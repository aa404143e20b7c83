package config

import "strings"

// ServedPrefix is the URL prefix under which p's token may be sent for
// rawURL, for tools that cache one credential per prefix (GOAUTH): the
// scheme and host of rawURL with the path of the match prefix that serves
// it (the most specific one), ending in "/". It is "" when p does not serve
// rawURL. It is never wider than that match prefix: a URL without a path
// gets the prefix's path, not the whole host.
func (p *Profile) ServedPrefix(rawURL string) string {
	if p.Serves(rawURL) != nil {
		return ""
	}
	u, _ := parseMatchURL(rawURL)
	best, found := 0, false
	var segs []string
	for _, m := range p.Match {
		pre, ok := parseMatchURL(m)
		if !ok {
			continue
		}
		if score, ok := prefixScore(pre, u); ok && (!found || score > best) {
			best, found, segs = score, true, pre.segs
		}
	}
	if !found {
		return ""
	}
	if len(u.segs) > 0 {
		// The URL's own spelling of the segments (a match prefix
		// "acme/app" serves "acme/app.git").
		segs = u.segs[:len(segs)]
	}
	s := u.scheme + "://" + u.host + "/"
	if len(segs) > 0 {
		s += strings.Join(segs, "/") + "/"
	}
	return s
}
