package docker

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/redact"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// Version is what the version verb prints; cmd/docker-credential-lanyard
// sets it from its -X main.version link flag.
var Version = "dev"

// Local answers store and list, which need the profiles file and the
// engine in the caller's process: helpers/docker/dockerconfig, inside
// lanyard-engine.
type Local func(ctx context.Context, action string, stdin io.Reader, stderr io.Writer, getenv func(string) string) ([]byte, error)

// EngineCommand is the lanyard-engine command that answers store and
// list, which need the profiles file and the engine
// (helpers/docker/dockerconfig).
const EngineCommand = "docker-credential"

// Main runs one helper call and returns the exit code: 0, or 1 with the
// error printed on stdout, as docker-credential-helpers' Serve does.
// args are the arguments after the program name; getenv is os.Getenv or a
// test's environment. r answers get and erase (nil: the agent); local
// answers store and list (nil: exec lanyard-engine, which answers them).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver, local Local) int {
	if len(args) != 1 {
		fmt.Fprintln(stdout, Usage())
		return 1
	}
	switch args[0] {
	case "--version", "-v", ActionVersion:
		_, _ = stdout.Write(FormatVersion(Version))
		return 0
	case "--help", "-h":
		fmt.Fprintln(stdout, Usage())
		return 0
	}
	// No signal handling: this process holds nothing to clean up (a refresh
	// runs in the agent and survives us), and installing handlers costs a
	// measurable share of a cache hit.
	ctx := context.Background()
	debug := env.Env(getenv).Debug()
	var out []byte
	var err error
	switch action := args[0]; action {
	case ActionGet, ActionErase:
		if r == nil {
			r = client.New(getenv, stderr, debug)
		}
		out, err = ask(ctx, r, action, stdin, stderr, debug, MayPrompt(stderr, getenv))
	case ActionStore, ActionList:
		if local == nil {
			err = client.ExecEngine(append([]string{EngineCommand}, args...))
			break
		}
		out, err = local(ctx, action, stdin, stderr, getenv)
	default:
		err = unknownActionError(action)
	}
	if err != nil {
		// Protocol rule: errors go to stdout, where the client reads them.
		fmt.Fprintln(stdout, err)
		return 1
	}
	_, _ = stdout.Write(out)
	return 0
}

// ask answers get and erase through r.
func ask(ctx context.Context, r wire.Resolver, action string, stdin io.Reader, stderr io.Writer, debug, interactive bool) ([]byte, error) {
	in, err := ReadInput(stdin)
	if err != nil {
		return nil, err
	}
	server, err := ParseServerURL(in)
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if debug {
			fmt.Fprintf(stderr, Name+": "+format+"\n", args...)
		}
	}
	urls := ServerURLs(server)
	if len(urls) == 0 {
		logf("%s: not a registry address", server)
		return nil, ErrCredentialsNotFound
	}
	req := &wire.Request{Op: action, Tool: wire.ToolDocker, URL: server, Candidates: urls, Interactive: interactive}
	resp, err := r.Resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	switch resp.Status {
	case wire.StatusOK:
	case wire.StatusNoMatch:
		logf("%s: no profile matches (tried %v)", server, urls)
		return nil, ErrCredentialsNotFound
	default:
		return nil, errors.New(resp.Message)
	}
	if action == ActionErase {
		logf("erase %s: dropped the cached access token of profile %q (to log out: lanyard logout %s)", server, resp.Profile, resp.Profile)
		return nil, nil
	}
	user := resp.DockerUsername
	if user == "" {
		user = DefaultUsername
	}
	logf("get %s: profile %q matches; token %s valid until %s", server, resp.Profile, redact.Secret(resp.Token), resp.Expiry.Format("15:04:05"))
	return FormatCredentials(Credentials{ServerURL: server, Username: user, Secret: resp.Token}), nil
}

// ReadInput reads a request from stdin, at most MaxInput bytes.
func ReadInput(stdin io.Reader) ([]byte, error) {
	in, err := io.ReadAll(io.LimitReader(stdin, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("could not read the request on stdin: %w", err)
	}
	if len(in) > MaxInput {
		return nil, fmt.Errorf("the request on stdin is larger than %d bytes; send a server URL or one credentials JSON object", MaxInput)
	}
	return in, nil
}

// MayPrompt reports whether a login may open a browser or ask: the client
// owns stdin (the request) and stdout (the answer); a person, if any, sees
// stderr, so only when it is a terminal, and LANYARD_NONINTERACTIVE is not
// set.
func MayPrompt(stderr io.Writer, getenv func(string) string) bool {
	return tty.Caller{Stderr: stderr, Refused: env.Env(getenv).NonInteractive()}.CanPrompt()
}
