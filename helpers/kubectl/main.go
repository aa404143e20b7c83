// Package kubectl is kubectl-lanyard: a client-go exec credential plugin
// (get-token, run by kubectl from the kubeconfig users[].user.exec entry)
// and a kubectl plugin (kubectl lanyard setup) that writes that entry.
//
// get-token only translates: KUBERNETES_EXEC_INFO in, one request to the
// agent, an ExecCredential out. setup runs in lanyard-engine
// (helpers/kubectl/kubeconfig). It does not import client-go.
package kubectl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/redact"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// Version is printed by kubectl-lanyard version; main sets it from -ldflags.
var Version = "dev"

// Exit codes, as the lanyard CLI's (README, "Exit codes").
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2
	exitLoginRequired = 3
)

const usageText = `Usage:
  kubectl-lanyard get-token [--profile P] [--use id_token|access_token] [--debug]
      Print a client.authentication.k8s.io ExecCredential for profile P, or
      for the cluster's profile with provideClusterInfo: true (kubectl runs
      this from the kubeconfig exec entry).
  kubectl lanyard setup (--profile P | --cluster-aware) [--kubeconfig F] [--user NAME]
      [--context C] [--api-version v1|v1beta1] [--use id_token|access_token]
      [--interactive-mode Never|IfAvailable|Always] [--command PATH]
      Write the kubeconfig user entry that runs get-token (idempotent).
  kubectl-lanyard version
`

// Local runs setup, which needs the profiles file and writes the
// kubeconfig: helpers/kubectl/kubeconfig, inside lanyard-engine.
type Local func(args []string, stdout, stderr io.Writer, getenv func(string) string) error

// EngineCommand is the lanyard-engine command that runs kubectl-lanyard's
// setup, which needs the profiles file (helpers/kubectl/kubeconfig).
const EngineCommand = "kubectl-plugin"

// Main runs kubectl-lanyard with args (without the program name) and
// returns the exit code. stdout carries only the ExecCredential. r answers
// get-token (nil: the agent); local runs setup (nil: exec lanyard-engine).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver, local Local) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	// No signal handling: this process holds nothing to clean up (a refresh
	// runs in the agent and survives us), and installing handlers costs a
	// measurable share of a cache hit.
	ctx := context.Background()
	var err error
	switch args[0] {
	case "get-token":
		err = getToken(ctx, args[1:], stdin, stdout, stderr, getenv, r)
	case "setup":
		if local == nil {
			err = client.ExecEngine(append([]string{EngineCommand}, args...))
			break
		}
		err = local(args[1:], stdout, stderr, getenv)
	case "version", "--version":
		fmt.Fprintf(stdout, "kubectl-lanyard %s\n", Version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
	default:
		fmt.Fprintf(stderr, "lanyard: unknown command %q\n%s", args[0], usageText)
		return exitUsage
	}
	return report(stderr, err)
}

// UsageError is a bad command line (exit 2); flag has already printed the
// details.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage marks err as a bad command line.
func Usage(err error) error { return &UsageError{Err: err} }

// answerError is the agent's refusal, with the exit code its status means.
type answerError struct {
	status, msg string
}

func (e *answerError) Error() string { return e.msg }

// report prints err once as "lanyard: ..." and picks the exit code.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "lanyard: %v\n", err)
	var ue *UsageError
	var ae *answerError
	switch {
	case errors.As(err, &ae) && ae.status == wire.StatusLoginRequired:
		return exitLoginRequired
	case errors.As(err, &ae) && ae.status == wire.StatusBadConfig, errors.As(err, &ue):
		return exitUsage
	}
	return exitError
}

// ParseFlags parses args with fs; positional arguments are refused.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return Usage(err)
	}
	if fs.NArg() > 0 {
		return Usage(fmt.Errorf("%s: unexpected argument %q; the profile goes in --profile", fs.Name(), fs.Arg(0)))
	}
	return nil
}

// CheckUse refuses a --use value other than access_token or id_token.
func CheckUse(use string) error {
	switch use {
	case "", "access_token", "id_token":
		return nil
	}
	return Usage(fmt.Errorf("--use %q is not valid; use access_token or id_token", use))
}

