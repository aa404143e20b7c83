package main

import (
	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// resolver is how lanyard-engine's own token commands (token, serve) get
// tokens: through the agent, as every tool does (its memory and refresh
// ahead included), and in this process when the agent does not answer.
// With --debug they answer in this process, so that the whole log (the
// grant's, a plugin's) reaches this terminal rather than the agent's
// /dev/null.
func resolver(env *Env) wire.Resolver {
	local := agent.InProcess(env.Getenv, env.Stderr, env.Debug)
	if env.Debug {
		return local
	}
	c := client.New(env.Getenv, env.Stderr, env.Debug)
	c.Local = local
	return c
}
