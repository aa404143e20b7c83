package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Verdicts of a row.
const (
	Pass = "PASS"
	Fail = "FAIL"
	NA   = "n/a"
	Ref  = "-" // a reference figure, no target
)

// Row is one line of the result table.
type Row struct {
	Figure   string // what was measured
	Measured string // the figures
	Target   string
	Result   string // Pass, Fail, NA or Ref
	Store    string // token store the figure used
}

// Section is a titled group of rows.
type Section struct {
	Title string
	Rows  []Row
}

// Table is what `make bench` prints.
type Table struct {
	Header   []string // lines above the table (machine, date, settings)
	Sections []Section
	Notes    []string // lines below it
}

// Failed counts rows that missed their target.
func (t *Table) Failed() int {
	n := 0
	for _, s := range t.Sections {
		for _, r := range s.Rows {
			if r.Result == Fail {
				n++
			}
		}
	}
	return n
}

// Write renders the table in aligned plain-text columns.
func (t *Table) Write(w io.Writer) {
	cols := []string{"figure", "measured", "target", "result", "token store"}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(c)
	}
	cells := func(r Row) []string { return []string{r.Figure, r.Measured, r.Target, r.Result, r.Store} }
	for _, s := range t.Sections {
		for _, r := range s.Rows {
			for i, c := range cells(r) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	line := func(c []string) {
		var b strings.Builder
		for i, v := range c {
			b.WriteString(v)
			if i < len(c)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(v)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	for _, h := range t.Header {
		fmt.Fprintln(w, h)
	}
	fmt.Fprintln(w)
	line(cols)
	total := 0
	for _, n := range width {
		total += n + 2
	}
	for _, s := range t.Sections {
		fmt.Fprintln(w, strings.Repeat("-", total-2))
		fmt.Fprintln(w, s.Title)
		for _, r := range s.Rows {
			line(cells(r))
		}
	}
	fmt.Fprintln(w, strings.Repeat("-", total-2))
	for _, n := range t.Notes {
		fmt.Fprintln(w, n)
	}
}

// minMed formats a sample's minimum and median.
func minMed(s Sample) string {
	return fmt.Sprintf("%.1f / %.1f ms", float64(s.Min())/float64(time.Millisecond), float64(s.Median())/float64(time.Millisecond))
}

// secs formats a duration in seconds with two decimals.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// mib formats KiB as MiB with one decimal.
func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// ratio is a/b, or 0 when b is 0.
func ratio[T int64 | time.Duration](a, b T) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// verdict is Pass when ok.
func verdict(ok bool) string {
	if ok {
		return Pass
	}
	return Fail
}
