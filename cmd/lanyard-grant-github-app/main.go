// Command lanyard-grant-github-app is lanyard's reference grant plugin: it
// mints GitHub App installation tokens, so git pushes to GitHub as the app
// through git-credential-lanyard (git_username = "x-access-token").
package main

import "github.com/lanyardhq/lanyard/plugin"

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() { plugin.Serve(&App{Version: version}) }
