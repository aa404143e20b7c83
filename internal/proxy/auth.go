package proxy

import (
	"cmp"
	"encoding/base64"
	"strings"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// Usernames the tools' helpers send when a profile names none
// (helpers/git DefaultUsername is "oauth2", helpers/docker's
// "oauth2accesstoken"): the proxy speaks for those helpers.
const (
	gitUsername    = "oauth2"
	dockerUsername = "oauth2accesstoken"
)

// Authorization is the header value the proxy sets on a request from a
// client whose User-Agent is userAgent, for the agent's answer resp.
//
// git sends what its credential helper gives as Basic unless the profile
// says git_auth = "bearer" (git's Bearer support needs a helper that asks
// for it; through the proxy the choice is the profile's: "auto" and
// "basic" give Basic, as git-credential-lanyard does for a server that
// offers Basic). docker-compatible clients (docker, containerd, podman,
// go-containerregistry) send Basic docker_username:token, as
// docker-credential-lanyard makes them. Everything else gets
// "TYPE token" with the token's type (Bearer by default).
func Authorization(userAgent string, resp *wire.Response) string {
	ua := strings.ToLower(userAgent)
	switch {
	case strings.HasPrefix(ua, "git/") && resp.GitAuth != "bearer":
		return basic(cmp.Or(resp.GitUsername, gitUsername), resp.Token)
	case strings.HasPrefix(ua, "docker/"), strings.HasPrefix(ua, "containerd/"),
		strings.HasPrefix(ua, "libpod/"), strings.HasPrefix(ua, "podman/"),
		strings.HasPrefix(ua, "buildkit/"), strings.Contains(ua, "go-containerregistry"):
		return basic(cmp.Or(resp.DockerUsername, dockerUsername), resp.Token)
	}
	typ := resp.TokenType
	if typ == "" || strings.EqualFold(typ, "bearer") {
		typ = "Bearer" // Whiplash sends "bearer"; RFC 6750 §2.1 spells it Bearer
	}
	return typ + " " + resp.Token
}

func basic(user, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
}
