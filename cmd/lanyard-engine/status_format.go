package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// writeStatusTable prints rows as lanyard status's table, with times
// relative to now. Pure, so its wording is golden-tested.
func writeStatusTable(w io.Writer, now time.Time, rows []ProfileStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tGRANT\tACCESS TOKEN\tREFRESH TOKEN\tLAST REFRESH")
	for _, r := range rows {
		g := r.Grant
		if r.IssuedTokenType != "" {
			g += " (issued " + r.IssuedTokenType + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Profile, g, tokenState(now, r), refreshTokenState(r), lastRefresh(now, r))
	}
	return tw.Flush()
}

// tokenState says when the access token expires and what the next use
// will do about it.
func tokenState(now time.Time, r ProfileStatus) string {
	if r.Error != "" {
		return "error: " + r.Error
	}
	if r.Expiry == nil {
		if r.LoginRequired {
			return "none; run: lanyard login " + r.Profile
		}
		return "none; fetched on first use"
	}
	var s string
	if left := r.Expiry.Sub(now); left > 0 {
		s = "expires in " + relDuration(left)
		if !r.Fresh {
			s += ", " + nextUse(r)
		}
	} else {
		s = "expired " + relAgo(-left) + " ago, " + nextUse(r)
	}
	if r.ExpiryGuessed {
		s += " (server gave no lifetime; assumed 5m)"
	}
	return s
}

// nextUse says what the next lanyard token or helper call does with a
// token past its refresh point.
func nextUse(r ProfileStatus) string {
	switch {
	case r.HasRefreshToken:
		return "will refresh on next use"
	case r.LoginRequired:
		return "run: lanyard login " + r.Profile
	default:
		return "will fetch a new one on next use"
	}
}

func refreshTokenState(r ProfileStatus) string {
	switch {
	case !r.HasRefreshToken:
		return "no"
	case r.RefreshRotates == nil:
		return "yes"
	case *r.RefreshRotates:
		return "yes, rotates"
	default:
		return "yes, does not rotate"
	}
}

func lastRefresh(now time.Time, r ProfileStatus) string {
	switch {
	case r.LastRefresh != nil:
		return relAgo(now.Sub(*r.LastRefresh)) + " ago"
	case r.HasRefreshToken:
		return "not yet"
	default:
		return "-"
	}
}

// relDuration rounds d for people: "40s", "4m10s", "2h5m", "3d4h".
func relDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return trimZero(fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60))
	case d < 24*time.Hour:
		return trimZero(fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60))
	default:
		return trimZero(fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24))
	}
}

// relAgo is relDuration for the past, where seconds do not matter once
// it is minutes ago: "40s", "3m", "2h5m".
func relAgo(d time.Duration) string {
	if d >= time.Minute {
		d = d.Truncate(time.Minute)
	}
	return relDuration(d)
}

// trimZero drops a zero second unit: "3m0s" -> "3m".
func trimZero(s string) string {
	for _, z := range []string{"0s", "0m", "0h"} {
		if strings.HasSuffix(s, z) && len(s) > len(z) && (s[len(s)-len(z)-1] < '0' || s[len(s)-len(z)-1] > '9') {
			return strings.TrimSuffix(s, z)
		}
	}
	return s
}

// writeStatusJSON prints rows for scripts: absolute times (RFC 3339), so the
// answer does not depend on when it is read.
func writeStatusJSON(w io.Writer, rows []ProfileStatus) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
