// Command lanyard-bench is `make bench` (scripts/bench.sh runs it): it
// builds lanyard's helpers, a hello-world Go binary and kubelogin, and
// prints a table of cache-hit latency and peak RSS ratios, and of
// concurrency and refresh-token rotation figures, each with its target.
package main

import (
	"os"

	"github.com/lanyardhq/lanyard/internal/bench"
)

func main() { os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr)) }
