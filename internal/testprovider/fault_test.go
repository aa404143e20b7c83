package testprovider

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFault(t *testing.T) {
	f, err := StartFault()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetScript([]FaultStep{
		{Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
		{Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: `{"error":"slow_down"}`},
		{Delay: 300 * time.Millisecond, ExpiresIn: 42},
		{Reset: true},
		{Status: 400, Body: `{"error":"invalid_grant","error_description":"nope"}`},
	})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-1"}}

	r := do(t, req{url: f.TokenURL, form: form})
	if r.status != 502 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.HasPrefix(r.raw, "<html>") {
		t.Fatalf("step 1: %d %s", r.status, r.raw)
	}
	if r = do(t, req{url: f.TokenURL, form: form}); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Fatalf("step 2: %d %v", r.status, r.header)
	}
	start := time.Now()
	if r = do(t, req{url: f.TokenURL, form: form}); r.status != 200 || r.body["expires_in"] != 42.0 || r.str("access_token") != "fault-at-3" || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("step 3: %d %s after %v", r.status, r.raw, time.Since(start))
	}

	// Step 4: the connection dies mid-body.
	resp, err := http.Post(f.TokenURL, formType, strings.NewReader(form.Encode()))
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil {
			t.Fatalf("step 4: read a whole body %q", body)
		}
		if !strings.HasPrefix(string(body), `{"access_token"`) {
			t.Fatalf("step 4: partial body %q", body)
		}
	}

	wantErr(t, do(t, req{url: f.TokenURL, form: form}), 400, "invalid_grant")
	wantOK(t, do(t, req{url: f.URL + "/any/path", form: form})) // script exhausted: normal tokens
	if f.Requests() != 6 || len(f.Bodies()) != 6 || f.Bodies()[0] != form.Encode() {
		t.Fatalf("requests %d bodies %q", f.Requests(), f.Bodies())
	}
	if s := stats(t, f.URL); s.TokenRequests != 6 {
		t.Fatalf("stats %+v", s)
	}

	// A client giving up cuts a delay short.
	f.SetScript([]FaultStep{{Delay: time.Minute}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.TokenURL, strings.NewReader(""))
	if _, err := http.DefaultClient.Do(hr); err == nil {
		t.Fatal("want timeout")
	}
}
