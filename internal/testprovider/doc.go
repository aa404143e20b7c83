// Package testprovider runs OAuth 2.0 / OpenID Connect servers in-process on
// 127.0.0.1 for lanyard's tests, benchmarks and demos.
//
//   - [OP] is a real OpenID provider built on zitadel/oidc's op package
//     (discovery, client_credentials, authorization_code + PKCE with loopback
//     redirects, device authorization, refresh-token rotation, revocation,
//     id_tokens) with a scripted login for tests.
//   - [WhenFresh], [Shopware], [Whiplash] and [Whisk] emulate the token
//     endpoints of the four seed APIs (see DESIGN.md, "Profiles") and enforce their wire
//     quirks strictly: a request in the wrong shape is rejected with an
//     RFC 6749 §5.2 JSON error, never silently accepted.
//   - [Bulky] issues token states of a chosen size (16 KB: JWTs with many
//     group claims, as Entra ID sends them) and rotates refresh tokens, for
//     the keyring backends' size limits.
//   - [Fault] is a token endpoint that answers from a script (5xx, 429 with
//     Retry-After, HTML bodies, delays, connections reset mid-body).
//
// Every server exposes GET /_lanyard/stats ({"token_requests":N,
// "reuse_detections":N}) and POST /_lanyard/revoke-access so that processes
// other than the test binary can read counters and force 401s.
//
// All values (client ids, secrets, passwords) are fixed test values. Servers
// listen on 127.0.0.1 only. The package never imports "testing": constructors
// return errors and every server has Close.
package testprovider
