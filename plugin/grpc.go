package plugin

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lanyardhq/lanyard/plugin/proto"
)

// GRPCClient is the Grant lanyard calls: it forwards to the plugin process.
// Errors the plugin returned come back as plain errors with the plugin's
// message (a *SettingError for a SettingError); transport failures keep
// their gRPC status (codes.Unavailable when the plugin died,
// codes.DeadlineExceeded when it did not answer in time).
type GRPCClient struct {
	client proto.GrantClient
}

// NewGRPCClient wraps a generated client (tests and non-go-plugin hosts).
func NewGRPCClient(c proto.GrantClient) *GRPCClient { return &GRPCClient{client: c} }

// Describe asks the plugin for its name, version and settings.
func (c *GRPCClient) Describe(ctx context.Context) (*Description, error) {
	resp, err := c.client.Describe(ctx, &proto.DescribeRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	d := &Description{Name: resp.GetName(), Version: resp.GetVersion()}
	for _, s := range resp.GetSettings() {
		d.Settings = append(d.Settings, Setting{Name: s.GetName(), Description: s.GetDescription(), Required: s.GetRequired(), Secret: s.GetSecret()})
	}
	return d, nil
}

// Token asks the plugin for a token.
func (c *GRPCClient) Token(ctx context.Context, settings map[string]string, state string) (*Token, error) {
	resp, err := c.client.Token(ctx, &proto.TokenRequest{Settings: settings, State: state})
	if err != nil {
		return nil, fromStatus(err)
	}
	t := &Token{AccessToken: resp.GetAccessToken(), TokenType: resp.GetTokenType(), State: resp.GetState(), Extra: resp.GetExtra()}
	if u := resp.GetExpiryUnix(); u > 0 {
		t.Expiry = time.Unix(u, 0)
	}
	return t, nil
}

// fromStatus turns the plugin's own errors back into plain ones and leaves
// transport errors as they are, for the host to explain.
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.InvalidArgument:
		return &SettingError{Msg: st.Message()}
	case codes.Unknown, codes.Internal, codes.FailedPrecondition, codes.PermissionDenied, codes.Unauthenticated, codes.NotFound:
		return errors.New(st.Message())
	}
	return err
}

// GRPCServer serves a Grant in the plugin process.
type GRPCServer struct {
	proto.UnimplementedGrantServer
	Impl Grant
}

// Describe forwards to the implementation.
func (s *GRPCServer) Describe(ctx context.Context, _ *proto.DescribeRequest) (*proto.DescribeResponse, error) {
	d, err := s.Impl.Describe(ctx)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	if d == nil {
		return nil, status.Error(codes.Internal, "plugin bug: Describe returned neither a description nor an error")
	}
	resp := &proto.DescribeResponse{Name: d.Name, Version: d.Version}
	for _, st := range d.Settings {
		resp.Settings = append(resp.Settings, &proto.Setting{Name: st.Name, Description: st.Description, Required: st.Required, Secret: st.Secret})
	}
	return resp, nil
}

// Token forwards to the implementation.
func (s *GRPCServer) Token(ctx context.Context, req *proto.TokenRequest) (*proto.TokenResponse, error) {
	settings := req.GetSettings()
	if settings == nil {
		settings = map[string]string{}
	}
	t, err := s.Impl.Token(ctx, settings, req.GetState())
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	if t == nil || t.AccessToken == "" {
		return nil, status.Error(codes.Internal, "plugin bug: Token returned no access token and no error")
	}
	resp := &proto.TokenResponse{AccessToken: t.AccessToken, TokenType: t.TokenType, State: t.State, Extra: t.Extra}
	if !t.Expiry.IsZero() {
		resp.ExpiryUnix = t.Expiry.Unix()
	}
	return resp, nil
}

func toStatus(ctx context.Context, err error) error {
	var se *SettingError
	if errors.As(err, &se) {
		return status.Error(codes.InvalidArgument, se.Error())
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}
