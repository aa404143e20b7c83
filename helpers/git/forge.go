package git

import (
	"strings"
)

// forgeRealms maps the realm of a forge's WWW-Authenticate challenge on
// git's HTTP paths to the lanyard preset that sets it up:
//
//   - Gitea: `Basic realm="Gitea"` (routers/web/repo/githttp.go); most
//     Forgejo versions keep it, so a Gitea realm on a Forgejo host is
//     told apart only by a known host (codeberg.org);
//   - Forgejo: `realm="Forgejo"` in later versions;
//   - GitLab: `Basic realm="GitLab"`;
//   - GitHub and GitHub Enterprise Server: `Basic realm="GitHub"`;
//   - Bitbucket Data Center: `Basic realm="Atlassian Bitbucket"`;
//     bitbucket.org: `Basic realm="Bitbucket.org HTTP"`.
var forgeRealms = map[string]string{
	"gitea":               "gitea",
	"forgejo":             "forgejo",
	"gitlab":              "gitlab",
	"github":              "github",
	"atlassian bitbucket": "bitbucket",
	"bitbucket.org http":  "bitbucket",
}

// forgeHosts are the hosted forges each preset defaults to (its URL is
// left out of the hint).
var forgeHosts = map[string]string{
	"github.com":    "github",
	"gitlab.com":    "gitlab",
	"gitea.com":     "gitea",
	"codeberg.org":  "forgejo",
	"bitbucket.org": "bitbucket",
}

// Forge recognises the forge behind a request from the challenges git
// passes (wwwauth[], git 2.41+): the preset name, or "" when the realm
// names none.
func Forge(r Request) string {
	for _, realm := range Realms(r.WWWAuth) {
		if f, ok := forgeRealms[strings.ToLower(realm)]; ok {
			if f == "gitea" && forgeHosts[strings.ToLower(r.Host)] == "forgejo" {
				return "forgejo"
			}
			return f
		}
	}
	return ""
}

// InitHint is the `lanyard init` line that would set up the forge behind
// r, or "" when the challenge names no forge. The URL is left out for the
// hosted forge the preset defaults to (lanyard init github).
func InitHint(r Request) string {
	f := Forge(r)
	if f == "" || r.Protocol == "" || r.Host == "" {
		return ""
	}
	if forgeHosts[strings.ToLower(r.Host)] == f && r.Protocol == "https" {
		return "lanyard init " + f
	}
	return "lanyard init " + f + " " + r.Protocol + "://" + r.Host
}

// Realms returns the realm auth-param of each challenge in the
// WWW-Authenticate values, in order (RFC 9110 §11.6.1; quoted values may
// hold commas and backslash escapes).
func Realms(wwwauth []string) []string {
	var realms []string
	for _, h := range wwwauth {
		s := h
		for s != "" {
			s = strings.TrimLeft(s, " \t,")
			n := strings.IndexAny(s, " \t,=")
			if n < 0 {
				break
			}
			tok, rest := s[:n], strings.TrimLeft(s[n:], " \t")
			if !strings.HasPrefix(rest, "=") {
				s = rest // a scheme name
				continue
			}
			val, after := paramValue(strings.TrimLeft(rest[1:], " \t"))
			if strings.EqualFold(tok, "realm") {
				realms = append(realms, val)
			}
			s = after
		}
	}
	return realms
}

// paramValue reads an auth-param value, quoted or a token, and returns it
// and what follows it.
func paramValue(s string) (string, string) {
	if !strings.HasPrefix(s, `"`) {
		n := strings.IndexAny(s, " \t,")
		if n < 0 {
			return s, ""
		}
		return s[:n], s[n:]
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "" // unterminated: take what there is
}
