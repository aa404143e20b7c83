// Command lanyard-grant-test is the grant plugin the engine's tests run.
// Its setting "mode" picks a behaviour: ok (default), crash (exits in the
// middle of Token), hang (never answers), fail (returns an error),
// bad-setting (returns a SettingError), env (fails naming which of the
// variables in setting "probe", comma-separated, it can see). Each start appends a line to the
// file named by LANYARD_TEST_PLUGIN_STARTS, so tests count starts.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/plugin"
)

type testGrant struct{}

func (testGrant) Describe(context.Context) (*plugin.Description, error) {
	return &plugin.Description{Name: "test", Version: "0.0.1-test", Settings: []plugin.Setting{
		{Name: "mode", Description: "ok, crash, hang, fail or bad-setting"},
		{Name: "ttl", Description: "token lifetime, default 1h"},
		{Name: "password", Description: "echoed into the token", Secret: true},
		{Name: "required", Required: true},
		{Name: "probe", Description: "variables mode env reports"},
	}}, nil
}

// Token returns "tok-N-PASSWORD" where N counts calls through the state.
func (testGrant) Token(ctx context.Context, settings map[string]string, state string) (*plugin.Token, error) {
	plugin.Logger().Debug("token requested", "mode", settings["mode"], "state", state)
	switch settings["mode"] {
	case "crash":
		os.Exit(7)
	case "hang":
		select {}
	case "fail":
		plugin.Logger().Warn("about to fail")
		return nil, errors.New("upstream said no")
	case "env":
		var seen []string
		for _, name := range strings.Split(settings["probe"], ",") {
			if _, ok := os.LookupEnv(name); ok {
				seen = append(seen, name)
			}
		}
		return nil, fmt.Errorf("sees [%s]", strings.Join(seen, " "))
	case "bad-setting":
		return nil, &plugin.SettingError{Setting: "required", Msg: "must be yes"}
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(state, "n="))
	n++
	ttl := time.Hour
	if v := settings["ttl"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, &plugin.SettingError{Setting: "ttl", Msg: err.Error()}
		}
		ttl = d
	}
	return &plugin.Token{
		AccessToken: fmt.Sprintf("tok-%d-%s", n, settings["password"]),
		Expiry:      time.Now().Add(ttl),
		State:       fmt.Sprintf("n=%d", n),
		Extra:       map[string]string{"scope": "read write"},
	}, nil
}

func main() {
	if f := os.Getenv("LANYARD_TEST_PLUGIN_STARTS"); f != "" {
		if w, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(w, os.Getpid())
			w.Close()
		}
	}
	plugin.Serve(testGrant{})
}
