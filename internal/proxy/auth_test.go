package proxy

import (
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

func TestAuthorization(t *testing.T) {
	tests := []struct {
		name, ua string
		resp     wire.Response
		want     string
	}{
		{"curl gets Bearer", "curl/8.5.0", wire.Response{Token: "T", TokenType: "Bearer"}, "Bearer T"},
		{"lowercase bearer is spelled Bearer", "curl/8.5.0", wire.Response{Token: "T", TokenType: "bearer"}, "Bearer T"},
		{"no type is Bearer", "", wire.Response{Token: "T"}, "Bearer T"},
		{"other types stay", "python-requests/2", wire.Response{Token: "T", TokenType: "DPoP"}, "DPoP T"},
		{"git gets Basic oauth2", "git/2.39.5", wire.Response{Token: "T", GitAuth: "auto"}, "Basic b2F1dGgyOlQ="},
		{"git with git_username", "git/2.39.5", wire.Response{Token: "T", GitUsername: "x-access-token"}, "Basic eC1hY2Nlc3MtdG9rZW46VA=="},
		{"git with git_auth bearer", "git/2.47.0", wire.Response{Token: "T", GitAuth: "bearer"}, "Bearer T"},
		{"docker gets Basic oauth2accesstoken", "docker/27.0 go/go1.22", wire.Response{Token: "T"}, "Basic b2F1dGgyYWNjZXNzdG9rZW46VA=="},
		{"crane", "crane/0.20 go-containerregistry/v0.20", wire.Response{Token: "T", DockerUsername: "u"}, "Basic dTpU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Authorization(tt.ua, &tt.resp); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
