package client

import (
	"os/exec"
	"strings"
	"testing"
)

// thinBinaries answer a cache hit with one round trip to the agent; they
// must not pay, at every start, for code that only the agent runs.
var thinBinaries = []string{
	"github.com/lanyardhq/lanyard/cmd/git-credential-lanyard",
	"github.com/lanyardhq/lanyard/cmd/lanyard",
	"github.com/lanyardhq/lanyard/cmd/docker-credential-lanyard",
	"github.com/lanyardhq/lanyard/cmd/kubectl-lanyard",
	"github.com/lanyardhq/lanyard/cmd/cargo-credential-lanyard",
	"github.com/lanyardhq/lanyard/cmd/terraform-credentials-lanyard",
}

// forbidden are the packages (and prefixes) a thin binary must not link.
var forbidden = []string{
	"net/http",
	"github.com/99designs/keyring",
	"github.com/lanyardhq/lanyard/internal/engine",
	"github.com/lanyardhq/lanyard/internal/grant",
	"github.com/lanyardhq/lanyard/internal/store",
	"github.com/lanyardhq/lanyard/internal/config",
	"github.com/BurntSushi/toml",
	"google.golang.org/grpc",
	"github.com/hashicorp/go-plugin",
	"go.yaml.in/yaml",
	"gopkg.in/yaml",
}

// allowed are leaves under a forbidden prefix that the thin binaries may
// link (standard library only).
var allowed = map[string]bool{
	"github.com/lanyardhq/lanyard/internal/config/location": true,
}

// TestThinBinariesLinkNoEngine guards the split measured by make bench: a
// helper that links net/http, the keyring and the engine starts at about
// 1.6x hello-world before doing anything.
func TestThinBinariesLinkNoEngine(t *testing.T) {
	for _, bin := range thinBinaries {
		out, err := exec.Command("go", "list", "-deps", bin).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if allowed[dep] {
				continue
			}
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s links %s; keep it in lanyard-engine (the agent) and talk to it through internal/agent/client", bin, dep)
				}
			}
		}
	}
}
