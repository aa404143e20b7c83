package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/99designs/keyring"
	"github.com/mtibben/percent"
)

// atomicFile makes the file backend's writes atomic. keyring's file backend
// writes with os.WriteFile, which truncates first: a process killed mid-write
// would leave an empty or partial item and lose a rotated refresh token. We
// let keyring encrypt into a private staging directory on the same file
// system and rename the result into place, so readers see the old item or the
// new one, never a torn one.
type atomicFile struct {
	keyring.Keyring
	dir string
	cfg keyring.Config
}

func (a *atomicFile) Set(it keyring.Item) error {
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Dir(filepath.Clean(a.dir)), ".lanyard-stage-")
	if err != nil {
		return fmt.Errorf("could not create staging directory: %w", err)
	}
	defer os.RemoveAll(stage)
	cfg := a.cfg
	cfg.FileDir = stage
	cfg.AllowedBackends = []keyring.BackendType{keyring.FileBackend}
	kr, err := keyring.Open(cfg)
	if err != nil {
		return err
	}
	if err := kr.Set(it); err != nil {
		return err
	}
	name := fileName(it.Key)
	f, err := os.Open(filepath.Join(stage, name))
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(stage, name), filepath.Join(a.dir, name)); err != nil {
		return err
	}
	removeStaleStages(filepath.Dir(filepath.Clean(a.dir)))
	return nil
}

// staleStage is how old a staging directory must be before another process
// removes it: far longer than any save takes.
const staleStage = 10 * time.Minute

// removeStaleStages deletes staging directories that processes killed in
// the middle of a save left behind (SIGKILL skips the deferred RemoveAll;
// the refresh kill loop in internal/engine leaves some). Their items are
// encrypted, but they would pile up forever.
func removeStaleStages(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".lanyard-stage-") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleStage {
			_ = os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}

// fileName is the file backend's name for key.
func fileName(key string) string { return percent.Encode(key, "/") }
