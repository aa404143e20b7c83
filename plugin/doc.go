// Package plugin is the public SDK for lanyard grant plugins: external
// binaries named lanyard-grant-NAME that mint tokens lanyard does not know
// how to get (GitHub App installation tokens, cloud metadata tokens,
// corporate SSO wrappers).
//
// A plugin implements Grant and hands it to Serve from main:
//
//	func main() { plugin.Serve(&myGrant{}) }
//
// lanyard finds the binary in $XDG_DATA_HOME/lanyard/plugins, then on
// PATH, for profiles with grant = "plugin:NAME"; it starts the plugin only
// when the cached token is stale, under the profile's lock, calls Token
// once and stops it again. The token is cached and handed to git, kubectl
// and the other tools like any other.
//
// The transport is hashicorp/go-plugin over gRPC with automatic mutual
// TLS; the service is defined in plugin/proto/grant.proto, so plugins in
// other languages can implement it too. Nothing here imports lanyard's
// internal packages.
package plugin
