package main

import (
	"fmt"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"

	"github.com/lanyardhq/lanyard/internal/config"
)

// CompletionCmd prints a shell's completion script. The scripts call
// lanyard itself with COMP_LINE set; it answers with the commands, flags and
// profile names that fit (see completeLine).
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

// Run prints the script.
func (c *CompletionCmd) Run(env *Env) error {
	_, err := fmt.Fprint(env.Stdout, completionScripts[c.Shell])
	return err
}

// completionScripts hand the command line to lanyard (the command the user
// typed, so ./bin/lanyard completes too) and offer what it prints, one
// candidate per line. Profile names are restricted at load
// (config.ValidProfileName); bash inserts candidates unquoted, so its
// script quotes them too (zsh's compadd and fish quote by themselves).
var completionScripts = map[string]string{
	"bash": `# bash completion for lanyard; lanyard itself prints the candidates.
# Load it with: source <(lanyard completion bash)
# Candidates are quoted (printf %q): bash inserts COMPREPLY as typed text.
_lanyard() {
  local IFS=$'\n' c q
  local -a found
  found=($(COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" "${COMP_WORDS[0]}" 2>/dev/null))
  COMPREPLY=()
  for c in "${found[@]}"; do
    printf -v q '%q' "$c"
    COMPREPLY+=("$q")
  done
}
complete -o default -F _lanyard lanyard
`,
	"zsh": `#compdef lanyard
# zsh completion for lanyard; lanyard itself prints the candidates.
# Load it with: source <(lanyard completion zsh), or put it in $fpath as _lanyard.
_lanyard() {
  local line="${words[1,CURRENT]}"
  local -a candidates
  candidates=(${(f)"$(COMP_LINE="$line" COMP_POINT=${#line} ${words[1]} 2>/dev/null)"})
  compadd -- $candidates
}
if [ "$funcstack[1]" = "_lanyard" ]; then
  _lanyard "$@"
else
  compdef _lanyard lanyard
fi
`,
	"fish": `# fish completion for lanyard; lanyard itself prints the candidates.
# Load it with: lanyard completion fish | source
function __lanyard_complete
    set -lx COMP_LINE (commandline -cp)
    set -lx COMP_POINT (string length -- $COMP_LINE)
    lanyard 2>/dev/null
end
complete -c lanyard -f -a '(__lanyard_complete)'
`,
}

// completeLine answers a completion request (COMP_LINE is set) and reports
// whether it did. Profile names come from the profiles file alone: no
// keyring, no network.
func completeLine(parser *kong.Kong, getenv func(string) string) bool {
	if getenv("COMP_LINE") == "" {
		return false
	}
	profiles := complete.PredictFunc(func(complete.Args) []string {
		names, _ := config.ProfileNames(config.Path(getenv))
		return names
	})
	kongplete.Complete(parser,
		kongplete.WithPredictor("profile", profiles),
		kongplete.WithExitFunc(func(int) {}),
		kongplete.WithErrorHandler(func(error) {}),
	)
	return true
}
