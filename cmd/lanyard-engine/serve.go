package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/lanyardhq/lanyard/helpers/postman"
	"github.com/lanyardhq/lanyard/internal/config"
	envpkg "github.com/lanyardhq/lanyard/internal/env"
)

// ServeCmd serves tokens on loopback for GUI tools.
type ServeCmd struct {
	Addr    string `default:"127.0.0.1:0" help:"Listen address; loopback only (127.0.0.1:PORT, [::1]:PORT, localhost:PORT). Port 0 picks a free one."`
	KeyFile string `name:"key-file" placeholder:"PATH" help:"File that keeps the key (mode 0600); default $XDG_STATE_HOME/lanyard/serve.key."`
	NewKey  bool   `name:"new-key" help:"Make a new key even if the key file holds one."`
}

// serveInfo is the one JSON line lanyard serve prints on stdout once it
// listens, for scripts that start it. The key itself is not in it: it is
// in key_file, and on stderr only when it was just made.
type serveInfo struct {
	URL     string `json:"url"`
	KeyFile string `json:"key_file"`
}

// Run listens on loopback and answers GET /token/PROFILE until SIGINT or
// SIGTERM. Interactive logins never run from here.
func (c *ServeCmd) Run(ctx context.Context, env *Env, cfg *config.File) error {
	keyFile := c.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(envpkg.Env(env.Getenv).StateDir(), "serve.key")
	}
	ln, err := postman.Listen(c.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	key, created, err := postman.LoadOrCreateKey(keyFile, c.NewKey)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	h := &postman.Handler{
		// cfg above failed the start if the profiles file is broken.
		Key:      key,
		Resolver: resolver(env),
		Log:      env.Stderr,
	}
	fmt.Fprintf(env.Stderr, "lanyard serve: listening on %s (Ctrl-C stops)\n", url)
	if created {
		// Once, when it is new: a restart must not put the key in another
		// terminal's scrollback or a service log.
		fmt.Fprintf(env.Stderr, "lanyard serve: new key %s (send it as %s; kept in %s)\n", key, postman.KeyHeader, keyFile)
	} else {
		fmt.Fprintf(env.Stderr, "lanyard serve: the key is in %s (send it as %s; --new-key makes a new one)\n", keyFile, postman.KeyHeader)
	}
	if err := json.NewEncoder(env.Stdout).Encode(serveInfo{URL: url, KeyFile: keyFile}); err != nil {
		return err
	}
	return postman.Serve(ctx, ln, h)
}
