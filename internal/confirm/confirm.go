// Package confirm asks a person before a token goes to a new caller
// (lanyard agent forward --confirm, lanyard proxy --confirm): it runs the
// program LANYARD_CONFIRM_PROGRAM names, else ssh-askpass, with a one-line
// description as its argument. Exit status 0 allows; any other status, a
// program that cannot run, or no answer within the deadline refuses (a
// program that hangs is killed, with its process group).
package confirm

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"
)

// Timeout is how long a person has to answer.
const Timeout = 60 * time.Second

// ErrRefused is a refusal: the person said no, or could not be asked.
var ErrRefused = errors.New("refused")

// Program is the confirm program: configured (LANYARD_CONFIRM_PROGRAM,
// env.Env.ConfirmProgram), else ssh-askpass from PATH ("" when neither).
func Program(configured string) string {
	if configured != "" {
		return configured
	}
	if p, err := exec.LookPath("ssh-askpass"); err == nil {
		return p
	}
	return ""
}

// Asker asks once per key (a profile and a caller): an allowed key is not
// asked again; a refusal is not remembered, so the next request asks again.
type Asker struct {
	Program string
	// Timeout bounds one question (default Timeout).
	Timeout time.Duration

	mu      sync.Mutex
	allowed map[string]bool
	flights map[string]chan struct{}
}

// Ask returns nil when key is allowed (now or before), else an error
// wrapping ErrRefused that says why. Callers with the same key wait for
// one question.
func (a *Asker) Ask(ctx context.Context, key, description string) error {
	for {
		a.mu.Lock()
		if a.allowed[key] {
			a.mu.Unlock()
			return nil
		}
		if ch, ok := a.flights[key]; ok {
			a.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if a.flights == nil {
			a.flights, a.allowed = map[string]chan struct{}{}, map[string]bool{}
		}
		ch := make(chan struct{})
		a.flights[key] = ch
		a.mu.Unlock()
		err := a.run(ctx, description)
		a.mu.Lock()
		if err == nil {
			a.allowed[key] = true
		}
		delete(a.flights, key)
		close(ch)
		a.mu.Unlock()
		return err
	}
}

func (a *Asker) run(ctx context.Context, description string) error {
	if a.Program == "" {
		return fmt.Errorf("%w: --confirm needs LANYARD_CONFIRM_PROGRAM or ssh-askpass, and neither is there", ErrRefused)
	}
	limit := a.Timeout
	if limit <= 0 {
		limit = Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.Program, description)
	setpgid(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%w: %s gave no answer within %s", ErrRefused, a.Program, limit)
	case err != nil:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%w by %s (exit status %d)", ErrRefused, a.Program, exit.ExitCode())
		}
		return fmt.Errorf("%w: could not run %s: %v", ErrRefused, a.Program, err)
	}
	return nil
}
