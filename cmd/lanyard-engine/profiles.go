package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/lanyardhq/lanyard/internal/config"
)

// ProfilesCmd lists profiles.
type ProfilesCmd struct{}

// Run prints name, grant and match prefixes of every profile.
func (c *ProfilesCmd) Run(env *Env, cfg *config.File) error {
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PROFILE\tGRANT\tMATCH")
	for _, n := range cfg.Names() {
		p := cfg.Profiles[n]
		fmt.Fprintf(w, "%s\t%s\t%s\n", n, p.Grant, strings.Join(p.Match, " "))
	}
	return w.Flush()
}
