package plugin_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lanyardhq/lanyard/plugin"
)

// fakeGrant records what it received and answers from its fields.
type fakeGrant struct {
	gotSettings map[string]string
	gotState    string
	token       *plugin.Token
	err         error
	block       bool
}

func (f *fakeGrant) Describe(context.Context) (*plugin.Description, error) {
	return &plugin.Description{Name: "fake", Version: "1.2.3", Settings: []plugin.Setting{
		{Name: "app_id", Description: "the app", Required: true},
		{Name: "key", Secret: true},
	}}, nil
}

func (f *fakeGrant) Token(ctx context.Context, settings map[string]string, state string) (*plugin.Token, error) {
	f.gotSettings, f.gotState = settings, state
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.token, f.err
}

// connect serves impl over a real gRPC connection, as go-plugin does
// between lanyard and a plugin process, and returns lanyard's side.
func connect(t *testing.T, impl plugin.Grant) plugin.Grant {
	t.Helper()
	client, _ := goplugin.TestPluginGRPCConn(t, false, goplugin.PluginSet{plugin.PluginName: &plugin.GRPCPlugin{Impl: impl}})
	// Close asks the server to shut down, as lanyard does after each use.
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(plugin.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := raw.(plugin.Grant)
	if !ok {
		t.Fatalf("dispensed %T, want plugin.Grant", raw)
	}
	return g
}

func TestDescribe(t *testing.T) {
	g := connect(t, &fakeGrant{})
	d, err := g.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "fake" || d.Version != "1.2.3" || len(d.Settings) != 2 {
		t.Fatalf("got %+v, want fake 1.2.3 with 2 settings", d)
	}
	if s := d.Settings[0]; s.Name != "app_id" || !s.Required || s.Secret || s.Description != "the app" {
		t.Errorf("got setting %+v, want required app_id", s)
	}
	if s := d.Settings[1]; s.Name != "key" || s.Required || !s.Secret {
		t.Errorf("got setting %+v, want secret key", s)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	f := &fakeGrant{token: &plugin.Token{AccessToken: "ghs_abc", TokenType: "token", Expiry: exp, State: "s2", Extra: map[string]string{"scope": "a b"}}}
	g := connect(t, f)
	settings := map[string]string{"app_id": "1", "key": "PEM"}
	tok, err := g.Token(context.Background(), settings, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(f.gotSettings, settings) || f.gotState != "s1" {
		t.Errorf("plugin got settings %v state %q, want %v and s1", f.gotSettings, f.gotState, settings)
	}
	if tok.AccessToken != "ghs_abc" || tok.TokenType != "token" || !tok.Expiry.Equal(exp) || tok.State != "s2" || tok.Extra["scope"] != "a b" {
		t.Errorf("got %+v, want the plugin's token", tok)
	}
}

func TestTokenWithoutExpiry(t *testing.T) {
	g := connect(t, &fakeGrant{token: &plugin.Token{AccessToken: "x"}})
	tok, err := g.Token(context.Background(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Expiry.IsZero() {
		t.Errorf("got expiry %v, want zero (unknown)", tok.Expiry)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name    string
		f       *fakeGrant
		want    string
		setting bool
	}{
		{"plain error", &fakeGrant{err: errors.New("github answered 401: bad credentials")}, "github answered 401: bad credentials", false},
		{"setting error", &fakeGrant{err: &plugin.SettingError{Setting: "app_id", Msg: "must be a number"}}, "setting app_id: must be a number", true},
		{"no token", &fakeGrant{token: &plugin.Token{}}, "plugin bug: Token returned no access token", false},
		{"nil token", &fakeGrant{}, "plugin bug: Token returned no access token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := connect(t, tt.f)
			_, err := g.Token(context.Background(), nil, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "rpc error") {
				t.Errorf("got %q, want the plugin's message without gRPC decoration", err)
			}
			var se *plugin.SettingError
			if errors.As(err, &se) != tt.setting {
				t.Errorf("got SettingError %v, want %v", errors.As(err, &se), tt.setting)
			}
		})
	}
}

func TestTokenDeadlineReachesPlugin(t *testing.T) {
	g := connect(t, &fakeGrant{block: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := g.Token(ctx, nil, "")
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
}
