package docker_test

import (
	"bytes"
	"testing"

	"github.com/lanyardhq/lanyard/helpers/docker"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// TestMayPrompt: a login may run when stderr is a terminal, unless
// LANYARD_NONINTERACTIVE=1 rules every prompt out.
func TestMayPrompt(t *testing.T) {
	_, slave := testbin.OpenPTY(t)
	vars := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if !docker.MayPrompt(slave, vars(nil)) {
		t.Error("a terminal on stderr: got no prompt, want one")
	}
	if docker.MayPrompt(slave, vars(map[string]string{"LANYARD_NONINTERACTIVE": "1"})) {
		t.Error("LANYARD_NONINTERACTIVE=1 with a terminal: got a prompt, want none")
	}
	if docker.MayPrompt(&bytes.Buffer{}, vars(nil)) {
		t.Error("stderr not a terminal: got a prompt, want none")
	}
}