// getToken answers client-go's exec credential request.
func getToken(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver) error {
	started := time.Now()
	fs := flag.NewFlagSet("get-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "lanyard profile to get the token from (default: picked by cluster, with provideClusterInfo: true)")
	use := fs.String("use", "", "token to hand out: access_token or id_token (default: the profile's use key)")
	debug := fs.Bool("debug", env.Env(getenv).Debug(), "log to stderr what happens (tokens redacted)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if err := CheckUse(*use); err != nil {
		return err
	}
	info, err := ParseExecInfo(getenv("KUBERNETES_EXEC_INFO"))
	if err != nil {
		return Usage(err)
	}
	if *profile == "" && info.Server == "" {
		return Usage(errors.New("get-token needs --profile, or provideClusterInfo: true in the kubeconfig exec entry to pick the profile by cluster (kubectl lanyard setup --cluster-aware writes it)"))
	}
	log := slog.New(slog.DiscardHandler)
	if *debug {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	refused := env.Env(getenv).NonInteractive()
	interactive := info.Interactive && !refused
	if !info.Given {
		interactive = tty.Caller{Stdin: stdin, Stderr: stderr, Refused: refused}.CanPrompt()
		log.Debug(info.Problem+"; assuming "+APIVersionV1, "interactive", interactive)
	} else {
		log.Debug("exec credential request", "apiVersion", info.APIVersion, "interactive", interactive)
	}
	if r == nil {
		r = client.New(getenv, stderr, *debug)
	}
	req := wire.Request{Op: wire.OpGet, Tool: wire.ToolKubectl, Profile: *profile, URL: info.Server, ClusterProfile: info.ClusterProfile, Use: *use, Interactive: interactive}
	ask := func(rejected string) (*wire.Response, error) {
		q := req
		q.Rejected = rejected
		resp, err := r.Resolve(ctx, &q)
		if err != nil {
			return nil, err
		}
		if resp.Status != wire.StatusOK {
			return nil, &answerError{status: resp.Status, msg: resp.Message}
		}
		return resp, nil
	}
	resp, err := ask("")
	if err != nil {
		return err
	}
	if info.Given {
		if resp, err = rerun(resp, *use, ask, getenv, started, log); err != nil {
			return err
		}
	}
	out, err := FormatExecCredential(info.APIVersion, resp.Token, resp.Expiry)
	if err != nil {
		return fmt.Errorf("profile %q: %w", resp.Profile, err)
	}
	log.Debug("exec credential", "profile", resp.Profile, "use", *use, "token", redact.Secret(resp.Token), "expiry", resp.Expiry.UTC())
	_, err = stdout.Write(out)
	return err
}

// JoinArgs quotes args for a message a person may copy into a shell.
func JoinArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`&|;<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// rerun handles a repeat request from the client-go process that already
// holds the token in resp (see rerun.go): that token was rejected with 401,
// so the agent drops it (only that one: another process may have replaced
// it already) and hands out a fresh one. It records what was handed out
// either way.
func rerun(resp *wire.Response, use string, ask func(rejected string) (*wire.Response, error), getenv func(string) string, started time.Time, log *slog.Logger) (*wire.Response, error) {
	marks := newParentMarks(env.Env(getenv).StateDir(), resp.Profile+"\x00"+use, os.Getppid())
	prev := marks.read()
	v := resp.Token
	if prev.fp != "" && prev.fp != fingerprint(v) && prev.forced.After(started) {
		// A sibling replaced the token this process was about to hand out,
		// because the server rejected it: hand out the replacement.
		t, err := ask("")
		if err != nil {
			return nil, err
		}
		resp, v = t, t.Token
	}
	forced := prev.forced
	switch again, refresh := prev.isRerun(fingerprint(v), started, time.Now()); {
	case again && refresh:
		log.Debug("the client asked again for the token it holds: the API server rejected it; refreshing", "profile", resp.Profile, "token", redact.Secret(v))
		t, err := ask(wire.Fingerprint(v))
		if err != nil {
			return nil, err
		}
		resp, forced = t, time.Now()
	case again:
		log.Debug("the client asked again for the token it holds, but this client had a token refreshed less than "+rerunRefreshEvery.String()+" ago; not refreshing again", "profile", resp.Profile)
	}
	if err := marks.write(mark{fp: fingerprint(resp.Token), written: time.Now(), forced: forced}); err != nil {
		log.Debug("could not record the token handed out; a 401 will not trigger a refresh", "err", err)
	}
	return resp, nil
}
