package agent

import (
	"io"
	"strings"

	"github.com/lanyardhq/lanyard/internal/engine"
)

// InProcess returns the handler that answers in the caller's own process
// tree: `lanyard-engine agent oneshot` (LANYARD_AGENT=off, and logins that
// need the caller's terminal) and the helpers' unit tests. It may log in
// when a request says the caller can interact, and does no refresh ahead.
func InProcess(getenv func(string) string, stderr io.Writer, debug bool) *Handler {
	return &Handler{Getenv: getenv, Interactive: true, Recent: -1, Open: func() (*engine.Engine, error) {
		eng, err := engine.New(getenv, stderr, debug)
		if err != nil {
			return nil, err
		}
		// stdin carries the tool's request; a paste-mode login reads the
		// terminal instead.
		eng.Stdin = strings.NewReader("")
		return eng, nil
	}}
}
