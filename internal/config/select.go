package config

import (
	"errors"
	"os"
	"strconv"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// IdentityTokenUsername makes docker clients treat the secret as a
// registry identity (refresh) token: never right for an access token, so
// Load refuses it as a docker_username.
const IdentityTokenUsername = "<token>"

// Query is what a tool asks for, in the tool's terms: the fields of a
// wire.Request that pick a profile.
type Query struct {
	Tool string // wire.ToolGit, wire.ToolDocker, ...
	// Profile is a pinned profile name (git --profile, kubectl --profile,
	// lanyard token PROFILE).
	Profile string
	// URL is the address the token is for (git's URL, docker's server,
	// kubectl's cluster server, token's --url).
	URL string
	// Candidates are the URLs to match, best first, when the tool's
	// address is not one URL (docker).
	Candidates []string
	// ClusterProfile is kubectl's spec.cluster.config.profile.
	ClusterProfile string
	// Use overrides the profile's use key (kubectl get-token --use).
	Use string
	// Resource is the RFC 8707 resource a profile without its own
	// resource key asks for (lanyard mcp: the MCP server's canonical URI).
	Resource string
}

// Select returns the profile that serves q from f, the profiles file that
// Load returned with loadErr. A nil profile and nil error mean that no
// profile serves the request: the tool's "not mine" answer, so its next
// helper may. Each tool's rule is here and nowhere else.
func Select(f *File, loadErr error, q Query) (*Profile, error) {
	// A helper configured before any profile exists stays out of the
	// tool's way, for the tools that ask every helper in turn.
	missing := errors.Is(loadErr, os.ErrNotExist)
	var p *Profile
	var err error
	switch q.Tool {
	case wire.ToolGit, wire.ToolCargo, wire.ToolTerraform, wire.ToolGoauth, wire.ToolPip:
		if q.Profile == "" {
			if missing {
				return nil, nil
			}
			if loadErr != nil {
				return nil, loadErr
			}
			return f.Match(q.URL), nil
		}
		if loadErr != nil {
			return nil, loadErr
		}
		if p, err = f.Profile(q.Profile); err != nil {
			return nil, err
		}
		// A pinned profile serves only its match prefixes: a helper line
		// set for every host must not hand this token to all.
		if err := p.Serves(q.URL); err != nil {
			if errors.Is(err, ErrNotMatched) {
				return nil, nil
			}
			return nil, err
		}
	case wire.ToolDocker:
		if missing {
			return nil, nil
		}
		if loadErr != nil {
			return nil, loadErr
		}
		urls := q.Candidates
		if len(urls) == 0 && q.URL != "" {
			urls = []string{q.URL}
		}
		for _, u := range urls {
			if p = f.Match(u); p != nil {
				break
			}
		}
	case wire.ToolKubectl:
		if loadErr != nil {
			return nil, loadErr
		}
		switch {
		case q.Profile != "":
			p, err = f.Profile(q.Profile)
		case q.URL == "":
			err = errors.New("get-token needs --profile, or provideClusterInfo: true in the kubeconfig exec entry to pick the profile by cluster (kubectl lanyard setup --cluster-aware writes it)")
		default:
			p, err = f.ForCluster(q.URL, q.ClusterProfile)
		}
	case wire.ToolToken, wire.ToolProxy:
		// lanyard proxy asks as lanyard token --url does: the profile it
		// picked by the host, within that profile's match prefixes.
		if loadErr != nil {
			return nil, loadErr
		}
		if p, err = f.Profile(q.Profile); err == nil && q.URL != "" {
			// Before any token is fetched: a URL outside the profile's
			// match (another host, plain http) never gets one.
			err = p.Serves(q.URL)
		}
	case wire.ToolMCP:
		if loadErr != nil {
			return nil, loadErr
		}
		p, err = f.Profile(q.Profile)
	default:
		return nil, &UnknownToolError{Tool: q.Tool}
	}
	if err != nil || p == nil {
		return nil, err
	}
	if q.Use != "" && q.Use != p.Use {
		cp := *p
		cp.Use = q.Use
		p = &cp
	}
	if q.Resource != "" && len(p.Resource) == 0 {
		// The profile's own resource key wins; DefaultResource is not
		// part of the cache key, so the caller's resource logs nothing out.
		cp := *p
		cp.DefaultResource = []string{q.Resource}
		p = &cp
	}
	return p, nil
}

// UnknownToolError is a request from a helper of another lanyard version
// than the agent's.
type UnknownToolError struct{ Tool string }

func (e *UnknownToolError) Error() string {
	return "unknown tool " + strconv.Quote(e.Tool) + " in agent request; the helper and the agent are different versions: run lanyard agent stop"
}
