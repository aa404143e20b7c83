package plugin

import (
	"context"
	"fmt"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/lanyardhq/lanyard/plugin/proto"
)

// Grant is what a plugin implements.
type Grant interface {
	// Describe names the plugin, its version and the settings it reads.
	// lanyard calls it before every Token call, and for lanyard plugins.
	Describe(ctx context.Context) (*Description, error)
	// Token mints a token. settings is the profile's [profiles.NAME.plugin]
	// table with secret references (file:, env:, cmd:, keyring) already
	// resolved by lanyard; state is what the previous successful call
	// returned in Token.State ("" the first time, or after the profile's
	// settings changed). ctx carries lanyard's deadline.
	Token(ctx context.Context, settings map[string]string, state string) (*Token, error)
}

// Description is a plugin's answer to Describe.
type Description struct {
	// Name is the plugin's name, NAME in lanyard-grant-NAME.
	Name string
	// Version is shown by lanyard plugins.
	Version string
	// Settings is the settings schema. When it is not empty, lanyard
	// rejects profiles that miss a required setting, spell a setting it
	// does not list, or write a secret setting in clear.
	Settings []Setting
}

// Setting is one key of a profile's [profiles.NAME.plugin] table.
type Setting struct {
	Name        string
	Description string
	Required    bool
	// Secret settings must be references in the profiles file ("file:PATH",
	// "env:NAME", "cmd:COMMAND" or "keyring"); the plugin receives the
	// resolved value and must never log it.
	Secret bool
}

// Token is a minted token.
type Token struct {
	AccessToken string
	// TokenType is "Bearer" when empty.
	TokenType string
	// Expiry is when AccessToken stops working; zero means unknown, and
	// lanyard then assumes five minutes.
	Expiry time.Time
	// State is stored by lanyard with the token and passed to the next
	// Token call, e.g. to refresh instead of logging in again. The state
	// returned replaces the stored one; return "" to clear it. lanyard
	// keeps it in the keyring, so it may hold secrets.
	State string
	// Extra carries anything else. lanyard reads "id_token" (for profiles
	// with use = "id_token") and "scope" (space separated).
	Extra map[string]string
}

// SettingError reports a setting the plugin cannot use. lanyard shows it
// with the profile's file and line, so the person knows what to edit.
type SettingError struct {
	// Setting is the key, e.g. "installation_id"; may be empty.
	Setting string
	Msg     string
}

func (e *SettingError) Error() string {
	if e.Setting == "" {
		return e.Msg
	}
	return fmt.Sprintf("setting %s: %s", e.Setting, e.Msg)
}

// Handshake is shared by lanyard and its plugins. The cookie only stops a
// person from running a plugin by hand by mistake; it is no security
// feature (AutoMTLS and the optional plugin_sha256 pin are).
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "LANYARD_GRANT_PLUGIN",
	MagicCookieValue: "b7d2f4a9c1e3-grant-v1",
}

// PluginName is the name under which the Grant is dispensed.
const PluginName = "grant"

// PluginMap is the plugin set lanyard uses as a go-plugin client.
var PluginMap = goplugin.PluginSet{PluginName: &GRPCPlugin{}}

// GRPCPlugin connects Grant to go-plugin's gRPC transport. Only gRPC is
// supported; net/rpc is refused.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the plugin's Grant; only set on the plugin side.
	Impl Grant
}

// GRPCServer registers the Grant service (plugin side).
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterGrantServer(s, &GRPCServer{Impl: p.Impl})
	return nil
}

// GRPCClient returns a Grant that calls the plugin (lanyard side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &GRPCClient{client: proto.NewGrantClient(c)}, nil
}

var _ goplugin.GRPCPlugin = (*GRPCPlugin)(nil)
