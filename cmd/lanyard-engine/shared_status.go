package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/shared"
)

// SharedStatusCmd shows a tier's records.
type SharedStatusCmd struct {
	Name string `arg:"" help:"The tier's name, as in [shared.NAME]."`
}

// Run prints, for every profile with shared = NAME: the record's version,
// expiry, whether it holds a refresh token, the lock holder and the last
// writer. No token is printed.
func (c *SharedStatusCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	st, err := sharedTable(cfg, c.Name)
	if err != nil {
		return err
	}
	tier, err := shared.Open(ctx, st, sharedOptions(eng, env.Getenv, eng.SharedSecrets(st)))
	if err != nil {
		return err
	}
	defer tier.Close()
	if err := tier.Ping(ctx); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s at %s, prefix %q, lock_ttl %s, min_replicas %d\n", st.Table(), st.Addr(), st.Prefix, st.LockTTL, st.MinReplicas)
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "PROFILE\tVERSION\tEXPIRES\tREFRESH TOKEN\tLOCK\tLAST WRITE")
	now := time.Now()
	for _, name := range cfg.Names() {
		p := cfg.Profiles[name]
		if p.Shared != c.Name {
			continue
		}
		lock := "free"
		if h, err := tier.Lock(ctx, name); err != nil {
			return err
		} else if h != nil {
			// Host is empty when the lock value is not lanyard's (Redis text is never shown raw).
			lock = fmt.Sprintf("held by an unrecognised owner (expires in %s)", h.Expires.Round(time.Millisecond))
			if h.Host != "" {
				lock = fmt.Sprintf("%s pid %d (expires in %s)", h.Host, h.PID, h.Expires.Round(time.Millisecond))
			}
		}
		rec, err := tier.Get(ctx, name)
		if err != nil {
			fmt.Fprintf(w, "%s\t-\t%v\t-\t%s\t-\n", name, err, lock)
			continue
		}
		if rec == nil || rec.Token == nil {
			state := "no record (log in, or lanyard shared push " + name + ")"
			if rec != nil {
				state = "logged out"
			}
			fmt.Fprintf(w, "%s\t-\t%s\t-\t%s\t-\n", name, state, lock)
			continue
		}
		exp := engine.Handout(rec.Token, p).Expiry
		expires := fmt.Sprintf("%s (in %s)", exp.Local().Format(time.RFC3339), exp.Sub(now).Round(time.Second))
		if !exp.After(now) {
			expires = fmt.Sprintf("%s (expired)", exp.Local().Format(time.RFC3339))
		}
		if rec.Token.Key != p.CacheKey() {
			expires += ", minted for other profile settings"
		}
		refresh := "no"
		if rec.Token.RefreshToken != "" {
			refresh = "yes"
		}
		by := rec.By
		if by == "" {
			by = "an unrecognised writer"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s by %s\n", name, rec.Version, expires, refresh, lock, rec.At.Local().Format(time.RFC3339), by)
	}
	return w.Flush()
}
