// Package httpie holds lanyard's HTTPie auth plugin, lanyard_httpie.py
// (`http --auth-type=lanyard --auth=PROFILE URL`), its installer
// install.sh (make install-httpie), and the end-to-end tests that drive
// Debian's real `http` against a token-checking API on 127.0.0.1.
//
// The plugin is Python because HTTPie is; it runs
// `lanyard token PROFILE --format json` and needs nothing but HTTPie.
package httpie
