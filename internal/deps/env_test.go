package deps

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// ownVar is a variable internal/env owns.
var ownVar = regexp.MustCompile(`^(LANYARD|XDG)_[A-Z_]+$`)

// envReadExempt are the directories whose code may read lanyard's
// variables itself: internal/env, and test infrastructure that sets up
// the environment a test binary runs in.
var envReadExempt = []string{"internal/env", "internal/testbin", "internal/testprovider", "internal/testredis", "internal/bench", "internal/keyringenv", "cmd/lanyard-bench", "cmd/lanyard-demo-provider", "internal/engine/testdata"}

// TestEnvReadInOnePlace: no code outside internal/env calls a getenv
// function (os.Getenv, os.LookupEnv, a getenv parameter) with a LANYARD_*
// or XDG_* name.
func TestEnvReadInOnePlace(t *testing.T) {
	dir := root(t)
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			for _, ex := range envReadExempt {
				if rel == ex {
					return filepath.SkipDir
				}
			}
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 || !readsEnv(call.Fun) {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if name, _ := strconv.Unquote(lit.Value); ownVar.MatchString(name) {
				t.Errorf("%s: reads %s; add a method to internal/env (the one package that reads lanyard's variables) and call it", fset.Position(call.Pos()), name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readsEnv reports whether fun looks like an environment read:
// os.Getenv, os.LookupEnv, or a getenv/Getenv function value.
func readsEnv(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.Ident:
		return strings.EqualFold(f.Name, "getenv")
	case *ast.SelectorExpr:
		return f.Sel.Name == "Getenv" || f.Sel.Name == "LookupEnv" || f.Sel.Name == "getenv"
	}
	return false
}
