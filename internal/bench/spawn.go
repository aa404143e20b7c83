package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Spec is one way of starting a process: what `make bench` times.
type Spec struct {
	Name  string   // row label, e.g. "git-credential-lanyard get"
	Path  string   // executable
	Args  []string // arguments after the executable
	Stdin string   // written to a pipe, as the tool would
	Env   []string // complete environment
	// Want, when set, must appear in stdout: proves the run answered with a
	// token rather than failing fast.
	Want string
	// Before runs before each start, untimed.
	Before func() error
}

// Run is the outcome of starting a Spec once.
type Run struct {
	Name   string // the Spec's
	Wall   time.Duration
	Stdout string
	Stderr string
	Err    error
}

// Start runs s once and waits for it. Wall time runs from just before
// fork/exec to the end of wait, the same for every binary.
func Start(ctx context.Context, s Spec) Run {
	if s.Before != nil {
		if err := s.Before(); err != nil {
			return Run{Err: fmt.Errorf("%s: preparing: %w", s.Name, err)}
		}
	}
	cmd := exec.CommandContext(ctx, s.Path, s.Args...)
	cmd.Env = s.Env
	cmd.Stdin = strings.NewReader(s.Stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Run{Name: s.Name, Wall: time.Since(start), Stdout: out.String(), Stderr: errb.String()}
	switch {
	case err != nil:
		r.Err = fmt.Errorf("%s: %w: %s", s.Name, err, firstLine(r.Stderr))
	case s.Want != "" && !strings.Contains(r.Stdout, s.Want):
		r.Err = fmt.Errorf("%s: stdout %q does not contain %q; stderr: %s", s.Name, firstLine(r.Stdout), s.Want, firstLine(r.Stderr))
	}
	return r
}

// TimeRSS runs s under /usr/bin/time -f %M and returns the peak resident
// set size it reports, in KiB. GNU time forks a small C process; wait4's
// rusage of a child of this Go program would not do: Go starts children
// with vfork semantics and Linux keeps the parent's RSS high-water mark
// across the exec, so every binary would look as big as the bench.
func TimeRSS(ctx context.Context, timeBin string, s Spec) (int64, error) {
	w := s
	w.Path = timeBin
	w.Args = append([]string{"-f", "lanyard-bench-maxrss=%M", s.Path}, s.Args...)
	r := Start(ctx, w)
	if r.Err != nil {
		return 0, r.Err
	}
	i := strings.LastIndex(r.Stderr, "lanyard-bench-maxrss=")
	if i < 0 {
		return 0, fmt.Errorf("%s: /usr/bin/time printed no %%M: %s", s.Name, firstLine(r.Stderr))
	}
	var kb int64
	if _, err := fmt.Sscanf(r.Stderr[i:], "lanyard-bench-maxrss=%d", &kb); err != nil {
		return 0, fmt.Errorf("%s: reading /usr/bin/time output: %w", s.Name, err)
	}
	return kb, nil
}

// Sample is a set of measurements of one Spec.
type Sample struct {
	Walls []time.Duration
}

// Min is the fastest run: the least disturbed by other load.
func (s Sample) Min() time.Duration {
	if len(s.Walls) == 0 {
		return 0
	}
	return slices.Min(s.Walls)
}

// Median is the typical run.
func (s Sample) Median() time.Duration { return median(s.Walls) }

func median[T int64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	c := slices.Clone(v)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// RoundRobin runs every spec once per round, rounds times, rotating the
// starting spec each round so no binary always runs right after another;
// the first warmup rounds are not recorded. check, when set, runs after
// every run (the bench asserts no token request was made). It stops at the
// first failure.
func RoundRobin(ctx context.Context, specs []Spec, warmup, rounds int, check func(Spec) error) ([]Sample, error) {
	samples := make([]Sample, len(specs))
	for r := 0; r < warmup+rounds; r++ {
		for k := range specs {
			i := (r + k) % len(specs)
			run := Start(ctx, specs[i])
			if run.Err != nil {
				return nil, run.Err
			}
			if check != nil {
				if err := check(specs[i]); err != nil {
					return nil, err
				}
			}
			if r >= warmup {
				samples[i].Walls = append(samples[i].Walls, run.Wall)
			}
		}
	}
	return samples, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
