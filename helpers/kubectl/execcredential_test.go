package kubectl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/golden"
)

func TestParseExecInfo(t *testing.T) {
	cases := []struct {
		name, raw string
	}{
		// What client-go sends (exec.go refreshCredsLocked).
		{"v1-noninteractive", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`},
		{"v1-interactive", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`},
		{"v1beta1-noninteractive", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`},
		{"v1beta1-interactive", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`},
		{"v1-cluster", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://127.0.0.1:6443","certificate-authority-data":"LS0t","config":{"audience":"k8s"}},"interactive":true}}`},
		{"v1-cluster-profile", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com","config":{"profile":"prod","other":1}},"interactive":false}}`},
		{"v1beta1-cluster-no-config", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"server":"https://k8s.example.com"},"interactive":false}}`},
		{"cluster-config-null", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com","config":null}}}`},
		{"cluster-config-not-a-mapping", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com","config":"prod"}}}`},
		{"cluster-profile-not-a-string", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com","config":{"profile":3}}}}`},
		{"cluster-profile-empty", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com","config":{"profile":""}}}}`},
		{"v1-no-spec", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}`},
		{"v1-extra-fields", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","metadata":{},"spec":{"interactive":false,"future":1},"status":null}`},
		// A person or another tool ran get-token.
		{"absent", ``},
		{"blank", " \n"},
		{"not-json", `interactive=true`},
		{"truncated", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"inter`},
		{"array", `[]`},
		{"wrong-kind", `{"kind":"Pod","apiVersion":"client.authentication.k8s.io/v1"}`},
		{"no-apiversion", `{"kind":"ExecCredential","spec":{"interactive":true}}`},
		{"interactive-not-bool", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"yes"}}`},
		// Versions lanyard cannot answer in.
		{"v1alpha1", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`},
		{"unknown-group", `{"kind":"ExecCredential","apiVersion":"example.com/v1","spec":{"interactive":false}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := ParseExecInfo(c.raw)
			out := struct {
				Input string
				Info  *ExecInfo `json:",omitempty"`
				Error string    `json:",omitempty"`
			}{Input: c.raw}
			if err != nil {
				out.Error = err.Error()
				var ue *UnsupportedAPIVersionError
				var ce *ClusterExtensionError
				if !errors.As(err, &ue) && !errors.As(err, &ce) {
					t.Errorf("got error %T, want *UnsupportedAPIVersionError", err)
				}
			} else {
				out.Info = &info
				if info.APIVersion != APIVersionV1 && info.APIVersion != APIVersionV1Beta1 {
					t.Errorf("got apiVersion %q, want v1 or v1beta1", info.APIVersion)
				}
				if info.Given == (info.Problem != "") {
					t.Errorf("got Given=%v with Problem %q", info.Given, info.Problem)
				}
			}
			b, _ := json.MarshalIndent(out, "", "  ")
			golden.Check(t, "execinfo/"+c.name+".golden", append(b, '\n'))
		})
	}
}

func TestFormatExecCredential(t *testing.T) {
	berlin := time.FixedZone("CEST", 2*3600)
	exp := time.Date(2026, 11, 23, 11, 5, 9, 987654321, berlin) // 09:05:09.98 UTC
	cases := []struct {
		name, version, token string
		expiry               time.Time
	}{
		{"v1", APIVersionV1, "eyJhbGciOiJSUzI1NiJ9.e30.sig", exp},
		{"v1beta1", APIVersionV1Beta1, "eyJhbGciOiJSUzI1NiJ9.e30.sig", exp},
		{"no-expiry", APIVersionV1, "opaque-token", time.Time{}},
		{"token-needs-escaping", APIVersionV1, `a"b\c<d>&`, exp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := FormatExecCredential(c.version, c.token, c.expiry)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "execcredential/"+c.name+".json", b)
			var back ExecCredential
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Status == nil || back.Status.Token != c.token || back.APIVersion != c.version || back.Kind != "ExecCredential" {
				t.Fatalf("got %+v, want token %q in %s", back, c.token, c.version)
			}
			if !c.expiry.IsZero() {
				ts, err := time.Parse(time.RFC3339, back.Status.ExpirationTimestamp)
				if err != nil {
					t.Fatal(err)
				}
				if ts.After(c.expiry) || c.expiry.Sub(ts) >= time.Second || ts.Location() != time.UTC {
					t.Errorf("got expirationTimestamp %s, want %s truncated to the second, in UTC", back.Status.ExpirationTimestamp, c.expiry.UTC())
				}
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		if _, err := FormatExecCredential("client.authentication.k8s.io/v1alpha1", "t", exp); err == nil || !strings.Contains(err.Error(), "does not speak") {
			t.Errorf("got %v, want an unsupported apiVersion error", err)
		}
		if _, err := FormatExecCredential(APIVersionV1, "", exp); err == nil {
			t.Error("got no error for an empty token")
		}
	})
}

// FuzzExecInfo feeds arbitrary KUBERNETES_EXEC_INFO values to the parser:
// it must never panic, must answer in a version client-go accepts, and
// the reply must read back as the same version.
func FuzzExecInfo(f *testing.F) {
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`)
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`)
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://h","config":{"profile":"p"}}}}`)
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://h","config":[]}}}`)
	f.Add(``)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, raw string) {
		info, err := ParseExecInfo(raw)
		if err != nil {
			var ue *UnsupportedAPIVersionError
			var ce *ClusterExtensionError
			if !errors.As(err, &ue) && !errors.As(err, &ce) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if info.APIVersion != APIVersionV1 && info.APIVersion != APIVersionV1Beta1 {
			t.Fatalf("apiVersion %q", info.APIVersion)
		}
		if !info.Given && info.Interactive {
			t.Fatal("interactive without a valid request")
		}
		if info.Given && !json.Valid([]byte(raw)) {
			t.Fatal("Given for invalid JSON")
		}
		b, err := FormatExecCredential(info.APIVersion, "tok", time.Unix(1700000000, 0))
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseExecInfo(string(b))
		if err != nil || !back.Given || back.APIVersion != info.APIVersion {
			t.Fatalf("reply %s reads back as %+v, %v", b, back, err)
		}
	})
}
