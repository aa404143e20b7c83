package grant_test

import (
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// TestSourceGitHubActionsFiltersMessage: the Actions token service's error
// text reaches the terminal without the control characters it holds.
func TestSourceGitHubActionsFiltersMessage(t *testing.T) {
	f, err := testprovider.StartFault()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetScript([]testprovider.FaultStep{{Status: 403, Body: `{"message":"denied\u001b]0;pwned\u0007\u001b[2J\u202e"}`}})
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": f.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "rt"}
	src := &grant.Source{Key: "client_assertion", Ref: "github-actions:aud", JWT: true, Getenv: func(k string) string { return env[k] }}
	_, err = src.Token(t.Context())
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("got %v, want HTTP 403 and the message", err)
	}
	if strings.ContainsAny(err.Error(), "\x1b\x07\u202e") {
		t.Errorf("error %q carries the service's control characters", err)
	}
}
