package config

import "fmt"

// ClusterExtension is the name of the per-cluster kubeconfig extension
// client-go hands to exec plugins as spec.cluster.config (with
// provideClusterInfo: true); lanyard reads its "profile" key.
const ClusterExtension = "client.authentication.k8s.io/exec"

// ForCluster picks the profile for a Kubernetes cluster whose API server
// is server: the profile named (the cluster's ClusterExtension profile
// key), else the profile whose match prefixes serve server. A named
// profile with match prefixes serves only those, so a kubeconfig entry
// cannot send its token to another server; one without match serves any
// cluster that names it, like a kubeconfig user entry pinned to it.
func (f *File) ForCluster(server, named string) (*Profile, error) {
	if named != "" {
		p, err := f.Profile(named)
		if err != nil {
			return nil, fmt.Errorf("cluster %s names a profile in its kubeconfig extension %s: %w", server, ClusterExtension, err)
		}
		if len(p.Match) > 0 {
			if err := p.Serves(server); err != nil {
				return nil, fmt.Errorf("cluster %s names it in its kubeconfig extension %s: %w", server, ClusterExtension, err)
			}
		}
		return p, nil
	}
	if p := f.Match(server); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no lanyard profile serves cluster %s: add match = [%q] to its profile in %s, or name the profile in the cluster's kubeconfig entry: extensions: [{name: %s, extension: {profile: NAME}}]", server, server, f.Path, ClusterExtension)
}
