package kubectl

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// The ExecCredential API versions lanyard speaks. client-go sends the one
// named in the kubeconfig exec entry and rejects a reply in any other.
// v1alpha1 (removed in Kubernetes 1.24) is not supported.
const (
	APIVersionV1       = "client.authentication.k8s.io/v1"
	APIVersionV1Beta1  = "client.authentication.k8s.io/v1beta1"
	kindExecCredential = "ExecCredential"
)

// ExecCredential is the object client-go passes in KUBERNETES_EXEC_INFO and
// expects back on stdout. It holds only the fields lanyard reads or writes;
// importing k8s.io/client-go for four JSON fields would triple the binary
// and its start-up time (see STYLE.md, "kubelogin: keep and drop").
type ExecCredential struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Spec       *ExecCredentialSpec   `json:"spec,omitempty"`
	Status     *ExecCredentialStatus `json:"status,omitempty"`
}

// ExecCredentialSpec is what client-go tells the plugin. Cluster is only
// sent with provideClusterInfo: true (kubectl lanyard setup
// --cluster-aware writes it).
type ExecCredentialSpec struct {
	Cluster     *ExecCluster `json:"cluster,omitempty"`
	Interactive bool         `json:"interactive"`
}

// ExecCluster is the part of spec.cluster lanyard reads: the API server
// URL, and Config, the cluster's kubeconfig extension named
// ClusterExtension, passed through as raw JSON.
type ExecCluster struct {
	Server string          `json:"server"`
	Config json.RawMessage `json:"config,omitempty"`
}

// ClusterExtension is the name of the per-cluster kubeconfig extension
// client-go hands to exec plugins as spec.cluster.config
// (k8s.io/client-go/pkg/apis/clientauthentication: "client.authentication.k8s.io/exec").
// lanyard reads its "profile" key.
const ClusterExtension = wire.KubeClusterExtension

// ExecCredentialStatus is the plugin's answer. ExpirationTimestamp is RFC
// 3339; client-go runs the plugin again once it has passed.
type ExecCredentialStatus struct {
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
	Token               string `json:"token"`
}

// ExecInfo is what get-token learned from KUBERNETES_EXEC_INFO.
type ExecInfo struct {
	// APIVersion is the version to answer in: the request's, or v1 when
	// the request was absent or unreadable.
	APIVersion string
	// Interactive is spec.interactive; meaningful only when Given.
	Interactive bool
	// Given reports whether KUBERNETES_EXEC_INFO was present and readable.
	// When false, Problem says why and the caller decides interactivity
	// from the terminal instead.
	Given   bool
	Problem string
	// Server is spec.cluster.server and ClusterProfile the "profile" of
	// spec.cluster.config; both empty without provideClusterInfo: true.
	Server         string `json:",omitempty"`
	ClusterProfile string `json:",omitempty"`
}

// UnsupportedAPIVersionError is returned for an ExecCredential apiVersion
// lanyard does not speak.
type UnsupportedAPIVersionError struct {
	APIVersion string
}

func (e *UnsupportedAPIVersionError) Error() string {
	return fmt.Sprintf("KUBERNETES_EXEC_INFO asks for apiVersion %q, which kubectl-lanyard does not speak; set apiVersion: %s (or %s) in the kubeconfig exec entry, or rewrite it with: kubectl lanyard setup", e.APIVersion, APIVersionV1, APIVersionV1Beta1)
}

// ParseExecInfo reads the KUBERNETES_EXEC_INFO value raw. Absent or
// malformed input is not an error: it yields v1 with Given false and
// Problem set (client-go always sends the variable, so this means a person
// or another tool ran get-token). Only a well-formed request for an
// apiVersion lanyard does not speak is an error, since any reply would be
// rejected.
func ParseExecInfo(raw string) (ExecInfo, error) {
	assume := func(problem string) (ExecInfo, error) {
		return ExecInfo{APIVersion: APIVersionV1, Problem: problem}, nil
	}
	if strings.TrimSpace(raw) == "" {
		return assume("KUBERNETES_EXEC_INFO is not set")
	}
	var in ExecCredential
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return assume("KUBERNETES_EXEC_INFO is not a JSON ExecCredential: " + err.Error())
	}
	if in.Kind != kindExecCredential {
		return assume(fmt.Sprintf("KUBERNETES_EXEC_INFO has kind %q, not %s", in.Kind, kindExecCredential))
	}
	switch in.APIVersion {
	case APIVersionV1, APIVersionV1Beta1:
	case "":
		return assume("KUBERNETES_EXEC_INFO has no apiVersion")
	default:
		return ExecInfo{}, &UnsupportedAPIVersionError{APIVersion: in.APIVersion}
	}
	info := ExecInfo{APIVersion: in.APIVersion, Given: true}
	if in.Spec != nil {
		info.Interactive = in.Spec.Interactive
	}
	if in.Spec != nil && in.Spec.Cluster != nil {
		info.Server = in.Spec.Cluster.Server
		var conf struct {
			Profile *string `json:"profile"`
		}
		if c := in.Spec.Cluster.Config; len(c) > 0 && string(c) != "null" {
			if json.Unmarshal(c, &conf) != nil {
				return ExecInfo{}, &ClusterExtensionError{Server: info.Server, Problem: "is not a mapping with a string key profile; write it as: extension: {profile: NAME}"}
			}
		}
		if conf.Profile != nil {
			if *conf.Profile == "" {
				return ExecInfo{}, &ClusterExtensionError{Server: info.Server, Problem: "has an empty profile; set it to a lanyard profile name, or remove it to pick the profile by match"}
			}
			info.ClusterProfile = *conf.Profile
		}
	}
	return info, nil
}

// ClusterExtensionError is returned for a cluster whose kubeconfig
// extension ClusterExtension cannot name a profile.
type ClusterExtensionError struct {
	Server  string // the cluster's server URL
	Problem string
}

func (e *ClusterExtensionError) Error() string {
	return fmt.Sprintf("the kubeconfig extension %s of cluster %s %s", ClusterExtension, e.Server, e.Problem)
}

// FormatExecCredential returns the reply for apiVersion: the token and,
// unless expiry is zero, its expiry in RFC 3339 UTC (truncated to the
// second, so never later than the real expiry). The output ends with a
// newline.
func FormatExecCredential(apiVersion, token string, expiry time.Time) ([]byte, error) {
	if apiVersion != APIVersionV1 && apiVersion != APIVersionV1Beta1 {
		return nil, &UnsupportedAPIVersionError{APIVersion: apiVersion}
	}
	if token == "" {
		return nil, fmt.Errorf("no token to hand to kubectl")
	}
	out := ExecCredential{APIVersion: apiVersion, Kind: kindExecCredential, Status: &ExecCredentialStatus{Token: token}}
	if !expiry.IsZero() {
		out.Status.ExpirationTimestamp = expiry.UTC().Format(time.RFC3339)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
