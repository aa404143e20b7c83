package main

import (
	"io"

	"github.com/lanyardhq/lanyard/helpers/docker"
	dockerfull "github.com/lanyardhq/lanyard/helpers/docker/full"
	"github.com/lanyardhq/lanyard/helpers/git"
	"github.com/lanyardhq/lanyard/helpers/goauth"
	"github.com/lanyardhq/lanyard/helpers/kubectl"
	kubectlfull "github.com/lanyardhq/lanyard/helpers/kubectl/full"
	"github.com/lanyardhq/lanyard/helpers/pykeyring"
	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/agent/front"
)

// helperCommands run a helper in-process, with its own arguments, streams
// and exit code, outside the kong CLI: what the thin helpers exec with
// LANYARD_AGENT=off (so the call is one process, as before the agent) and
// for the actions they do not answer themselves (docker store and list,
// kubectl lanyard setup).
var helperCommands = map[string]func(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int{
	git.EngineCommand: func(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
		return git.Main(args, stdin, stdout, stderr, getenv, agent.InProcess(getenv, stderr, front.DebugFromEnv(getenv)))
	},
	goauth.Command: func(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
		return goauth.Main(args, stdin, stdout, stderr, getenv, agent.InProcess(getenv, stderr, front.DebugFromEnv(getenv)))
	},
	pykeyring.Command: func(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
		return pykeyring.Main(args, stdin, stdout, stderr, getenv, agent.InProcess(getenv, stderr, front.DebugFromEnv(getenv)))
	},
	docker.EngineCommand:  dockerfull.Main,
	kubectl.EngineCommand: kubectlfull.Main,
}
