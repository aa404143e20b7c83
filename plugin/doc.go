// Package plugin is the public SDK for lanyard grant plugins: external
// binaries named lanyard-grant-NAME that mint tokens lanyard does not know
// how to get (GitHub App installation tokens, cloud metadata tokens).
package plugin
