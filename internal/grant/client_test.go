package grant

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// captured is what a token endpoint received.
type captured struct {
	ctype  string
	user   string
	pass   string
	basic  bool
	params map[string]string
}

func capture(t *testing.T, r *http.Request) captured {
	t.Helper()
	c := captured{params: map[string]string{}}
	c.user, c.pass, c.basic = r.BasicAuth()
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	c.ctype = mt
	switch mt {
	case "application/json":
		if err := json.NewDecoder(r.Body).Decode(&c.params); err != nil {
			t.Errorf("json body: %v", err)
		}
	case "multipart/form-data":
		mr := multipart.NewReader(r.Body, mp["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(part)
			c.params[part.FormName()] = string(b)
		}
	default:
		b, _ := io.ReadAll(r.Body)
		v, err := url.ParseQuery(string(b))
		if err != nil {
			t.Errorf("form body: %v", err)
		}
		for k := range v {
			c.params[k] = v.Get(k)
		}
	}
	return c
}

func TestDialects(t *testing.T) {
	tests := []struct {
		name   string
		client Client
		run    func(context.Context, *Client) (*Token, error)
		want   captured
	}{
		{"whenfresh client_credentials basic", Client{ClientID: "abc", ClientSecret: "1 2", ClientAuth: "basic", Dialect: "form"},
			func(ctx context.Context, c *Client) (*Token, error) { return ClientCredentials(ctx, c, nil) },
			captured{ctype: "application/x-www-form-urlencoded", user: "abc", pass: "1+2", basic: true, params: map[string]string{"grant_type": "client_credentials"}}},
		{"whenfresh public refresh", Client{ClientID: "r5e6", ClientAuth: "none", Dialect: "form"},
			func(ctx context.Context, c *Client) (*Token, error) { return Refresh(ctx, c, "rt") },
			captured{ctype: "application/x-www-form-urlencoded", params: map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "r5e6"}}},
		{"shopware password json scopes", Client{ClientID: "administration", ClientAuth: "none", Dialect: "json", ScopeParam: "scopes"},
			func(ctx context.Context, c *Client) (*Token, error) {
				return Password(ctx, c, "admin", "pw", []string{"write"})
			},
			captured{ctype: "application/json", params: map[string]string{"grant_type": "password", "username": "admin", "password": "pw", "scopes": "write", "client_id": "administration"}}},
		{"shopware client_credentials json body", Client{ClientID: "id", ClientSecret: "sec", ClientAuth: "post", Dialect: "json"},
			func(ctx context.Context, c *Client) (*Token, error) { return ClientCredentials(ctx, c, nil) },
			captured{ctype: "application/json", params: map[string]string{"grant_type": "client_credentials", "client_id": "id", "client_secret": "sec"}}},
		{"whisk multipart comma scopes", Client{ClientID: "w", ClientSecret: "s", ClientAuth: "post", Dialect: "multipart", ScopeSeparator: ",", TokenParams: map[string]string{"b": "2", "a": "1"}},
			func(ctx context.Context, c *Client) (*Token, error) {
				return ClientCredentials(ctx, c, []string{"x", "y"})
			},
			captured{ctype: "multipart/form-data", params: map[string]string{"grant_type": "client_credentials", "scope": "x,y", "client_id": "w", "client_secret": "s", "a": "1", "b": "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got captured
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.Header.Get("Accept") != "application/json" {
					t.Errorf("got %s Accept=%q, want POST application/json", r.Method, r.Header.Get("Accept"))
				}
				got = capture(t, r)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"access_token":"at","token_type":"bearer","expires_in":60}`)
			}))
			defer srv.Close()
			c := tt.client
			c.TokenURL = srv.URL
			tok, err := tt.run(t.Context(), &c)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at" {
				t.Errorf("access token: got %q", tok.AccessToken)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("request:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		header    map[string]string
		wantCalls int32
		wantErr   bool
		wantWait  time.Duration
	}{
		{"503 then ok", []int{503, 200}, nil, 2, false, 500 * time.Millisecond},
		{"429 honours Retry-After", []int{429, 200}, map[string]string{"Retry-After": "2"}, 2, false, 2 * time.Second},
		{"always 502", []int{502, 502, 502}, nil, 3, true, 500*time.Millisecond + time.Second},
		{"400 not retried", []int{400}, nil, 1, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := calls.Add(1) - 1
				st := tt.statuses[min(int(i), len(tt.statuses)-1)]
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if st == 200 {
					io.WriteString(w, `{"access_token":"at","expires_in":60}`)
					return
				}
				w.WriteHeader(st)
				if st == 400 {
					io.WriteString(w, `{"error":"invalid_request"}`)
				} else {
					io.WriteString(w, "<html>busy</html>")
				}
			}))
			defer srv.Close()
			var waited time.Duration
			c := &Client{TokenURL: srv.URL, ClientID: "c", ClientAuth: "none", Sleep: func(_ context.Context, d time.Duration) error { waited += d; return nil }}
			_, err := ClientCredentials(t.Context(), c, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if calls.Load() != tt.wantCalls || waited != tt.wantWait {
				t.Errorf("got %d calls, waited %s; want %d, %s", calls.Load(), waited, tt.wantCalls, tt.wantWait)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	var got captured
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = capture(t, r)
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"unsupported_token_type","hint":"refresh_token=rt"}`)
	}))
	defer srv.Close()
	c := &Client{ClientID: "id", ClientSecret: "sec", ClientAuth: "post", Dialect: "form"}
	if err := c.Revoke(t.Context(), srv.URL, "rt", "refresh_token"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"token": "rt", "token_type_hint": "refresh_token", "client_id": "id", "client_secret": "sec"}
	if !reflect.DeepEqual(got.params, want) || got.ctype != "application/x-www-form-urlencoded" {
		t.Errorf("got %+v, want %v as a form", got, want)
	}
	status = http.StatusServiceUnavailable
	err := c.Revoke(t.Context(), srv.URL, "rt", "refresh_token")
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || strings.Contains(err.Error(), "refresh_token=rt") {
		t.Errorf("got %v, want HTTP 503 without the token", err)
	}
}
