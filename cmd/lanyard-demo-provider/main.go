// Command lanyard-demo-provider runs the test OpenID provider and the four
// seed-API emulators of internal/testprovider on 127.0.0.1, for demos and
// benchmarks that run lanyard as separate processes.
//
// It prints ONE line of JSON on stdout with every URL, client id/secret (test
// values), test user and pre-issued refresh tokens, ending with "ready":true,
// then serves until SIGINT or SIGTERM. Every server answers
// GET /_lanyard/stats and POST /_lanyard/revoke-access.
//
// Usage:
//
//	lanyard-demo-provider [-access-ttl 2s] [-demo-dir DIR] [-v]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

type output struct {
	OP               opInfo        `json:"op"`
	WhenFresh        whenFreshInfo `json:"whenfresh"`
	Shopware         shopwareInfo  `json:"shopware"`
	Whiplash         whiplashInfo  `json:"whiplash"`
	Whisk            whiskInfo     `json:"whisk"`
	StatsPath        string        `json:"stats_path"`
	RevokeAccessPath string        `json:"revoke_access_path"`
	Ready            bool          `json:"ready"`
}

type opInfo struct {
	Issuer                   string `json:"issuer"`
	TokenURL                 string `json:"token_url"`
	AuthURL                  string `json:"auth_url"`
	DeviceAuthURL            string `json:"device_auth_url"`
	RevocationURL            string `json:"revocation_url"`
	ConfidentialClientID     string `json:"confidential_client_id"`
	ConfidentialClientSecret string `json:"confidential_client_secret"`
	PublicClientID           string `json:"public_client_id"`
	Username                 string `json:"username"`
	Password                 string `json:"password"`
}

type whenFreshInfo struct {
	URL                   string `json:"url"`
	IDURL                 string `json:"id_url"`
	TokenURL              string `json:"token_url"`
	DeveloperClientID     string `json:"developer_client_id"`
	DeveloperRefreshToken string `json:"developer_refresh_token"`
	MachineClientID       string `json:"machine_client_id"`
	MachineClientSecret   string `json:"machine_client_secret"`
}

type shopwareInfo struct {
	URL           string `json:"url"`
	TokenURL      string `json:"token_url"`
	AdminClientID string `json:"admin_client_id"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	RefreshToken  string `json:"refresh_token"`
}

type whiplashInfo struct {
	URL          string `json:"url"`
	AuthURL      string `json:"auth_url"`
	TokenURL     string `json:"token_url"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	CallbackURL  string `json:"callback_url"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	RefreshToken string `json:"refresh_token"`
}

type whiskInfo struct {
	URL          string `json:"url"`
	AuthURL      string `json:"auth_url"`
	TokenURL     string `json:"token_url"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RedirectURI  string `json:"redirect_uri"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	RefreshToken string `json:"refresh_token"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lanyard-demo-provider:", err)
		os.Exit(1)
	}
}

func run() error {
	ttl := flag.Duration("access-ttl", 0, "lifetime of access tokens on every server (0: each provider's documented default; OP 5m)")
	verbose := flag.Bool("v", false, "log the OP's request errors on stderr")
	demoDir := flag.String("demo-dir", "", "also write config.toml (one profile per provider), secret files and env.sh into this directory")
	flag.Parse()
	if !*verbose {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}

	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()

	o, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: *ttl})
	if err != nil {
		return err
	}
	closers = append(closers, o)
	wf, err := testprovider.StartWhenFresh()
	if err != nil {
		return err
	}
	closers = append(closers, wf)
	sw, err := testprovider.StartShopware()
	if err != nil {
		return err
	}
	closers = append(closers, sw)
	wl, err := testprovider.StartWhiplash()
	if err != nil {
		return err
	}
	closers = append(closers, wl)
	wk, err := testprovider.StartWhisk()
	if err != nil {
		return err
	}
	closers = append(closers, wk)
	if *ttl > 0 {
		for _, s := range []interface{ SetAccessTTL(time.Duration) }{wf, sw, wl, wk} {
			s.SetAccessTTL(*ttl)
		}
	}

	out := output{
		OP: opInfo{
			Issuer: o.Issuer, TokenURL: o.TokenURL, AuthURL: o.AuthURL, DeviceAuthURL: o.DeviceAuthURL, RevocationURL: o.RevocationURL,
			ConfidentialClientID: o.ConfidentialClientID, ConfidentialClientSecret: o.ConfidentialClientSecret,
			PublicClientID: o.PublicClientID, Username: o.Username, Password: o.Password,
		},
		WhenFresh: whenFreshInfo{
			URL: wf.URL, IDURL: wf.IDURL, TokenURL: wf.TokenURL, DeveloperClientID: wf.DeveloperClientID,
			DeveloperRefreshToken: wf.IssueRefreshToken(), MachineClientID: wf.MachineClientID, MachineClientSecret: wf.MachineClientSecret,
		},
		Shopware: shopwareInfo{
			URL: sw.URL, TokenURL: sw.TokenURL, AdminClientID: sw.AdminClientID, ClientID: sw.ClientID, ClientSecret: sw.ClientSecret,
			Username: sw.Username, Password: sw.Password, RefreshToken: sw.IssueRefreshToken(),
		},
		Whiplash: whiplashInfo{
			URL: wl.URL, AuthURL: wl.AuthURL, TokenURL: wl.TokenURL, ClientID: wl.ClientID, ClientSecret: wl.ClientSecret,
			CallbackURL: wl.CallbackURL, Username: wl.Username, Password: wl.Password, RefreshToken: wl.IssueRefreshToken(),
		},
		Whisk: whiskInfo{
			URL: wk.URL, AuthURL: wk.AuthURL, TokenURL: wk.TokenURL, ClientID: wk.ClientID, ClientSecret: wk.ClientSecret,
			RedirectURI: wk.RedirectURI, Username: wk.Username, Password: wk.Password, RefreshToken: wk.IssueRefreshToken(),
		},
		StatsPath:        testprovider.StatsPath,
		RevokeAccessPath: testprovider.RevokeAccessPath,
		Ready:            true,
	}
	if *demoDir != "" {
		if err := writeDemoFiles(*demoDir, out); err != nil {
			return err
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
