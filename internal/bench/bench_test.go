package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v): got %v, want %v", tt.in, got, tt.want)
		}
	}
	s := Sample{Walls: []time.Duration{3, 1, 2}}
	if s.Min() != 1 || s.Median() != 2 {
		t.Errorf("got min %v median %v, want 1 and 2", s.Min(), s.Median())
	}
}

func sh(name, script, stdin, want string) Spec {
	return Spec{Name: name, Path: "/bin/sh", Args: []string{"-c", script}, Stdin: stdin, Env: os.Environ(), Want: want}
}

func TestStart(t *testing.T) {
	if r := Start(t.Context(), sh("cat", "cat", "token-123\n", "token-123")); r.Err != nil || r.Wall <= 0 {
		t.Errorf("got %+v", r)
	}
	if r := Start(t.Context(), sh("wrong", "echo nope", "", "token")); r.Err == nil || !strings.Contains(r.Err.Error(), `does not contain "token"`) {
		t.Errorf("a run without the wanted output: got %v", r.Err)
	}
	if r := Start(t.Context(), sh("fails", "echo broken >&2; exit 3", "", "")); r.Err == nil || !strings.Contains(r.Err.Error(), "broken") {
		t.Errorf("a failing run: got %v, want its stderr quoted", r.Err)
	}
	dir := t.TempDir()
	s := sh("before", `test ! -e "$0"`, "", "")
	s.Args = append(s.Args, filepath.Join(dir, "mark"))
	os.WriteFile(filepath.Join(dir, "mark"), nil, 0o600)
	s.Before = func() error { return os.Remove(filepath.Join(dir, "mark")) }
	if r := Start(t.Context(), s); r.Err != nil {
		t.Errorf("Before did not run first: %v", r.Err)
	}
	s.Before = func() error { return errors.New("no") }
	if r := Start(t.Context(), s); r.Err == nil {
		t.Error("a failing Before was ignored")
	}
}

func TestRoundRobinRotates(t *testing.T) {
	log := filepath.Join(t.TempDir(), "order")
	specs := []Spec{sh("a", "echo a >> "+log, "", ""), sh("b", "echo b >> "+log, "", ""), sh("c", "echo c >> "+log, "", "")}
	var checked int
	samples, err := RoundRobin(t.Context(), specs, 1, 2, func(Spec) error { checked++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(log)
	if want := "a\nb\nc\nb\nc\na\nc\na\nb\n"; string(got) != want {
		t.Errorf("order: got %q, want %q", got, want)
	}
	if checked != 9 || len(samples) != 3 || len(samples[0].Walls) != 2 {
		t.Errorf("got %d checks and samples %v; want 9 checks, 2 recorded runs each", checked, samples)
	}
	if _, err := RoundRobin(t.Context(), specs, 0, 1, func(s Spec) error { return errors.New(s.Name + " made a request") }); err == nil {
		t.Error("a failing check did not stop the runs")
	}
}

func TestTogether(t *testing.T) {
	dir := t.TempDir()
	// Each process waits for all four to have started: only concurrent
	// starts finish.
	script := `touch "$0/$$"; for i in $(seq 1 200); do [ $(ls "$0" | wc -l) -ge 4 ] && exit 0; sleep 0.01; done; exit 1`
	specs := make([]Spec, 4)
	for i := range specs {
		specs[i] = sh("wait", script, "", "")
		specs[i].Args = append(specs[i].Args, dir)
	}
	runs, wall := together(context.Background(), specs)
	for _, r := range runs {
		if r.Err != nil {
			t.Fatalf("processes did not run at the same time: %v", r.Err)
		}
	}
	if wall <= 0 {
		t.Error("no wall time")
	}
}

func TestTimeRSS(t *testing.T) {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Skip("/usr/bin/time not installed (apt install time)")
	}
	kb, err := TimeRSS(t.Context(), "/usr/bin/time", sh("true", "true", "", ""))
	if err != nil || kb <= 0 || kb > 64*1024 {
		t.Errorf("got %d KiB, %v", kb, err)
	}
}

func TestTableWrite(t *testing.T) {
	tab := &Table{
		Header: []string{"lanyard bench"},
		Sections: []Section{{Title: "cache hit", Rows: []Row{
			{Figure: "hello-world", Measured: "1.0 / 1.1 ms", Target: "baseline", Result: Ref, Store: "-"},
			{Figure: "lanyard token P", Measured: "1.2 / 1.3 ms, 1.18x [1.20x] hello", Target: "≤ 1.5x hello", Result: Pass, Store: "file"},
			{Figure: "kubectl-lanyard get-token", Measured: NA + " (not built)", Target: "≤ 1.5x hello", Result: NA, Store: "file"},
		}}, {Title: "concurrency", Rows: []Row{{Figure: "64 helpers", Measured: "2 token requests", Target: "1 request", Result: Fail, Store: "file"}}}},
		Notes: []string{"done"},
	}
	var b bytes.Buffer
	tab.Write(&b)
	out := b.String()
	for _, want := range []string{"figure", "lanyard token P", "≤ 1.5x hello", "n/a (not built)", "FAIL", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Columns line up: "result" starts at the same rune offset on every row.
	lines := strings.Split(out, "\n")
	col := -1
	for _, l := range lines {
		if i := strings.Index(l, "result"); i >= 0 && strings.HasPrefix(l, "figure") {
			col = len([]rune(l[:i]))
		}
	}
	for _, l := range lines {
		for _, v := range []string{" PASS ", " FAIL ", " n/a  "} {
			if i := strings.Index(l, v); i >= 0 && len([]rune(l[:i]))+1 != col {
				t.Errorf("misaligned row %q (result at %d, header at %d)", l, len([]rune(l[:i]))+1, col)
			}
		}
	}
	if tab.Failed() != 1 {
		t.Errorf("Failed: got %d, want 1", tab.Failed())
	}
}

// TestMeasureSmoke runs the whole bench at a tiny size (no kubelogin): it
// builds the helpers, and the concurrency figures must meet their targets.
// Latency ratios are not asserted: they are measured, not tested. It takes
// minutes, so make bench runs it (LANYARD_BENCH_SMOKE=1) before the bench
// itself, not make test: the concurrency properties it checks have their
// own tests in internal/agent and internal/engine.
func TestMeasureSmoke(t *testing.T) {
	if testing.Short() || os.Getenv("LANYARD_BENCH_SMOKE") == "" {
		t.Skip("builds every helper and runs the bench: make bench runs it (LANYARD_BENCH_SMOKE=1)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the bench measures Linux processes")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	var log bytes.Buffer
	tab, err := Measure(t.Context(), Options{Root: root, Work: t.TempDir(), Rounds: 2, Warmup: 1, RSSRuns: 1, Concurrent: 8, Waves: 2, WaveSize: 4, Time: "/usr/bin/time"}, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var out bytes.Buffer
	tab.Write(&out)
	t.Log("\n" + out.String())
	for _, s := range tab.Sections {
		for _, r := range s.Rows {
			if strings.HasPrefix(r.Figure, "8 helpers") || strings.Contains(r.Figure, "lanyard token, 2 waves") {
				if r.Result != Pass {
					t.Errorf("%s: %s %s (target %s)", r.Figure, r.Result, r.Measured, r.Target)
				}
			}
		}
	}
}
