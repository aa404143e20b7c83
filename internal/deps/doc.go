// Package deps holds no code: its test states lanyard's import rules, as
// Go's own go/build/deps_test.go does. The rules are the ```deps block of
// docs/internals.md, so the picture a newcomer reads and the rules the
// test enforces are the same text.
package deps
