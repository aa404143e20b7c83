package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// KubeloginModule is the kubelogin release lanyard's kubectl plugin is
// compared with. `go install` of it is refused (the proxy's version list
// does not offer it), so it is downloaded with go mod download and built
// from the module cache.
const KubeloginModule = "github.com/int128/kubelogin@v1.36.3"

// buildFlags are the flags of `make build`: what users install.
var buildFlags = []string{"-trimpath", "-ldflags", "-s -w"}

// buildEnv is the environment of `make build`: static binaries on Linux (the
// dynamic loader costs every helper start a few milliseconds).
func buildEnv() []string {
	if runtime.GOOS == "linux" {
		return []string{"CGO_ENABLED=0"}
	}
	return nil
}

// Built is the outcome of building the binaries a bench needs.
type Built struct {
	Dir string
	// Path maps a command name to its binary; names that did not build are
	// absent and have their reason in Missing.
	Path    map[string]string
	Missing map[string]string
}

// goCmd runs the go command in dir with extra environment.
func goCmd(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if ctx.Err() != nil {
			msg = "timed out: " + msg
		}
		return nil, fmt.Errorf("go %s: %s", strings.Join(args, " "), lastLines(msg, 3))
	}
	return out.Bytes(), nil
}

// BuildLanyard builds ./cmd/NAME for each name into b.Dir. All at once
// first (fast); if that fails because one helper is mid-edit, each alone,
// so the others are still measured.
func (b *Built) BuildLanyard(ctx context.Context, root string, names []string) {
	pkgs := make([]string, len(names))
	for i, n := range names {
		pkgs[i] = "./cmd/" + n
	}
	args := append(append([]string{"build"}, buildFlags...), "-o", b.Dir+string(os.PathSeparator))
	if _, err := goCmd(ctx, root, buildEnv(), append(args, pkgs...)...); err == nil {
		for _, n := range names {
			b.Path[n] = filepath.Join(b.Dir, n)
		}
		return
	}
	for i, n := range names {
		if _, err := os.Stat(filepath.Join(root, "cmd", n)); err != nil {
			b.Missing[n] = "not built: ./cmd/" + n + " does not exist"
			continue
		}
		if _, err := goCmd(ctx, root, buildEnv(), append(args, pkgs[i])...); err != nil {
			b.Missing[n] = "not built: " + firstLine(err.Error())
			continue
		}
		b.Path[n] = filepath.Join(b.Dir, n)
	}
}

// BuildHello writes a hello-world program in a temporary module and builds
// it with the same flags: the baseline every helper is compared with.
func (b *Built) BuildHello(ctx context.Context) {
	src, err := os.MkdirTemp("", "lanyard-bench-hello-")
	if err != nil {
		b.Missing["hello"] = err.Error()
		return
	}
	defer os.RemoveAll(src)
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, world\") }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			b.Missing["hello"] = err.Error()
			return
		}
	}
	out := filepath.Join(b.Dir, "hello")
	args := append(append([]string{"build"}, buildFlags...), "-o", out, ".")
	if _, err := goCmd(ctx, src, append(buildEnv(), "GOFLAGS=", "GOWORK=off"), args...); err != nil {
		b.Missing["hello"] = err.Error()
		return
	}
	b.Path["hello"] = out
}

// BuildKubelogin downloads KubeloginModule through the module proxy and
// builds it from its module cache directory (its own dependencies come
// through the proxy too). It never fails the bench: the reason goes to
// Missing["kubelogin"].
func (b *Built) BuildKubelogin(ctx context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "lanyard-bench-kubelogin-")
	if err != nil {
		b.Missing["kubelogin"] = err.Error()
		return
	}
	defer os.RemoveAll(tmp)
	env := append(buildEnv(), "GOFLAGS=-mod=mod", "GOWORK=off")
	raw, err := goCmd(ctx, tmp, env, "mod", "download", "-json", KubeloginModule)
	if err != nil {
		b.Missing["kubelogin"] = "download failed: " + firstLine(err.Error())
		return
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(raw, &mod); err != nil || mod.Dir == "" {
		b.Missing["kubelogin"] = fmt.Sprintf("go mod download gave no directory: %s %v", mod.Error, err)
		return
	}
	out := filepath.Join(b.Dir, "kubelogin")
	args := append(append([]string{"build"}, buildFlags...), "-o", out, ".")
	if _, err := goCmd(ctx, mod.Dir, env, args...); err != nil {
		b.Missing["kubelogin"] = "build failed: " + firstLine(err.Error())
		return
	}
	b.Path["kubelogin"] = out
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
