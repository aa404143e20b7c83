package desktop

import "testing"

func TestDecide(t *testing.T) {
	all := map[string]bool{"wslview": true, "powershell.exe": true, "cmd.exe": true}
	tests := []struct {
		name string
		f    Facts
		want Decision
	}{
		{"linux desktop", Facts{GOOS: "linux", Display: true}, Decision{Desktop, OS}},
		{"wayland only", Facts{GOOS: "linux", Display: true}, Decision{Desktop, OS}},
		{"linux console", Facts{GOOS: "linux"}, Decision{Headless, None}},
		{"macos without DISPLAY", Facts{GOOS: "darwin"}, Decision{Desktop, OS}},
		{"windows", Facts{GOOS: "windows"}, Decision{Desktop, OS}},
		{"ssh with forwarded X", Facts{GOOS: "linux", SSH: true, Display: true}, Decision{SSH, None}},
		{"ssh to a mac", Facts{GOOS: "darwin", SSH: true}, Decision{SSH, None}},
		{"ssh with BROWSER (VS Code Remote-SSH)", Facts{GOOS: "linux", SSH: true, Browser: "/vscode/helpers/browser.sh"}, Decision{SSH, BROWSER}},
		{"container with DISPLAY", Facts{GOOS: "linux", Container: true, Display: true}, Decision{Container, None}},
		{"dev container with BROWSER", Facts{GOOS: "linux", Container: true, Browser: "/vscode/browser.sh"}, Decision{Container, BROWSER}},
		{"blank BROWSER does not count", Facts{GOOS: "linux", Browser: "  "}, Decision{Headless, None}},
		{"wsl with wslview", Facts{GOOS: "linux", WSL: true, OnPath: all}, Decision{WSL, Wslview}},
		{"wsl with powershell only", Facts{GOOS: "linux", WSL: true, OnPath: map[string]bool{"powershell.exe": true, "cmd.exe": true}}, Decision{WSL, PowerShell}},
		{"wsl with cmd only", Facts{GOOS: "linux", WSL: true, OnPath: map[string]bool{"cmd.exe": true}}, Decision{WSL, Cmd}},
		{"wsl without interop", Facts{GOOS: "linux", WSL: true}, Decision{WSL, None}},
		{"wsl with a display still uses Windows", Facts{GOOS: "linux", WSL: true, Display: true, OnPath: all}, Decision{WSL, Wslview}},
		{"wsl with BROWSER", Facts{GOOS: "linux", WSL: true, Browser: "firefox", OnPath: all}, Decision{WSL, BROWSER}},
		{"ssh into wsl", Facts{GOOS: "linux", WSL: true, SSH: true, OnPath: all}, Decision{SSH, None}},
		{"container on wsl", Facts{GOOS: "linux", WSL: true, Container: true, OnPath: all}, Decision{Container, None}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.f); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadVariables(t *testing.T) {
	env := map[string]string{"SSH_TTY": "/dev/pts/3", "WAYLAND_DISPLAY": "wayland-0", "WSL_DISTRO_NAME": "Ubuntu", "container": "podman", "BROWSER": "b"}
	f := Read(func(k string) string { return env[k] })
	if !f.SSH || !f.Display || !f.WSL || !f.Container || f.Browser != "b" {
		t.Errorf("got %+v, want every fact set", f)
	}
	f = Read(func(string) string { return "" })
	if f.SSH || f.Display || f.Browser != "" {
		t.Errorf("empty environment: got %+v, want no SSH, display or BROWSER", f)
	}
}
