package engine

import (
	"fmt"
	"os"
	"time"

	"github.com/lanyardhq/lanyard/internal/tty"
)

// noticeAfter is how long a wait runs silently before lanyard says, on a
// terminal, what it is waiting for.
const noticeAfter = time.Second

// notice prints "lanyard: waiting for WHAT ..." on e.UI when the wait it
// announces lasts longer than noticeAfter and e.UI is a terminal (never in
// a pipe: tools read helpers' stderr). The returned stop ends the wait.
func (e *Engine) notice(format string, args ...any) (stop func()) {
	f, ok := e.UI.(*os.File)
	if !ok || !tty.IsTerminal(f) {
		return func() {}
	}
	msg := fmt.Sprintf(format, args...)
	t := time.AfterFunc(noticeAfter, func() { fmt.Fprintf(f, "lanyard: waiting for %s...\n", msg) })
	return func() { t.Stop() }
}
