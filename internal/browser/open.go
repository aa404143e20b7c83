// Package browser is how interactive logins reach a person: it opens the
// authorize URL in a browser (or decides it cannot and prints it), runs the
// loopback listener that receives the redirect (RFC 8252 §7.3), and reads a
// redirected URL or a bare code pasted on the terminal when the browser
// cannot reach the listener (SSH, containers, fixed non-loopback callbacks).
//
// It knows nothing about OAuth beyond where redirect parameters live: the
// grant decides what they mean.
package browser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/desktop"
)

// Opener returns a function that opens a URL in the person's browser, or
// nil when none should be tried, as internal/desktop decides: $BROWSER (a
// command, or a list of them separated by ":", taking the URL as its last
// argument or in place of "%s") always wins; no browser over SSH or in a
// container; under WSL the Windows browser (wslview, powershell.exe
// Start-Process or cmd.exe /c start); on a desktop the OS opener
// (xdg-open, open, rundll32); nothing on a headless machine.
//
// The returned function only starts the command: a browser that starts but
// never shows the page is indistinguishable from a slow one, so callers
// print the URL as well.
func Opener(getenv func(string) string) func(url string) error {
	return OpenerFor(desktop.Decide(desktop.Read(getenv)), getenv("BROWSER"))
}

// OpenerFor is [Opener] for a decision already made; browserVar is $BROWSER.
func OpenerFor(d desktop.Decision, browserVar string) func(url string) error {
	switch d.Open {
	case desktop.BROWSER:
		b := strings.TrimSpace(browserVar)
		return func(url string) error { return openWithBROWSER(b, url) }
	case desktop.OS:
		return openWithOS
	case desktop.Wslview:
		return func(url string) error { return start("wslview", url) }
	case desktop.PowerShell:
		// The URL travels as a single-quoted PowerShell string: a quote in
		// it is doubled, nothing else is special there.
		return func(url string) error {
			return start("powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "Start-Process '"+strings.ReplaceAll(url, "'", "''")+"'")
		}
	case desktop.Cmd:
		return func(url string) error { return start("cmd.exe", "/c", "start", cmdEscape(url)) }
	}
	return nil
}

// cmdEscape protects cmd.exe's metacharacters with "^" ("&" separates
// commands, and every authorize URL has one). start's first argument is
// not quoted, so it is taken as the target, not a window title.
func cmdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("&|<>^()%!\"", r) {
			b.WriteByte('^')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// openWithBROWSER tries each command of $BROWSER in turn (the convention of
// Python's webbrowser and xdg-utils: "firefox:w3m", "%s" for the URL).
func openWithBROWSER(spec, url string) error {
	var errs []error
	for _, entry := range strings.Split(spec, string(os.PathListSeparator)) {
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			continue
		}
		substituted := false
		for i, f := range fields {
			if strings.Contains(f, "%s") {
				fields[i] = strings.ReplaceAll(f, "%s", url)
				substituted = true
			}
		}
		if !substituted {
			fields = append(fields, url)
		}
		if err := start(fields[0], fields[1:]...); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	if len(errs) == 0 {
		return errors.New("$BROWSER names no command")
	}
	return fmt.Errorf("could not start $BROWSER: %w", errors.Join(errs...))
}

func openWithOS(url string) error {
	switch runtime.GOOS {
	case "darwin":
		return start("open", url)
	case "windows":
		// rundll32 does not go through cmd.exe, so "&" in the URL is safe.
		return start("rundll32", "url.dll,FileProtocolHandler", url)
	}
	return start("xdg-open", url)
}

// start runs name without waiting for it (a browser may run for hours) and
// reaps it in the background. Its output is discarded: browsers are chatty
// and stdout belongs to the tool protocols.
func start(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = config.ChildEnv(os.Environ())
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
