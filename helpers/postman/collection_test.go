package postman

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The example collection in testdata is generated from pre-request.js, so
// the script newman runs is always the one users paste into Postman.
const collectionFile = "lanyard.postman_collection.json"

// Postman collection format v2.1, only what the collection uses.
type pmCollection struct {
	Info  pmInfo    `json:"info"`
	Event []pmEvent `json:"event"`
	Item  []pmItem  `json:"item"`
}

type pmInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Schema      string `json:"schema"`
}

type pmEvent struct {
	Listen string   `json:"listen"`
	Script pmScript `json:"script"`
}

type pmScript struct {
	Type string   `json:"type"`
	Exec []string `json:"exec"`
}

type pmItem struct {
	Name    string    `json:"name"`
	Request pmRequest `json:"request"`
	Event   []pmEvent `json:"event"`
}

type pmRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	Auth   pmAuth `json:"auth"`
}

type pmAuth struct {
	Type   string `json:"type"`
	Bearer []pmKV `json:"bearer,omitempty"`
}

type pmKV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

func script(listen string, lines ...string) pmEvent {
	return pmEvent{Listen: listen, Script: pmScript{Type: "text/javascript", Exec: lines}}
}

// collection builds the example collection around the pre-request script.
func collection(preRequest string) pmCollection {
	status := `pm.test("the API accepted the lanyard token", function () { pm.response.to.have.status(200); });`
	return pmCollection{
		Info: pmInfo{
			Name: "lanyard example",
			Description: "Runs helpers/postman/pre-request.js before every request. Set lanyard_url and lanyard_key " +
				"(printed by lanyard serve), lanyard_profile, optionally lanyard_mode (header or query), and api_url.",
			Schema: "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
		},
		Event: []pmEvent{script("prerequest", strings.Split(strings.TrimRight(preRequest, "\n"), "\n")...)},
		Item: []pmItem{{
			Name:    "token set by the script (header or query)",
			Request: pmRequest{Method: "GET", URL: "{{api_url}}/v1/me", Auth: pmAuth{Type: "noauth"}},
			Event: []pmEvent{script("test", status,
				`pm.test("the token went where lanyard_mode says", function () {`,
				`    pm.expect(pm.response.json().via).to.eql(pm.variables.get("lanyard_mode") || "header");`,
				`});`)},
		}, {
			Name: "Bearer Token auth with {{lanyard_token}}",
			Request: pmRequest{Method: "GET", URL: "{{api_url}}/v1/me", Auth: pmAuth{Type: "bearer", Bearer: []pmKV{
				{Key: "token", Value: "{{lanyard_token}}", Type: "string"},
			}}},
			Event: []pmEvent{script("test", status)},
		}},
	}
}

func TestCollectionUsesPreRequestScript(t *testing.T) {
	js, err := os.ReadFile("pre-request.js")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep && readable in the script lines
	enc.SetIndent("", "  ")
	if err := enc.Encode(collection(string(js))); err != nil {
		t.Fatal(err)
	}
	compareGolden(t, collectionFile, b.Bytes())
}
