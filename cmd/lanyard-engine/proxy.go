package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/confirm"
	envpkg "github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/proxy"
)

// ProxyCmd runs an injecting HTTPS proxy for a sandbox (docs/agent.md,
// "Sandboxes and containers"; trust model in docs/security.md).
type ProxyCmd struct {
	Profiles       []string      `required:"" sep:"," help:"Profiles whose tokens the proxy adds, comma-separated; their match prefixes pick the hosts it intercepts."`
	Listen         string        `default:"127.0.0.1:0" help:"Address to listen on (default: a free port on loopback)."`
	DenyOthers     bool          `help:"Refuse hosts no profile matches instead of tunnelling them untouched."`
	TTL            time.Duration `name:"ttl" help:"Stop after this long (requests in flight finish)."`
	Confirm        bool          `help:"Ask (LANYARD_CONFIRM_PROGRAM, else ssh-askpass) before a profile's first token to each client."`
	ConfirmTimeout time.Duration `name:"confirm-timeout" hidden:"" default:"60s" help:"How long --confirm waits for an answer (tests)."`
	CACert         string        `name:"ca-cert" help:"Where to write the proxy's CA certificate (default: proxy-PID-ca.pem in the state directory)."`
}

// Run serves until interrupted or the TTL ends.
func (c *ProxyCmd) Run(ctx context.Context, env *Env) error {
	if c.TTL < 0 {
		return fmt.Errorf("--ttl %s: give a positive duration such as 8h", c.TTL)
	}
	vars := envpkg.Env(env.Getenv)
	cfg, err := config.Load(vars.ConfigPath())
	if err != nil {
		return err
	}
	sub := &config.File{Path: cfg.Path, Profiles: map[string]*config.Profile{}}
	for _, name := range c.Profiles {
		p, err := cfg.Profile(name)
		if err != nil {
			return err
		}
		if len(p.Match) == 0 {
			return fmt.Errorf("profile %q has no match prefixes, so the proxy would never use it; add match = [\"https://host/\"] in %s:%d", p.Name, p.File, p.Line)
		}
		sub.Profiles[name] = p
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", c.Listen, err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	ca, err := proxy.NewCA("lanyard proxy "+addr, c.TTL+time.Hour)
	if err != nil {
		return err
	}
	caPath := c.CACert
	if caPath == "" {
		dir := vars.StateDir()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		caPath = filepath.Join(dir, fmt.Sprintf("proxy-%d-ca.pem", os.Getpid()))
		defer os.Remove(caPath)
	}
	if err := ca.WriteCert(caPath); err != nil {
		return err
	}
	log := audit.Open(vars.AuditPath())
	defer log.Close()
	level := slog.LevelWarn
	if env.Debug {
		level = slog.LevelDebug
	}
	p := &proxy.Proxy{
		Profiles:   sub,
		Resolver:   resolver(env),
		CA:         ca,
		DenyOthers: c.DenyOthers,
		Audit:      log,
		Name:       addr,
		Log:        slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
	}
	if c.Confirm {
		p.Confirm = &confirm.Asker{Program: confirm.Program(vars.ConfirmProgram()), Timeout: c.ConfirmTimeout}
	}
	ttl := ""
	if c.TTL > 0 {
		ttl = c.TTL.String()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.TTL)
		defer cancel()
	}
	log.Record(audit.Event{Kind: audit.KindProxyOpen, Forward: addr, Via: addr, Profiles: c.Profiles, TTL: ttl})
	fmt.Fprintf(env.Stdout, "http://%s\n%s\n", addr, caPath)
	fmt.Fprintf(env.Stderr, "lanyard: proxy for profiles %s on http://%s; in the sandbox set HTTPS_PROXY=http://%s and trust the CA certificate %s (e.g. SSL_CERT_FILE, GIT_SSL_CAINFO)\n", strings.Join(c.Profiles, ","), addr, addr, caPath)
	err = p.Serve(ctx, ln, 30*time.Second)
	why := "interrupted"
	if c.TTL > 0 && ctx.Err() == context.DeadlineExceeded {
		why = "ttl"
	}
	log.Record(audit.Event{Kind: audit.KindProxyClose, Forward: addr, Via: addr, Profiles: c.Profiles, Reason: why})
	return err
}
