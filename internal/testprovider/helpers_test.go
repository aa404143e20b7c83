package testprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain silences zitadel's request logging unless -v is given.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}

// reply is a decoded HTTP answer.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

// req describes a token request in one of the wire shapes.
type req struct {
	method     string // default POST
	url        string
	form       url.Values        // application/x-www-form-urlencoded
	multipart  url.Values        // multipart/form-data
	json       map[string]string // application/json
	basic      [2]string         // Basic auth when basic[0] != ""
	raw, ctype string            // any other body and Content-Type
}

func do(t *testing.T, r req) reply {
	t.Helper()
	var body io.Reader
	ctype := r.ctype
	if r.raw != "" {
		body = strings.NewReader(r.raw)
	}
	switch {
	case r.form != nil:
		body, ctype = strings.NewReader(r.form.Encode()), formType
	case r.multipart != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, vs := range r.multipart {
			for _, v := range vs {
				_ = mw.WriteField(k, v)
			}
		}
		_ = mw.Close()
		body, ctype = &buf, mw.FormDataContentType()
	case r.json != nil:
		b, _ := json.Marshal(r.json)
		body, ctype = bytes.NewReader(b), jsonType
	}
	if r.method == "" {
		r.method = http.MethodPost
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	hr.Header.Set("Accept", "application/json")
	if r.basic[0] != "" {
		hr.SetBasicAuth(r.basic[0], r.basic[1])
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// wantErr asserts an RFC 6749 §5.2 error.
func wantErr(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("want %d %s, got %d %s", status, code, r.status, r.raw)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("error is not JSON: %q", r.header.Get("Content-Type"))
	}
}

func wantOK(t *testing.T, r reply) {
	t.Helper()
	if r.status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("want 200 with access_token, got %d %s", r.status, r.raw)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stats reads the /_lanyard/stats endpoint of base.
func stats(t *testing.T, base string) Stats {
	t.Helper()
	r := do(t, req{method: http.MethodGet, url: base + StatsPath})
	b, _ := json.Marshal(r.body)
	var s Stats
	if err := json.Unmarshal(b, &s); err != nil || r.status != 200 {
		t.Fatalf("stats: %d %s", r.status, r.raw)
	}
	return s
}

// apiGet calls a protected API path with a bearer token.
func apiGet(t *testing.T, u, token string) int {
	t.Helper()
	hr, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
