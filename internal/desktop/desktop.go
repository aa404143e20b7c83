// Package desktop says where lanyard runs (a desktop, an SSH session, a
// container, WSL, a headless machine) and therefore whether, and how, it
// may open a browser for a login.
//
// The decision is a pure function of [Facts] ([Decide]); [Read] is the one
// place the process environment, the files that mark containers and WSL,
// and PATH are looked at.
package desktop

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Place is where lanyard runs, as far as a login is concerned.
type Place string

// The places [Decide] tells apart.
const (
	// Desktop: a local session with a display (or macOS, or Windows).
	Desktop Place = "desktop"
	// SSH: a remote shell; a browser here would open on the wrong machine.
	SSH Place = "ssh"
	// Container: a Docker/Podman/systemd-nspawn container; no browser
	// reaches it, whatever DISPLAY says.
	Container Place = "container"
	// WSL: Linux under Windows; the Windows browser is opened, and WSL2
	// forwards its localhost to the loopback listener.
	WSL Place = "wsl"
	// Headless: no display at all (a server console, CI).
	Headless Place = "headless"
)

// Facts are what the decision depends on, read once by [Read].
type Facts struct {
	GOOS string
	// Browser is $BROWSER: set, it always wins (VS Code's Remote-SSH and
	// Dev Containers point it at a script that opens the local browser).
	Browser string
	// SSH: SSH_CONNECTION or SSH_TTY is set.
	SSH bool
	// Container: /.dockerenv or /run/.containerenv exists, or $container
	// is set (systemd-nspawn, podman, flatpak's runtime).
	Container bool
	// WSL: WSL_DISTRO_NAME is set or /proc/sys/fs/binfmt_misc/WSLInterop
	// exists.
	WSL bool
	// Display: DISPLAY or WAYLAND_DISPLAY is set (always true on macOS
	// and Windows, which have no such variables).
	Display bool
	// OnPath holds the Windows openers found on PATH under WSL: "wslview",
	// "powershell.exe", "cmd.exe".
	OnPath map[string]bool
}

// How a browser is opened.
type How string

// The openers [Decide] chooses from.
const (
	// None: print the URL only.
	None How = ""
	// BROWSER: run $BROWSER (see internal/browser).
	BROWSER How = "BROWSER"
	// OS: the platform's opener (xdg-open, open, rundll32).
	OS How = "os"
	// Wslview, PowerShell and Cmd open the Windows browser from WSL.
	Wslview    How = "wslview"
	PowerShell How = "powershell.exe"
	Cmd        How = "cmd.exe"
)

// Decision is what [Decide] concludes.
type Decision struct {
	Place Place
	// Open is how to open a browser; None when none must be tried.
	Open How
}

// CanOpen reports whether a browser will be tried.
func (d Decision) CanOpen() bool { return d.Open != None }

// Decide picks the place and the opener. $BROWSER always wins; otherwise no
// browser over SSH or in a container (even with a display forwarded); WSL
// opens the Windows browser through the first of wslview, powershell.exe
// and cmd.exe on PATH; a desktop uses the OS opener; anything else prints.
func Decide(f Facts) Decision {
	d := Decision{Place: place(f)}
	switch {
	case strings.TrimSpace(f.Browser) != "":
		d.Open = BROWSER
	case d.Place == WSL:
		for _, h := range []How{Wslview, PowerShell, Cmd} {
			if f.OnPath[string(h)] {
				d.Open = h
				break
			}
		}
	case d.Place == Desktop:
		d.Open = OS
	}
	return d
}

func place(f Facts) Place {
	switch {
	case f.SSH:
		return SSH
	case f.Container:
		// Before WSL: a container on a WSL host cannot reach Windows.
		return Container
	case f.WSL:
		return WSL
	case f.Display || f.GOOS == "darwin" || f.GOOS == "windows":
		return Desktop
	}
	return Headless
}

// Read gathers the facts: the variables through getenv, the container and
// WSL marker files, and the Windows openers on PATH. It is the only
// function of this package that looks outside its arguments.
func Read(getenv func(string) string) Facts {
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	f := Facts{
		GOOS:      runtime.GOOS,
		Browser:   getenv("BROWSER"),
		SSH:       getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "",
		Container: getenv("container") != "" || exists("/.dockerenv") || exists("/run/.containerenv"),
		WSL:       getenv("WSL_DISTRO_NAME") != "" || exists("/proc/sys/fs/binfmt_misc/WSLInterop"),
		Display:   getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "",
	}
	if f.WSL {
		f.OnPath = map[string]bool{}
		for _, h := range []How{Wslview, PowerShell, Cmd} {
			if _, err := exec.LookPath(string(h)); err == nil {
				f.OnPath[string(h)] = true
			}
		}
	}
	return f
}
