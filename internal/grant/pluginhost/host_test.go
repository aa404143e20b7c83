package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/plugin"
)

// schemaGrant is a plugin with a settings schema that returns what its
// fields say, for call over go-plugin's in-process gRPC connection.
type schemaGrant struct {
	settings []plugin.Setting
	token    *plugin.Token
	err      error
	got      map[string]string
	gotState string
}

func (g *schemaGrant) Describe(context.Context) (*plugin.Description, error) {
	return &plugin.Description{Name: "schema", Version: "1", Settings: g.settings}, nil
}

func (g *schemaGrant) Token(_ context.Context, s map[string]string, state string) (*plugin.Token, error) {
	g.got, g.gotState = s, state
	return g.token, g.err
}

func dispense(t *testing.T, impl plugin.Grant) plugin.Grant {
	t.Helper()
	client, _ := goplugin.TestPluginGRPCConn(t, false, goplugin.PluginSet{plugin.PluginName: &plugin.GRPCPlugin{Impl: impl}})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(plugin.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(plugin.Grant)
}

func TestCall(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	schema := []plugin.Setting{{Name: "id", Required: true}, {Name: "key", Secret: true}, {Name: "url"}}
	tests := []struct {
		name     string
		schema   []plugin.Setting
		settings map[string]string
		refs     []string
		token    *plugin.Token
		perr     error
		want     *grant.PluginToken
		err      string
		setting  bool
	}{
		{
			name: "token", schema: schema,
			settings: map[string]string{"id": "1", "key": "PEM"}, refs: []string{"key"},
			token: &plugin.Token{AccessToken: "at", TokenType: "bearer", Expiry: exp, State: "s2", Extra: map[string]string{"scope": "a b"}},
			want:  &grant.PluginToken{AccessToken: "at", TokenType: "bearer", Expiry: exp, State: "s2", Extra: map[string]string{"scope": "a b"}},
		},
		{
			name: "no schema: anything goes", settings: map[string]string{"anything": "goes"},
			token: &plugin.Token{AccessToken: "at"}, want: &grant.PluginToken{AccessToken: "at"},
		},
		{
			name: "missing required", schema: schema, settings: map[string]string{"key": "PEM"}, refs: []string{"key"},
			err: "setting id: missing; plugin schema needs it", setting: true,
		},
		{
			name: "secret in clear", schema: schema, settings: map[string]string{"id": "1", "key": "PEM"},
			err: "setting key: is a secret: write a reference, not the secret itself", setting: true,
		},
		{
			name: "unknown setting", schema: schema, settings: map[string]string{"id": "1", "colour": "red"},
			err: "setting colour: plugin schema does not know it; it reads id, key, url", setting: true,
		},
		{
			name: "plugin's setting error", settings: map[string]string{}, perr: &plugin.SettingError{Setting: "id", Msg: "nope"},
			err: `grant plugin "schema": setting id: nope`, setting: true,
		},
		{
			name: "plugin's error", settings: map[string]string{}, perr: errors.New("upstream said no"),
			err: `grant plugin "schema": upstream said no`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			impl := &schemaGrant{settings: tt.schema, token: tt.token, err: tt.perr}
			h := &host{timeout: time.Minute}
			req := grant.HostRequest{Op: "token", Name: "schema", Profile: "p", State: "s1", Settings: tt.settings, Refs: tt.refs}
			got, err := h.call(t.Context(), dispense(t, impl), req)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				if resp := fail(err); resp.SettingError != tt.setting {
					t.Errorf("got setting_error %v, want %v", resp.SettingError, tt.setting)
				}
				if tt.setting && tt.perr == nil && impl.got != nil {
					t.Error("the plugin's Token was called despite a settings error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Expiry.Equal(tt.want.Expiry) {
				t.Errorf("got expiry %v, want %v", got.Expiry, tt.want.Expiry)
			}
			got.Expiry, tt.want.Expiry = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if impl.gotState != "s1" || !reflect.DeepEqual(impl.got, tt.settings) {
				t.Errorf("plugin got settings %v state %q, want %v s1", impl.got, impl.gotState, tt.settings)
			}
		})
	}
}

// TestMainAnswersInJSON: even a failure is an answer on stdout, so lanyard
// can tell a plugin's error from a broken host.
func TestMainAnswersInJSON(t *testing.T) {
	var out, errb bytes.Buffer
	req := `{"op":"token","name":"x","path":"/nonexistent/lanyard-grant-x","timeout_ms":5000}`
	if code := Main(strings.NewReader(req), &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	var resp grant.HostResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		t.Fatalf("stdout %q: %v", out.String(), err)
	}
	if !strings.Contains(resp.Error, `could not start grant plugin "x" at /nonexistent/lanyard-grant-x`) {
		t.Errorf("got %+v", resp)
	}
	out.Reset()
	errb.Reset()
	if code := Main(strings.NewReader("not json"), &out, &errb); code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "reads a JSON request on stdin") {
		t.Errorf("bad request: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}
