package kubectl_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// One user entry written by setup --cluster-aware serves two clusters
// whose API servers take tokens from two different OPs: cluster "a" by the
// match prefix of profile a, cluster "b" by the profile its kubeconfig
// extension names. Real kubectl passes the cluster (provideClusterInfo).
func TestKubectlClusterAware(t *testing.T) {
	if execAPIVersion(t) != "v1" {
		t.Skip("this kubectl predates client.authentication.k8s.io/v1 (Kubernetes 1.22)")
	}
	opA, opB := startOP(t, 0), startOP(t, 0)
	apiA, apiB := startAPI(t, opA.Valid), startAPI(t, opB.Valid)
	profiles := fmt.Sprintf(`
[profiles.a]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = "env:KUBE_TEST_SECRET_A"
match = [%q]

[profiles.b]
issuer = %q
grant = "client_credentials"
client_id = %q
client_secret = "env:KUBE_TEST_SECRET_B"
match = [%q]
`, opA.Issuer, opA.ConfidentialClientID, apiA.URL, opB.Issuer, opB.ConfidentialClientID, apiB.URL)
	k := newKubeEnv(t, profiles, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: %s
    server: %s
  name: a
- cluster:
    certificate-authority-data: %s
    server: %s
    extensions:
    - name: client.authentication.k8s.io/exec
      extension:
        profile: b
  name: b
contexts:
- context:
    cluster: a
    user: nobody
  name: a
- context:
    cluster: b
    user: nobody
  name: b
current-context: a
users: []
`, caData(apiA), apiA.URL, caData(apiB), apiB.URL))
	k.env.Set("KUBE_TEST_SECRET_A", opA.ConfidentialClientSecret)
	k.env.Set("KUBE_TEST_SECRET_B", opB.ConfidentialClientSecret)
	for _, ctx := range []string{"a", "b"} {
		k.mustRun("lanyard", "setup", "--cluster-aware", "--context", ctx, "--interactive-mode", "Never", "--command", k.plugin)
	}
	kc, err := os.ReadFile(k.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(kc), "- name: lanyard\n"); n != 1 || !strings.Contains(string(kc), "provideClusterInfo: true") || !strings.Contains(string(kc), "interactiveMode: Never") {
		t.Fatalf("want one user entry lanyard with provideClusterInfo: true and interactiveMode: Never, got:\n%s", kc)
	}

	for range 2 {
		checkVersion(t, k.mustRun("get", "--raw", "/version", "--context", "a"))
		checkVersion(t, k.mustRun("get", "--raw", "/version", "--context", "b"))
	}
	if a, b := opA.TokenRequests(), opB.TokenRequests(); a != 1 || b != 1 {
		t.Errorf("token requests: OP a %d, OP b %d; want 1 each (then cached)", a, b)
	}
	for name, api := range map[string]*apiServer{"a": apiA, "b": apiB} {
		if accepted, rejected := api.stats(); len(accepted) < 2 || rejected != 0 {
			t.Errorf("API server %s: accepted %d, rejected %d; want at least 2 and 0 (each cluster got its own profile's token)", name, len(accepted), rejected)
		}
	}

	// A cluster no profile serves fails with the line to add.
	k.mustRun("config", "set-cluster", "c", "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify")
	k.mustRun("config", "set-context", "c", "--cluster", "c", "--user", "lanyard")
	_, errOut, err := k.run("get", "--raw", "/version", "--context", "c")
	if err == nil || !strings.Contains(errOut, `no lanyard profile serves cluster https://127.0.0.1:1: add match = ["https://127.0.0.1:1"]`) {
		t.Errorf("cluster without a profile: err %v, stderr:\n%s", err, errOut)
	}
}
