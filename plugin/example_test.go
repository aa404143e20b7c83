package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/plugin"
)

// metadata is the README's example plugin: a token from a cloud metadata
// server (GCE's answer shape).
type metadata struct{}

func (metadata) Describe(context.Context) (*plugin.Description, error) {
	return &plugin.Description{Name: "metadata", Version: "1.0.0", Settings: []plugin.Setting{
		{Name: "url", Required: true, Description: "the metadata server's token URL"},
	}}, nil
}

func (metadata) Token(ctx context.Context, settings map[string]string, state string) (*plugin.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, settings["url"], nil)
	if err != nil {
		return nil, &plugin.SettingError{Setting: "url", Msg: err.Error()}
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return nil, fmt.Errorf("%s answered %s", settings["url"], resp.Status)
	}
	plugin.Logger().Debug("token fetched", "expires_in", body.ExpiresIn)
	return &plugin.Token{AccessToken: body.AccessToken, Expiry: time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
}

// ExampleServe is a whole plugin's main.
func ExampleServe() {
	plugin.Serve(metadata{})
}

func TestExamplePlugin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, `{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}`)
	}))
	defer srv.Close()
	g := connect(t, metadata{})
	tok, err := g.Token(t.Context(), map[string]string{"url": srv.URL}, "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "ya29.x" || time.Until(tok.Expiry) < 59*time.Minute {
		t.Errorf("got %+v", tok)
	}
	if _, err := g.Token(t.Context(), map[string]string{"url": srv.URL + "/nope\x7f"}, ""); err == nil {
		t.Error("want an error for a bad url")
	}
}
