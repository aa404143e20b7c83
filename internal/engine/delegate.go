package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/front"
	"github.com/lanyardhq/lanyard/internal/config"
)

// exitLoginRequired is lanyard-engine's exit code for "run lanyard login".
const exitLoginRequired = 3

// delegateShared runs the slow path of a shared profile in lanyard-engine
// (lanyard token PROFILE --format json), for binaries that link the engine
// but not the team tier's Redis client: the helpers. lanyard-engine takes
// the local lock and talks to Redis; this process only reads its answer.
func (e *Engine) delegateShared(ctx context.Context, p *config.Profile, opt Options) (*Token, error) {
	path, err := front.EnginePath()
	if err != nil {
		return nil, err
	}
	args := []string{"token", p.Name, "--format", "json"}
	if opt.MinTTL > 0 {
		args = append(args, "--min-ttl", opt.MinTTL.String())
	}
	if opt.ForceRefresh {
		args = append(args, "--force-refresh")
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, &stdout, &stderr
	cmd.Env = os.Environ()
	err = cmd.Run()
	if log := strings.TrimSpace(stderr.String()); log != "" {
		e.log().Debug("lanyard-engine said", "profile", p.Name, "stderr", log)
	}
	if err != nil {
		msg := lastLine(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == exitLoginRequired {
			le := LoginRequiredError{Profile: p.Name, Reason: "not logged in"}
			if msg == "" {
				msg = le.Error()
			}
			return nil, &delegatedLoginError{le, msg}
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	var out struct {
		AccessToken string    `json:"access_token"`
		TokenType   string    `json:"token_type"`
		ExpiresAt   time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.AccessToken == "" {
		return nil, fmt.Errorf("profile %q: lanyard-engine token printed no token (%v)", p.Name, err)
	}
	t := &Token{Key: p.CacheKey(), TokenType: out.TokenType, Expiry: out.ExpiresAt, Obtained: e.now()}
	if p.UseIDToken() {
		t.IDToken = out.AccessToken
	} else {
		t.AccessToken = out.AccessToken
	}
	return t, nil
}

// delegatedLoginError is lanyard-engine's "run lanyard login" answer: it
// is a LoginRequiredError (helpers check with IsLoginRequired) that repeats
// lanyard-engine's words.
type delegatedLoginError struct {
	LoginRequiredError
	msg string
}

func (e *delegatedLoginError) Error() string { return e.msg }

func (e *delegatedLoginError) Unwrap() error { return &e.LoginRequiredError }

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimPrefix(strings.TrimSpace(lines[len(lines)-1]), "lanyard: ")
}
