package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/store"
)

// SharedInitCmd makes a team key.
type SharedInitCmd struct {
	Name  string `arg:"" help:"The tier's name, as in [shared.NAME]."`
	Force bool   `help:"Replace a key already stored for NAME (records sealed with the old key become unreadable)."`
}

// Run makes 32 random bytes, stores them in the keyring as the key of
// [shared.NAME] and prints them once with what teammates and CI need. The
// profiles file may not have the table yet.
func (c *SharedInitCmd) Run(env *Env, eng *engine.Engine) error {
	owner := "shared." + c.Name
	if _, err := eng.Store.Secret(owner, "key"); err == nil && !c.Force {
		return fmt.Errorf("a team key for [shared.%s] is already in the keyring; replacing it makes every record sealed with it unreadable: use --force if you mean it", c.Name)
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return err
	}
	key := base64.StdEncoding.EncodeToString(k[:])
	if err := eng.Store.SetSecret(owner, "key", key); err != nil {
		return err
	}
	_, err := fmt.Fprintf(env.Stdout, `Team key for [shared.%[1]s], stored in this machine's %[2]s keyring (shown once; keep a copy in your team's password manager):

  %[3]s

Every machine's profiles file:

  [shared.%[1]s]
  url = "rediss://redis.example.com:6379/0"   # or sentinel_addrs + sentinel_master
  username = "lanyard"                        # a Redis ACL user limited to the prefix (docs/shared.md)
  password = "keyring"                        # lanyard secret set shared.%[1]s password
  key = "keyring"

  [profiles.PROFILE]
  shared = "%[1]s"

Teammates store the key with:   lanyard secret set shared.%[1]s key
CI: keep the key in a masked secret variable and write key = "env:LANYARD_SHARED_KEY".
Then one person logs in (lanyard login PROFILE, or lanyard shared push PROFILE); everyone else is served.
`, c.Name, eng.Store.Backend(), key)
	return err
}
