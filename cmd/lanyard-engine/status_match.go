package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/lanyardhq/lanyard/internal/config"
)

// writePrefixes prints which profile serves which match prefix, sorted by
// prefix, so two accounts on one host (https://github.com/ and
// https://work@github.com/) are seen side by side.
func writePrefixes(w io.Writer, cfg *config.File, names []string) error {
	type row struct{ prefix, profile string }
	var rows []row
	for _, n := range names {
		for _, m := range cfg.Profiles[n].Match {
			rows = append(rows, row{m, n})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b row) int {
		return strings.Compare(hostOrder(a.prefix), hostOrder(b.prefix))
	})
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tSERVED BY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r.prefix, r.profile)
	}
	return tw.Flush()
}

// hostOrder sorts a prefix by host first, then without-username before
// with, then by the rest: the accounts of one host stay together.
func hostOrder(prefix string) string {
	scheme, rest, ok := strings.Cut(prefix, "://")
	if !ok {
		rest, scheme = prefix, ""
	}
	user := ""
	authority, _, _ := strings.Cut(rest, "/")
	if u, host, ok := strings.Cut(authority, "@"); ok {
		user, rest = u, host+rest[len(authority):]
	}
	return strings.ToLower(rest) + "\x00" + user + "\x00" + scheme
}
