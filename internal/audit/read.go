package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Filter selects events: by profile ("" any) and by time (zero: all).
type Filter struct {
	Profile string
	Since   time.Time
}

// Keep reports whether f selects e.
func (f Filter) Keep(e Event) bool {
	if f.Profile != "" && e.Profile != f.Profile && !contains(e.Profiles, f.Profile) {
		return false
	}
	return f.Since.IsZero() || !e.Time.Before(f.Since)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// maxLine bounds one line: events are a few hundred bytes; a longer line
// is not ours and is skipped.
const maxLine = 64 << 10

// Files are the log's files, oldest first: the rotated backups, then path.
func Files(path string) []string {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	old, _ := filepath.Glob(base + "-*" + ext)
	sort.Strings(old) // lumberjack names them by time: lexical is chronological
	return append(old, path)
}

// Read calls fn for each event of the log at path (its backups first) that
// f keeps, and returns how far it read path itself (where Follow goes on).
// A missing log is no error: nothing happened yet. Lines that are not
// events are skipped.
func Read(path string, f Filter, fn func(Event) error) (int64, error) {
	var offset int64
	for _, name := range Files(path) {
		file, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("audit log %s: %w", name, err)
		}
		n, err := scan(file, f, fn)
		file.Close()
		if err != nil {
			return 0, err
		}
		if name == path {
			offset = n
		}
	}
	return offset, nil
}

// scan reads complete lines from r and returns how many bytes they took.
func scan(r io.Reader, f Filter, fn func(Event) error) (int64, error) {
	br := bufio.NewReaderSize(r, 4096)
	var n int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An overlong line: skip to its end.
			n += int64(len(line))
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				n += int64(len(line))
			}
			if err != nil {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, nil // an unfinished last line is read next time
		}
		n += int64(len(line))
		var e Event
		if len(line) > maxLine || json.Unmarshal(line, &e) != nil || e.Kind == "" {
			continue
		}
		if f.Keep(e) {
			if err := fn(e); err != nil {
				return n, err
			}
		}
	}
}

// Follow calls fn for events appended to path after offset, polling every
// interval until ctx ends; it starts over when the file is rotated.
func Follow(ctx context.Context, path string, offset int64, interval time.Duration, f Filter, fn func(Event) error) error {
	var last os.FileInfo
	if fi, err := os.Stat(path); err == nil {
		last = fi
	}
	for {
		file, err := os.Open(path)
		if err == nil {
			fi, serr := file.Stat()
			if serr == nil && (fi.Size() < offset || (last != nil && !os.SameFile(last, fi))) {
				offset = 0 // rotated: a new file
			}
			if serr == nil {
				last = fi
			}
			if _, err := file.Seek(offset, io.SeekStart); err == nil {
				n, err := scan(file, f, fn)
				offset += n
				if err != nil {
					file.Close()
					return err
				}
			}
			file.Close()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// Clean returns e with every text field passed through clean (a filter of
// terminal escapes, before e reaches a terminal).
func (e Event) Clean(clean func(string) string) Event {
	for _, s := range []*string{&e.Kind, &e.Profile, &e.Tool, &e.Exe, &e.Addr, &e.Via, &e.Forward, &e.URL, &e.Fingerprint, &e.Result, &e.ErrorCode, &e.Reason, &e.TTL} {
		*s = clean(*s)
	}
	if e.Profiles != nil {
		ps := make([]string, len(e.Profiles))
		for i, p := range e.Profiles {
			ps[i] = clean(p)
		}
		e.Profiles = ps
	}
	return e
}

// Text is e as one human-readable line.
func (e Event) Text() string {
	var b strings.Builder
	b.WriteString(e.Time.Local().Format(time.RFC3339))
	b.WriteString(" ")
	b.WriteString(e.Kind)
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	add("profile", e.Profile)
	add("profiles", strings.Join(e.Profiles, ","))
	add("tool", e.Tool)
	add("result", e.Result)
	if e.PID != 0 {
		add("pid", fmt.Sprint(e.PID))
	}
	if e.UID != nil {
		add("uid", fmt.Sprint(*e.UID))
	}
	add("exe", e.Exe)
	add("addr", e.Addr)
	add("url", e.URL)
	add("token", e.Fingerprint)
	add("forward", e.Forward)
	add("via", e.Via)
	add("ttl", e.TTL)
	if e.Seconds != 0 {
		add("took", fmt.Sprintf("%.3fs", e.Seconds))
	}
	add("error", e.ErrorCode)
	add("reason", e.Reason)
	return b.String()
}
