package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// LoginCmd logs in and stores the tokens.
type LoginCmd struct {
	Profile           string        `arg:"" help:"Profile name." predictor:"profile"`
	RefreshTokenStdin bool          `name:"refresh-token-stdin" help:"Import a refresh token read from stdin (checked at once by refreshing with it)."`
	PasswordStdin     bool          `name:"password-stdin" help:"Read the password grant's password from stdin."`
	NoBrowser         bool          `name:"no-browser" help:"Print the authorize URL instead of opening a browser."`
	Timeout           time.Duration `default:"5m" help:"Give up an interactive login after this long."`
}

// Run logs in.
func (c *LoginCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	opt := engine.LoginOptions{NoBrowser: c.NoBrowser, Timeout: c.Timeout}
	switch {
	case c.RefreshTokenStdin && c.PasswordStdin:
		return errors.New("--refresh-token-stdin and --password-stdin both read stdin; use one")
	case c.RefreshTokenStdin:
		opt.RefreshToken, err = readSecretLine(env.Stdin, "refresh token")
	case c.PasswordStdin:
		opt.Password, err = readSecretLine(env.Stdin, "password")
	}
	if err != nil {
		return err
	}
	t, err := eng.Login(ctx, p, opt)
	if err != nil {
		return err
	}
	forgetInAgent(ctx, env, p.Name)
	refresh := "no refresh token"
	if t.RefreshToken != "" {
		refresh = "refresh token stored"
	}
	fmt.Fprintf(env.Stderr, "lanyard: logged in to %s (token valid until %s, %s)\n", p.Name, engine.Handout(t, p).Expiry.Local().Format(time.RFC3339), refresh)
	return nil
}

// readSecretLine reads one line from r, for secrets piped in.
func readSecretLine(r io.Reader, what string) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("could not read the %s from stdin: %w", what, err)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", fmt.Errorf("stdin held no %s; pipe it in, e.g. lanyard ... < file", what)
	}
	return line, nil
}
