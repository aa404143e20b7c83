package browser

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/lanyardhq/lanyard/internal/tty"
)

// bareCodeRE matches what a pasted authorization code may look like: RFC
// 6749 §A.11 allows any visible ASCII, but a code with spaces, "?", "#",
// "&" or "=" in the middle is far more likely a mangled URL or stray text.
var bareCodeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._~+/-]{4,}=*$`) })

// ParsePasted reads what the person pasted: the full URL the browser was
// redirected to (parameters in the query or, for the implicit grant, the
// fragment), or just the code.
func ParsePasted(text string) (*Redirect, error) {
	s := strings.TrimSpace(text)
	s = strings.Trim(s, `"'<>`)
	if s == "" {
		return nil, errors.New("nothing was pasted; paste the full URL the browser was redirected to (or just the code)")
	}
	if !strings.ContainsAny(s, "?#") && !strings.Contains(s, "://") {
		// Just the parameters, e.g. "code=...&state=..." copied from the address bar.
		if v, err := url.ParseQuery(s); err == nil && hasOAuthParams(v) {
			s = "?" + s
		}
	}
	if strings.ContainsAny(s, "?#") || strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("the pasted text is not a URL (%v); paste the whole address from the browser's address bar after it was redirected, or just the code", err)
		}
		params := url.Values{}
		q, qerr := url.ParseQuery(u.RawQuery)
		f, ferr := url.ParseQuery(u.EscapedFragment())
		if qerr != nil && ferr != nil {
			return nil, fmt.Errorf("the pasted URL's parameters cannot be read (%v); paste the whole address from the browser's address bar", qerr)
		}
		for k, v := range q {
			params[k] = v
		}
		for k, v := range f { // the implicit grant answers in the fragment
			params[k] = v
		}
		if !hasOAuthParams(params) {
			return nil, fmt.Errorf("the pasted URL %s carries no code, token or error; paste the address the browser shows after the login redirected it (it contains code=... or #access_token=...)", shorten(s))
		}
		return &Redirect{Params: params, Pasted: true}, nil
	}
	if len(s) > 4096 || !bareCodeRE().MatchString(s) {
		return nil, fmt.Errorf("could not understand the pasted text %s: paste the full URL the browser was redirected to (it contains code=...) or just the code", shorten(s))
	}
	return &Redirect{Params: url.Values{"code": {s}}, BareCode: true, Pasted: true}, nil
}

func shorten(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// ErrNoPaste is returned by [Receive] when the paste input ended before
// anything was pasted and no listener is waiting.
var ErrNoPaste = errors.New("input ended before a redirected URL or code was pasted")

// Receive waits for the redirect from whichever comes first: the listener
// l (nil: none) or a line pasted on paste (nil: none). Pasted text is
// judged with check, as the listener judges what it receives. An input that
// ends without a paste is ignored while the listener still waits.
func Receive(ctx context.Context, l *Listener, paste io.Reader, check func(*Redirect) error) (*Redirect, error) {
	var fromListener chan outcome
	if l != nil {
		fromListener = l.results
	}
	var fromPaste chan outcome
	if paste != nil {
		fromPaste = make(chan outcome, 1)
		go readPaste(paste, fromPaste)
	}
	if fromListener == nil && fromPaste == nil {
		return nil, errors.New("no way to receive the login redirect: no listener and nothing to read a pasted URL from")
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case o := <-fromListener:
			return o.r, o.err
		case o := <-fromPaste:
			if errors.Is(o.err, ErrNoPaste) && fromListener != nil {
				fromPaste = nil // stdin was empty or closed: keep waiting for the browser
				continue
			}
			if o.err != nil {
				return nil, o.err
			}
			if check != nil {
				if err := check(o.r); err != nil {
					return o.r, err
				}
			}
			return o.r, nil
		}
	}
}

// readPaste reads the first non-blank line.
func readPaste(r io.Reader, out chan<- outcome) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if strings.TrimSpace(line) != "" {
			rd, perr := ParsePasted(line)
			out <- outcome{rd, perr}
			return
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				out <- outcome{nil, ErrNoPaste}
			} else {
				out <- outcome{nil, fmt.Errorf("could not read the pasted URL: %w", err)}
			}
			return
		}
	}
}

// PasteInput picks where a paste is read from: the terminal (/dev/tty)
// when stdin is one, else stdin itself (a pipe, for scripts and tests).
// terminal tells whether a person is typing; closeFn releases the tty
// (and unblocks a pending read) and is never nil.
func PasteInput(stdin io.Reader) (r io.Reader, terminal bool, closeFn func()) {
	noop := func() {}
	if stdin == nil {
		return nil, false, noop
	}
	if tty.IsTerminal(stdin) {
		if t, err := tty.Open(); err == nil {
			return t, true, func() { _ = t.Close() }
		}
		return stdin, true, noop
	}
	return stdin, false, noop
}
