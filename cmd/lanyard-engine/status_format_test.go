package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/golden"
)

// statusRows covers every state lanyard status describes, at statusNow.
func statusRows() []ProfileStatus {
	at := func(d time.Duration) *time.Time { t := statusNow.Add(d); return &t }
	yes, no := true, false
	return []ProfileStatus{
		{Profile: "ci", Grant: "client_credentials", Expiry: at(4*time.Minute + 10*time.Second), Fresh: true, Obtained: at(-50 * time.Second)},
		{Profile: "ci-stale", Grant: "client_credentials", Expiry: at(40 * time.Second), Obtained: at(-9 * time.Minute)},
		{Profile: "ci-expired", Grant: "client_credentials", Expiry: at(-3 * time.Minute), Obtained: at(-8 * time.Minute)},
		{Profile: "whiplash", Grant: "authorization_code", Expiry: at(-3*time.Minute - 20*time.Second), HasRefreshToken: true, RefreshRotates: &yes, LastRefresh: at(-2*time.Hour - 3*time.Minute), Obtained: at(-2*time.Hour - 3*time.Minute)},
		{Profile: "whenfresh", Grant: "refresh_token", Expiry: at(59 * time.Minute), Fresh: true, HasRefreshToken: true, RefreshRotates: &no, LastRefresh: at(-time.Minute), Obtained: at(-time.Minute)},
		{Profile: "whisk", Grant: "authorization_code", Expiry: at(26 * time.Hour), Fresh: true, HasRefreshToken: true, Obtained: at(-3 * time.Second)},
		{Profile: "implicit", Grant: "implicit", Expiry: at(-49 * time.Hour), LoginRequired: true},
		{Profile: "guessed", Grant: "client_credentials", Expiry: at(5 * time.Minute), Fresh: true, ExpiryGuessed: true},
		{Profile: "new-device", Grant: "device_code", LoginRequired: true},
		{Profile: "new-ci", Grant: "client_credentials"},
		{Profile: "exchange", Grant: "token_exchange", IssuedTokenType: "urn:ietf:params:oauth:token-type:jwt", Expiry: at(time.Hour), Fresh: true},
		{Profile: "broken", Grant: "password", Error: `stored token for profile "broken" is damaged; run: lanyard logout broken`},
	}
}

var statusNow = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func TestStatusTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := writeStatusTable(&b, statusNow, statusRows()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "status.golden", b.Bytes())
}

func TestStatusJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := writeStatusJSON(&b, statusRows()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "status.json.golden", b.Bytes())
	var back []ProfileStatus
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
}

func TestRelDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {400 * time.Millisecond, "0s"}, {40 * time.Second, "40s"}, {59*time.Second + 600*time.Millisecond, "1m"},
		{3 * time.Minute, "3m"}, {4*time.Minute + 10*time.Second, "4m10s"}, {time.Hour, "1h"},
		{2*time.Hour + 5*time.Minute + 30*time.Second, "2h5m"}, {49 * time.Hour, "2d1h"}, {72 * time.Hour, "3d"},
	} {
		if got := relDuration(tc.d); got != tc.want {
			t.Errorf("relDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
