package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// completionCases are asked of every shell's script, with the profiles
// file of completionEnv.
var completionCases = []struct{ line, want string }{
	{"lanyard to", "token"},
	{"lanyard s", "secret serve setup shared status"},
	{"lanyard token ", "acme beta-ci"},
	{"lanyard login b", "beta-ci"},
	{"lanyard status ", "acme beta-ci"},
	{"lanyard token --for", "--force-refresh --format"},
	{"lanyard setup ", "cargo docker git go mcp pip terraform"},
	{"lanyard completion ", "bash fish zsh"},
}

// completionEnv has two profiles, one with a mistake in it: completion
// reads only the names. A third table's name is a shell command, which no
// profile may have: it is never offered (a real bash ran it after TAB and
// Enter when it was).
func completionEnv(t *testing.T) *testbin.Env {
	t.Helper()
	env := testbin.NewEnv(t, testbin.Build(t, "lanyard"))
	env.WriteConfig(t, `[profiles.acme]
token_url = "https://login.acme.example/token"
not_a_key = 1   # invalid, still completed

[profiles.beta-ci]

[profiles."b$(touch PWNED)"]
`)
	return env
}

// askShell runs script in shell (args: the line to complete) for every
// case and compares the sorted candidates.
func askShell(t *testing.T, shell string, args []string) {
	env := completionEnv(t)
	for _, tc := range completionCases {
		t.Run(tc.line, func(t *testing.T) {
			cmd := exec.Command(shell, append(args, tc.line)...)
			cmd.Env = env.Vars()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", shell, err, out)
			}
			if got := strings.Join(strings.Fields(string(out)), " "); got != tc.want {
				t.Errorf("candidates for %q = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

// TestBashCompletion sources `lanyard completion bash` in a real bash and
// asks the function it registered for candidates, as bash does on TAB:
// COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT set, then the function that
// `complete -p lanyard` names.
func TestBashCompletion(t *testing.T) {
	const ask = `source <(lanyard completion bash)
fn=$(complete -p lanyard | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
COMP_LINE=$1; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"$fn"
printf '%s\n' "${COMPREPLY[@]}" | sort`
	askShell(t, testbin.NeedTool(t, "bash"), []string{"--norc", "--noprofile", "-c", ask, "bash"})
}

// TestFishCompletion loads `lanyard completion fish` in a real fish and asks
// it with complete -C, which answers as fish does on TAB.
func TestFishCompletion(t *testing.T) {
	const ask = `lanyard completion fish | source; complete -C $argv[1] | sort`
	askShell(t, testbin.NeedTool(t, "fish"), []string{"--no-config", "-c", ask})
}

// TestZshCompletion sources `lanyard completion zsh` in a real zsh and calls
// the completion function with words and CURRENT set as zsh's completion
// system sets them; compadd, which only exists inside a completion widget,
// is replaced by a function that prints the candidates.
func TestZshCompletion(t *testing.T) {
	const ask = `compadd() { [[ $1 == -- ]] && shift; print -l -- "$@" }
compdef() { : }
source <(lanyard completion zsh)
words=(${(z)1})
[[ $1 == *" " ]] && words+=("")
CURRENT=${#words}
_lanyard | sort`
	askShell(t, testbin.NeedTool(t, "zsh"), []string{"-f", "-c", ask, "zsh"})
}
