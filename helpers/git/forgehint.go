package git

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// hintFile is where the git helper remembers, per host, the day it last
// printed a forge's `lanyard init` line: under the state directory, one
// "HOST DAY" line each (DAY: days since 1970, UTC).
const hintFile = "forge-hints"

// hintForge prints, once per host per day, the `lanyard init` line for a
// forge no profile serves, recognised from git's wwwauth[]. It never fails
// the request: git's other helpers still run, and an unwritable state
// directory only means the line may come again.
func hintForge(stateDir string, r Request, now time.Time, stderr io.Writer) {
	hint := InitHint(r)
	if hint == "" {
		return
	}
	host := strings.ToLower(r.Protocol + "://" + r.Host)
	day := strconv.FormatInt(now.Unix()/86400, 10)
	path := filepath.Join(stateDir, hintFile)
	data, _ := readSmall(path)
	var keep []string
	for _, line := range strings.Split(data, "\n") {
		h, d, ok := strings.Cut(line, " ")
		if !ok || d != day {
			continue // another day's lines are dropped: the file stays small
		}
		if h == host {
			return // printed today
		}
		keep = append(keep, line)
	}
	fmt.Fprintf(stderr, "lanyard: %s looks like %s and no lanyard profile serves it; to log in with lanyard run: %s\n", r.Protocol+"://"+r.Host, forgeTitle(Forge(r)), hint)
	keep = append(keep, host+" "+day)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(stateDir, hintFile+".*")
	if err != nil {
		return
	}
	_, werr := tmp.WriteString(strings.Join(keep, "\n") + "\n")
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

// readSmall reads at most 64 KiB of path.
func readSmall(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	return string(b), err
}

func forgeTitle(f string) string {
	switch f {
	case "gitea":
		return "a Gitea (or Forgejo) server"
	case "forgejo":
		return "a Forgejo server"
	case "gitlab":
		return "a GitLab server"
	case "github":
		return "GitHub"
	case "bitbucket":
		return "Bitbucket"
	}
	return "a forge"
}
