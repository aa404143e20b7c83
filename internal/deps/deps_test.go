package deps

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/lanyardhq/lanyard"

// pkgInfo is one package of the module as go list reports it.
type pkgInfo struct {
	imports []string // direct, non-test
	deps    []string // transitive, non-test
}

// load lists every package of the module with its imports and deps.
func load(t *testing.T) map[string]pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", module+"/...")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		pkgs[f[0]] = pkgInfo{imports: strings.Fields(f[1]), deps: strings.Fields(f[2])}
	}
	return pkgs
}

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// rule is one line of the block: every package of From must (or, with
// Only, may only) reach To; Direct looks at direct imports only.
type rule struct {
	line   int
	text   string
	from   []string
	to     []string
	only   bool
	direct bool
}

// parseRules reads the ```deps block of docs/internals.md:
//
//	NAME = PATTERN ... [- PATTERN ...]   a set (patterns: a/b, a/b/..., std, another NAME)
//	A !-> B                              nothing in A depends on B, even indirectly
//	A !> B                               nothing in A imports B directly
//	A only-> B                           everything A depends on is in B
func parseRules(t *testing.T, pkgs map[string]pkgInfo) []rule {
	t.Helper()
	f, err := os.Open(filepath.Join(root(t), "docs", "internals.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sets := map[string][]string{}
	var rules []rule
	in := false
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```deps":
			in = true
			continue
		case in && line == "```":
			in = false
			continue
		case !in || line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		if name, def, ok := strings.Cut(line, " = "); ok {
			sets[strings.TrimSpace(name)] = expand(t, n, strings.Fields(def), sets, pkgs)
			continue
		}
		r := rule{line: n, text: line}
		var lhs, rhs string
		switch {
		case strings.Contains(line, " !-> "):
			lhs, rhs, _ = strings.Cut(line, " !-> ")
		case strings.Contains(line, " !> "):
			lhs, rhs, _ = strings.Cut(line, " !> ")
			r.direct = true
		case strings.Contains(line, " only-> "):
			lhs, rhs, _ = strings.Cut(line, " only-> ")
			r.only = true
		default:
			t.Fatalf("docs/internals.md:%d: %q is neither a set nor a rule", n, line)
		}
		r.from = expand(t, n, strings.Fields(lhs), sets, pkgs)
		r.to = strings.Fields(rhs)
		for i, p := range r.to {
			if d, ok := sets[p]; ok && len(d) == 1 {
				r.to[i] = d[0]
			}
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		t.Fatal("docs/internals.md has no ```deps block with rules")
	}
	return rules
}

// expand turns patterns into module packages (a set's own names allowed;
// "-" subtracts what follows).
func expand(t *testing.T, line int, fields []string, sets map[string][]string, pkgs map[string]pkgInfo) []string {
	t.Helper()
	in := map[string]bool{}
	minus := false
	for _, f := range fields {
		if f == "-" {
			minus = true
			continue
		}
		var got []string
		if s, ok := sets[f]; ok {
			got = s
		} else {
			for p := range pkgs {
				if matches(f, p) {
					got = append(got, p)
				}
			}
			if len(got) == 0 {
				t.Fatalf("docs/internals.md:%d: %s matches no package of the module", line, f)
			}
		}
		for _, p := range got {
			in[p] = !minus
		}
	}
	var out []string
	for p, ok := range in {
		if ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// matches reports whether import path p matches pattern: "std" is any
// standard-library package, "x/..." is x and below, module paths are
// written without the module prefix.
func matches(pattern, p string) bool {
	if pattern == "std" {
		first, _, _ := strings.Cut(p, "/")
		return !strings.Contains(first, ".")
	}
	if strings.HasPrefix(pattern, "cmd/") || strings.HasPrefix(pattern, "internal/") || strings.HasPrefix(pattern, "helpers/") || strings.HasPrefix(pattern, "plugin") {
		pattern = module + "/" + pattern
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

// TestImportRules checks every rule of docs/internals.md against go list.
func TestImportRules(t *testing.T) {
	pkgs := load(t)
	for _, r := range parseRules(t, pkgs) {
		for _, from := range r.from {
			deps := pkgs[from].deps
			if r.direct {
				deps = pkgs[from].imports
			}
			for _, d := range deps {
				hit := false
				for _, to := range r.to {
					if matches(to, d) {
						hit = true
						break
					}
				}
				if r.only && !hit {
					t.Errorf("docs/internals.md:%d %q: %s depends on %s, which the rule does not allow", r.line, r.text, from, d)
				}
				if !r.only && hit {
					t.Errorf("docs/internals.md:%d %q: %s depends on %s", r.line, r.text, from, d)
				}
			}
		}
	}
}
