// Package kubectl is kubectl-lanyard: a client-go exec credential plugin
// (get-token, run by kubectl from the kubeconfig users[].user.exec entry)
// and a kubectl plugin (kubectl lanyard setup) that writes that entry.
//
// It only translates: KUBERNETES_EXEC_INFO in, engine.Token, an
// ExecCredential out. It does not import client-go.
package kubectl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"golang.org/x/term"
)

// Version is printed by kubectl-lanyard version; main sets it from -ldflags.
var Version = "dev"

// Exit codes, as the lanyard CLI's (docs/token.md, "Exit codes").
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2
	exitLoginRequired = 3
)

const usageText = `Usage:
  kubectl-lanyard get-token [--profile P] [--use id_token|access_token] [--debug]
      Print a client.authentication.k8s.io ExecCredential for profile P
      (kubectl runs this from the kubeconfig exec entry). Without --profile,
      the profile is picked by cluster (needs provideClusterInfo: true).
  kubectl lanyard setup --profile P | --cluster-aware [--kubeconfig F]
      [--user NAME] [--context C] [--api-version v1|v1beta1]
      [--interactive-mode Never|IfAvailable|Always]
      [--use id_token|access_token] [--command PATH]
      Write the kubeconfig user entry that runs get-token (idempotent).
      --cluster-aware: one entry for all clusters; each cluster names its
      profile in its extension client.authentication.k8s.io/exec
      (profile: NAME), else a profile's match serves its server URL.
  kubectl-lanyard version
`

// Main runs kubectl-lanyard with args (without the program name) and
// returns the exit code. stdout carries only the ExecCredential.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "get-token":
		err = getToken(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "setup":
		err = setup(args[1:], stdout, stderr, getenv)
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

// usageError is a bad command line; flag has already printed the details.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// report prints err once as "lanyard: ..." and picks the exit code.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "lanyard: %v\n", err)
	var ue *usageError
	var ce *config.Error
	switch {
	case engine.IsLoginRequired(err):
		return exitLoginRequired
	case errors.As(err, &ue), errors.As(err, &ce), errors.Is(err, config.ErrNoProfile):
		return exitUsage
	}
	return exitError
}

// parseFlags parses args with fs; positional arguments are refused.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Errorf("%s: unexpected argument %q; the profile goes in --profile", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func checkUse(use string) error {
	switch use {
	case "", "access_token", "id_token":
		return nil
	}
	return &usageError{fmt.Errorf("--use %q is not valid; use access_token or id_token", use)}
}

// getToken answers client-go's exec credential request.
func getToken(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	started := time.Now()
	fs := flag.NewFlagSet("get-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "lanyard profile to get the token from (default: picked by cluster, with provideClusterInfo: true)")
	use := fs.String("use", "", "token to hand out: access_token or id_token (default: the profile's use key)")
	debug := fs.Bool("debug", engine.DebugFromEnv(getenv), "log to stderr what happens (tokens redacted)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkUse(*use); err != nil {
		return err
	}

	info, err := ParseExecInfo(getenv("KUBERNETES_EXEC_INFO"))
	if err != nil {
		return &usageError{err}
	}
	cfg, err := config.Load(config.Path(getenv))
	if err != nil {
		return err
	}
	p, err := SelectProfile(cfg, *profile, info)
	if err != nil {
		return err
	}
	if *use != "" && *use != p.Use {
		cp := *p
		cp.Use = *use
		p = &cp
	}
	eng, err := engine.New(getenv, stderr, *debug)
	if err != nil {
		return err
	}
	eng.Stdin = stdin
	log := eng.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	interactive := info.Interactive
	if !info.Given {
		interactive = isTerminal(stdin) || isTerminal(stderr)
		log.Debug(info.Problem+"; assuming "+APIVersionV1, "interactive", interactive)
	} else {
		log.Debug("exec credential request", "apiVersion", info.APIVersion, "interactive", interactive)
	}
	opts := engine.Options{Interactive: interactive}

	tok, err := eng.Token(ctx, p, opts)
	if err != nil {
		return err
	}
	if info.Given {
		if tok, err = rerun(ctx, eng, p, tok, opts, getenv, started, log); err != nil {
			return err
		}
	}
	out, err := FormatExecCredential(info.APIVersion, engine.Value(tok, p), engine.Expiry(tok, p))
	if err != nil {
		return fmt.Errorf("profile %q: %w", p.Name, err)
	}
	log.Debug("exec credential", "profile", p.Name, "use", p.Use, "token", engine.Redact(engine.Value(tok, p)), "expiry", engine.Expiry(tok, p).UTC())
	_, err = stdout.Write(out)
	return err
}

// isTerminal reports whether s is an *os.File on a terminal.
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// joinArgs quotes args for a message a person may copy into a shell.
func joinArgs(args []string) string {
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
// holds tok (see rerun.go): that token was rejected with 401, so it is
// dropped (only that one: another process may have replaced it already)
// and a fresh one obtained. It records what was handed out either way.
func rerun(ctx context.Context, eng *engine.Engine, p *config.Profile, tok *engine.Token, opts engine.Options, getenv func(string) string, started time.Time, log *slog.Logger) (*engine.Token, error) {
	marks := newParentMarks(engine.PathsFromEnv(getenv).StateDir, p.Name+"\x00"+p.Use, os.Getppid())
	prev := marks.read()
	v := engine.Value(tok, p)
	if prev.fp != "" && prev.fp != fingerprint(v) && prev.forced.After(started) {
		// A sibling replaced the token this process was about to hand out,
		// because the server rejected it: hand out the replacement.
		t, err := eng.Token(ctx, p, opts)
		if err != nil {
			return nil, err
		}
		tok, v = t, engine.Value(t, p)
	}
	forced := prev.forced
	switch again, refresh := prev.isRerun(fingerprint(v), started, time.Now()); {
	case again && refresh:
		log.Debug("the client asked again for the token it holds: the API server rejected it; refreshing", "profile", p.Name, "token", engine.Redact(v))
		if err := eng.Invalidate(ctx, p, v); err != nil {
			return nil, err
		}
		t, err := eng.Token(ctx, p, opts)
		if err != nil {
			return nil, err
		}
		tok, forced = t, time.Now()
	case again:
		log.Debug("the client asked again for the token it holds, but this client had a token refreshed less than "+rerunRefreshEvery.String()+" ago; not refreshing again", "profile", p.Name)
	}
	if err := marks.write(mark{fp: fingerprint(engine.Value(tok, p)), written: time.Now(), forced: forced}); err != nil {
		log.Debug("could not record the token handed out; a 401 will not trigger a refresh", "err", err)
	}
	return tok, nil
}
