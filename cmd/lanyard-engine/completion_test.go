package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// TestBashCompletion sources `lanyard completion bash` in a real bash and
// asks the function it registered for candidates, as bash does on TAB.
// Profile names come from the profiles file, even one with a mistake in it.
func TestBashCompletion(t *testing.T) {
	bash := testbin.NeedTool(t, "bash")
	env := testbin.NewEnv(t, testbin.Build(t, "lanyard"))
	env.WriteConfig(t, `[profiles.acme]
token_url = "https://login.acme.example/token"
not_a_key = 1   # invalid, still completed

[profiles.beta-ci]
`)
	// COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT as bash sets them, then
	// the function `complete -p lanyard` names.
	const ask = `source <(lanyard completion bash)
fn=$(complete -p lanyard | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
COMP_LINE=$1; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"$fn"
printf '%s\n' "${COMPREPLY[@]}" | sort`
	for _, tc := range []struct{ line, want string }{
		{"lanyard to", "token"},
		{"lanyard s", "secret serve setup status"},
		{"lanyard token ", "acme beta-ci"},
		{"lanyard login b", "beta-ci"},
		{"lanyard status ", "acme beta-ci"},
		{"lanyard token --for", "--force-refresh --format"},
		{"lanyard setup ", "docker git"},
		{"lanyard completion ", "bash fish zsh"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			cmd := exec.Command(bash, "--norc", "--noprofile", "-c", ask, "bash", tc.line)
			cmd.Env = env.Vars()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if got := strings.Join(strings.Fields(string(out)), " "); got != tc.want {
				t.Errorf("candidates for %q = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}
