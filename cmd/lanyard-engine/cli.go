package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	envpkg "github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// Exit codes, documented in docs/token.md ("Exit codes").
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2 // bad command line or profiles file
	exitLoginRequired = 3 // run lanyard login PROFILE
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

// CLI is the command tree.
type CLI struct {
	Debug bool `help:"Log to stderr what lanyard does (tokens and secrets redacted); also LANYARD_DEBUG=1."`

	Init     InitCmd     `cmd:"" help:"Write a first profile, guided: discovery, client, secret (into the keyring), first token."`
	Token    TokenCmd    `cmd:"" help:"Print a fresh token for PROFILE (for curl and scripts)."`
	Login    LoginCmd    `cmd:"" help:"Log in to PROFILE and store its tokens."`
	Logout   LogoutCmd   `cmd:"" help:"Forget PROFILE's tokens (--revoke: revoke them at the server first)."`
	Status   StatusCmd   `cmd:"" help:"Show cached tokens and their expiry (no network)."`
	Profiles ProfilesCmd `cmd:"" help:"List the profiles in the profiles file."`
	Secret   SecretCmd   `cmd:"" help:"Store or remove a client secret in the keyring."`
	Exec     ExecCmd     `cmd:"" help:"Run a command with PROFILE's token in LANYARD_TOKEN."`
	Doctor   DoctorCmd   `cmd:"" help:"Check the profiles file, the keyring and the endpoints."`
	Setup    SetupCmd    `cmd:"" help:"Configure git or docker to use lanyard."`
	Mcp      McpCmd      `cmd:"" help:"Run a stdio MCP server that relays to a remote MCP server with PROFILE's token."`
	Serve    ServeCmd    `cmd:"" help:"Serve tokens on 127.0.0.1 for Postman and other GUI tools."`
	Plugins  PluginsCmd  `cmd:"" help:"List grant plugins found, with version and checksum."`
	Agent    AgentCmd    `cmd:"" help:"The per-user agent that keeps tokens in memory for the helpers (start, stop, status, forward)."`
	Shared   SharedCmd   `cmd:"" help:"Share profiles' tokens with a team or CI fleet through Redis/Valkey."`
	Proxy    ProxyCmd    `cmd:"" help:"An HTTPS proxy for a sandbox that adds profiles' tokens to requests it never sees them in."`
	Log      LogCmd      `cmd:"" help:"Show the audit log: who got which token, refreshes, refusals, forwards."`
	Version  VersionCmd  `cmd:"" help:"Print the version."`

	Completion CompletionCmd `cmd:"" help:"Print the shell completion script for bash, zsh or fish."`
}

// Env is what commands read and write besides their flags.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Debug  bool
}

// caller is who runs this command, for the question "may it ask a
// person?" (LANYARD_NONINTERACTIVE=1 rules it out).
func (e *Env) caller() tty.Caller {
	return tty.Caller{Stdin: e.Stdin, Stderr: e.Stderr, Refused: envpkg.Env(e.Getenv).NonInteractive()}
}

// Main runs the lanyard CLI and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		if run, ok := helperCommands[args[0]]; ok {
			return run(args[1:], stdin, stdout, stderr, getenv)
		}
	}
	if len(args) == 2 && args[0] == "agent" && args[1] == "oneshot" {
		// Every thin helper's answer without an agent: on the hot path of
		// LANYARD_AGENT=off, so it skips building kong's model of the
		// whole CLI (about 2.5 ms a call here).
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Debug: envpkg.Env(getenv).Debug()}
		if err := (&AgentOneshotCmd{}).Run(ctx, env); err != nil {
			return report(stderr, err)
		}
		return exitOK
	}
	var cli CLI
	exit := -1
	parser, err := kong.New(&cli,
		kong.Name("lanyard"),
		kong.Description("OAuth 2.0 / OIDC tokens for git, kubectl, docker, HTTPie, Postman and scripts."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
		kong.Vars{"version": version},
	)
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return exitError
	}
	if completeLine(parser, getenv) {
		return exitOK
	}
	kctx, err := parser.Parse(args)
	if exit >= 0 {
		return exit // --help
	}
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return exitUsage
	}
	cli.Debug = cli.Debug || envpkg.Env(getenv).Debug()
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Debug: cli.Debug}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	kctx.Bind(env)
	// Opened lazily: --help and version never touch the file or keyring.
	kctx.BindSingletonProvider(func() (*config.File, error) {
		return config.Load(config.Path(getenv))
	})
	kctx.BindSingletonProvider(func() (*engine.Engine, error) {
		return engine.New(getenv, stderr, cli.Debug)
	})
	if err := kctx.Run(); err != nil {
		return report(stderr, err)
	}
	return exitOK
}

// report prints err once, as "lanyard: ...", and picks the exit code.
func report(stderr io.Writer, err error) int {
	var exitErr *exitCodeError
	if errors.As(err, &exitErr) {
		if exitErr.Err != nil {
			fmt.Fprintf(stderr, "lanyard: %v\n", exitErr.Err)
		}
		return exitErr.Code
	}
	fmt.Fprintf(stderr, "lanyard: %v\n", err)
	var cfgErr *config.Error
	switch {
	case engine.IsLoginRequired(err):
		return exitLoginRequired
	case errors.As(err, &cfgErr), errors.Is(err, config.ErrNoProfile):
		return exitUsage
	}
	return exitError
}

// exitCodeError carries a specific exit code (exec passes its child's).
type exitCodeError struct {
	Code int
	Err  error
}

func (e *exitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}
