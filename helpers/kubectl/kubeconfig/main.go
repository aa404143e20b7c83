// Package kubeconfig is the part of kubectl-lanyard that runs inside
// lanyard-engine: setup, which reads the profiles file and edits the
// kubeconfig (YAML).
package kubeconfig

import (
	"io"

	"github.com/lanyardhq/lanyard/helpers/kubectl"
	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/env"
)

// Main is kubectl-lanyard answering everything in-process: get-token
// through the agent's handler, setup here. lanyard-engine runs it for what
// the thin plugin passes on, and tests call it directly.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	r := agent.InProcess(getenv, stderr, env.Env(getenv).Debug())
	return kubectl.Main(args, stdin, stdout, stderr, getenv, r, Setup)
}
