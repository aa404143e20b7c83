package kubeconfig

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/helpers/kubectl"
	"github.com/lanyardhq/lanyard/internal/golden"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

type kubeconfigCase struct {
	name, in    string // in: testdata/kubeconfig/IN.in.yaml (default: name)
	edit        KubeconfigEdit
	wantCreated bool
	wantRemoved []string
	wantContext bool
	wantErr     string // substring; the full text is in NAME.err
}

func defaultEdit() KubeconfigEdit {
	return KubeconfigEdit{User: "lanyard-corp", APIVersion: kubectl.APIVersionV1, Command: "kubectl-lanyard", Args: []string{"get-token", "--profile", "corp"}}
}

func kubeconfigCases() []kubeconfigCase {
	with := func(f func(e *KubeconfigEdit)) KubeconfigEdit {
		e := defaultEdit()
		f(&e)
		return e
	}
	return []kubeconfigCase{
		{name: "kubectl-written", edit: with(func(e *KubeconfigEdit) { e.Context = "ctx" }), wantCreated: true, wantContext: true},
		{name: "kubectl-written-replace-token", in: "kubectl-written", edit: with(func(e *KubeconfigEdit) {
			e.User, e.APIVersion, e.Args = "u1", kubectl.APIVersionV1Beta1, append(e.Args, "--use", "id_token")
		}), wantRemoved: []string{"token"}},
		{name: "cluster-aware", in: "kubectl-written", edit: with(func(e *KubeconfigEdit) {
			e.User, e.Context, e.Args, e.InteractiveMode, e.ProvideClusterInfo = "lanyard", "ctx", []string{"get-token"}, "Never", true
		}), wantCreated: true, wantContext: true},
		{name: "json", edit: with(func(e *KubeconfigEdit) { e.Context = "ctx" }), wantCreated: true, wantContext: true},
		{name: "comments-indent4", edit: defaultEdit(), wantCreated: true},
		{name: "kubelogin-exec", edit: with(func(e *KubeconfigEdit) { e.User, e.Context = "oidc", "prod" })},
		{name: "flow-empty", edit: defaultEdit(), wantCreated: true},
		{name: "user-null", edit: defaultEdit()},
		{name: "no-trailing-newline", edit: defaultEdit(), wantCreated: true},
		{name: "empty", edit: defaultEdit(), wantCreated: true},
		{name: "only-comments", edit: defaultEdit(), wantCreated: true},
		// Values YAML would read as numbers or booleans stay strings.
		{name: "odd-names", in: "empty", edit: with(func(e *KubeconfigEdit) { e.User, e.Args = "123", []string{"get-token", "--profile", "true"} }), wantCreated: true},

		{name: "missing-context", in: "kubectl-written", edit: with(func(e *KubeconfigEdit) { e.Context = "nope" }), wantErr: `has no context "nope" (known: ctx)`},
		{name: "missing-context-empty", in: "empty", edit: with(func(e *KubeconfigEdit) { e.Context = "prod" }), wantErr: "it has no contexts"},
		{name: "docker-config", edit: defaultEdit(), wantErr: `unknown top-level key "auths"`},
		{name: "pod", edit: defaultEdit(), wantErr: `kind is "Pod"`},
		{name: "multidoc", edit: defaultEdit(), wantErr: "more than one YAML document"},
		{name: "list", edit: defaultEdit(), wantErr: "not a mapping"},
		{name: "users-mapping", edit: defaultEdit(), wantErr: "users is not a list"},
		{name: "user-no-name", edit: defaultEdit(), wantErr: "has no name"},
		{name: "duplicate-key", edit: defaultEdit(), wantErr: `"users" appears twice`},
		{name: "bad-yaml", edit: defaultEdit(), wantErr: "not YAML"},
	}
}

func TestEditKubeconfig(t *testing.T) {
	for _, c := range kubeconfigCases() {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in == "" {
				in = c.name
			}
			data, err := os.ReadFile(filepath.Join("testdata", "kubeconfig", in+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := EditKubeconfig("KUBECONFIG", data, c.edit)
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("got no error, want %q", c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("got error %q, want it to contain %q", err, c.wantErr)
				}
				golden.Check(t, filepath.Join("kubeconfig", c.name+".err"), []byte(err.Error()+"\n"))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("kubeconfig", c.name+".out.yaml"), res.Data)
			if !res.Changed {
				t.Error("got Changed false")
			}
			if res.CreatedUser != c.wantCreated || !slices.Equal(res.Removed, c.wantRemoved) || res.ContextChanged != c.wantContext {
				t.Errorf("got created=%v removed=%v context=%v, want %v %v %v", res.CreatedUser, res.Removed, res.ContextChanged, c.wantCreated, c.wantRemoved, c.wantContext)
			}
			again, err := EditKubeconfig("KUBECONFIG", res.Data, c.edit)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed || !bytes.Equal(again.Data, res.Data) {
				t.Errorf("second run changed the file:\n%s", again.Data)
			}
		})
	}
}

// Outside the edited user entry (and the context's user line), a file
// kubectl wrote keeps its exact bytes.
func TestEditKubeconfigKeepsBytes(t *testing.T) {
	data, err := os.ReadFile("testdata/kubeconfig/kubectl-written.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := defaultEdit()
	e.Context = "ctx"
	res, err := EditKubeconfig("KUBECONFIG", data, e)
	if err != nil {
		t.Fatal(err)
	}
	before := strings.Split(string(data), "\n")
	after := strings.Split(string(res.Data), "\n")
	var removed []string
	for _, l := range before {
		if i := slices.Index(after, l); i >= 0 {
			after = slices.Delete(after, i, i+1)
		} else {
			removed = append(removed, l)
		}
	}
	if !slices.Equal(removed, []string{"    user: u1"}) {
		t.Errorf("got lines changed or removed %q, want only the context's user line", removed)
	}
	for _, l := range after {
		if l != "    user: lanyard-corp" && !strings.HasPrefix(l, "- name: lanyard-corp") && !strings.HasPrefix(l, "  ") {
			t.Errorf("unexpected new line %q", l)
		}
	}
}

// Real kubectl reads every file setup writes, and finds the exec entry.
func TestEditKubeconfigKubectlReads(t *testing.T) {
	kubectl := testbin.NeedTool(t, "kubectl")
	for _, c := range kubeconfigCases() {
		if c.wantErr != "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "kubeconfig", c.name+".out.yaml")
			cmd := exec.Command(kubectl, "config", "view", "--kubeconfig", path, "-o",
				`jsonpath={.users[?(@.name=="`+c.edit.User+`")].user.exec.command} {.users[?(@.name=="`+c.edit.User+`")].user.exec.args[*]}`)
			cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl config view: %v\n%s", err, out)
			}
			want := c.edit.Command + " " + strings.Join(c.edit.Args, " ")
			if string(out) != want {
				t.Errorf("got %q, want %q", out, want)
			}
		})
	}
}

// FuzzEditKubeconfig: whatever the file, setup either refuses it or writes
// one that reads back with the entry, and a second run changes nothing.
func FuzzEditKubeconfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/kubeconfig/*.in.yaml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := defaultEdit()
		res, err := EditKubeconfig("F", data, e)
		if err != nil {
			return
		}
		again, err := EditKubeconfig("F", res.Data, e)
		if err != nil {
			t.Fatalf("own output refused: %v\n%s", err, res.Data)
		}
		if again.Changed {
			t.Fatalf("not idempotent:\n%s\n---\n%s", res.Data, again.Data)
		}
	})
}
