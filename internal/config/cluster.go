package config

import "fmt"

// ClusterExtension is the name of the per-cluster kubeconfig extension
// client-go hands to exec plugins as spec.cluster.config (with
// provideClusterInfo: true); lanyard reads its "profile" key.
const ClusterExtension = "client.authentication.k8s.io/exec"

// ForCluster picks the profile for a Kubernetes cluster whose API server
// is server: the profile named (the cluster's ClusterExtension profile
// key), else the profile whose match prefixes serve server. A named
// profile serves only its match prefixes, so a kubeconfig entry cannot send
// its token to another server; one without match serves no cluster here
// (any kubeconfig entry could name it). --profile still pins one.
func (f *File) ForCluster(server, named string) (*Profile, error) {
	if named != "" {
		p, err := f.Profile(named)
		if err != nil {
			return nil, fmt.Errorf("cluster %s names a profile in its kubeconfig extension %s: %w", server, ClusterExtension, err)
		}
		if len(p.Match) == 0 {
			return nil, fmt.Errorf("cluster %s names it in its kubeconfig extension %s: profile %q has no match list, so it serves no cluster in cluster-aware mode; set match (the API server URLs it serves) in [profiles.%s] at %s:%d: %w", server, ClusterExtension, p.Name, p.Name, p.File, p.Line, ErrNoMatchList)
		}
		if err := p.Serves(server); err != nil {
			return nil, fmt.Errorf("cluster %s names it in its kubeconfig extension %s: %w", server, ClusterExtension, err)
		}
		return p, nil
	}
	if p := f.Match(server); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no lanyard profile serves cluster %s: add match = [%q] to its profile in %s, or name the profile in the cluster's kubeconfig entry: extensions: [{name: %s, extension: {profile: NAME}}]", server, server, f.Path, ClusterExtension)
}
