package peercred_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lanyardhq/lanyard/internal/peercred"
)

// Both ends of a real unix socket see this process: the listener's side
// sees the client, the client's side sees the listener.
func TestBothEnds(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix socket credentials on Windows")
	}
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	defer server.Close()
	self, _ := os.Executable()
	for name, c := range map[string]net.Conn{"client's view": client, "server's view": server} {
		cr, err := peercred.Of(c.(*net.UnixConn))
		if errors.Is(err, peercred.ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cr.UID != uint32(os.Getuid()) {
			t.Errorf("%s: got uid %d, want %d", name, cr.UID, os.Getuid())
		}
		if runtime.GOOS == "linux" && (cr.PID != int32(os.Getpid()) || cr.Exe != self) {
			t.Errorf("%s: got pid %d exe %q, want %d %q", name, cr.PID, cr.Exe, os.Getpid(), self)
		}
	}
}
