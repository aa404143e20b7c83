package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// proxyLatency measures what lanyard proxy adds to one HTTPS request:
// the same GET to a TLS server on 127.0.0.1, directly and through the
// proxy (which terminates TLS, takes the token from the agent's memory and
// verifies the upstream), on a reused connection and on a new one.
func (b *bench) proxyLatency(ctx context.Context) {
	sec := Section{Title: fmt.Sprintf("lanyard proxy: one HTTPS GET to 127.0.0.1, directly and through the proxy (token added),\n  min / median of %d requests each, round-robin", b.opt.Rounds*5)}
	defer func() { b.table.Sections = append(b.table.Sections, sec) }()
	na := func(why string) {
		sec.Rows = append(sec.Rows, Row{Figure: "proxy", Measured: NA + " (" + why + ")", Result: NA})
	}
	rows, err := b.measureProxy(ctx)
	if err != nil {
		b.logf("proxy: %v", err)
		na(firstLine(err.Error()))
		return
	}
	sec.Rows = rows
}

func (b *bench) measureProxy(ctx context.Context) ([]Row, error) {
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: time.Hour})
	if err != nil {
		return nil, err
	}
	defer op.Close()
	ca, err := testprovider.NewCA("bench upstream CA")
	if err != nil {
		return nil, err
	}
	cert, err := ca.Issue("127.0.0.1", true)
	if err != nil {
		return nil, err
	}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && !op.Valid(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	}))
	up.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	up.StartTLS()
	defer up.Close()

	env, err := NewEnv(filepath.Join(filepath.Dir(b.env.Home), "proxy"), b.built.Dir)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(filepath.Dir(env.Home), "upstream-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		return nil, err
	}
	env.Set("SSL_CERT_FILE", caFile)
	env.Set("LANYARD_BENCH_OP_SECRET", op.ConfidentialClientSecret)
	if err := env.WriteConfig(fmt.Sprintf("[profiles.px]\nissuer = %q\ngrant = \"client_credentials\"\nclient_id = %q\nclient_secret = \"env:LANYARD_BENCH_OP_SECRET\"\nmatch = [%q]\n", op.Issuer, op.ConfidentialClientID, up.URL+"/")); err != nil {
		return nil, err
	}
	stop, err := b.useAgent(env)
	if err != nil {
		return nil, err
	}
	defer stop()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, b.built.Path[cmdLanyard], "proxy", "--profiles", "px")
	cmd.Env = env.Vars()
	cmd.Stderr = b.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := make(chan []string, 1)
	go func() {
		br := bufio.NewReader(out)
		a, _ := br.ReadString('\n')
		c, _ := br.ReadString('\n')
		lines <- []string{strings.TrimSpace(a), strings.TrimSpace(c)}
		_, _ = io.Copy(io.Discard, br)
	}()
	var proxyAddr, proxyCA string
	select {
	case l := <-lines:
		proxyAddr, proxyCA = l[0], l[1]
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("lanyard proxy printed nothing within 30s")
	}
	pem, err := os.ReadFile(proxyCA)
	if err != nil {
		return nil, err
	}
	proxyURL, err := url.Parse(proxyAddr)
	if err != nil {
		return nil, err
	}
	client := func(viaProxy, keepAlive bool) *http.Client {
		pool := x509.NewCertPool()
		tr := &http.Transport{DisableKeepAlives: !keepAlive, TLSClientConfig: &tls.Config{RootCAs: pool}}
		if viaProxy {
			pool.AppendCertsFromPEM(pem)
			tr.Proxy = http.ProxyURL(proxyURL)
		} else {
			pool.AppendCertsFromPEM(ca.PEM)
		}
		return &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	get := func(c *http.Client) (time.Duration, error) {
		start := time.Now()
		resp, err := c.Get(up.URL + "/x")
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("GET through %v: %s", c.Transport.(*http.Transport).Proxy != nil, resp.Status)
		}
		return time.Since(start), nil
	}
	n := b.opt.Rounds * 5
	var rows []Row
	for _, keep := range []bool{true, false} {
		direct, proxied := client(false, keep), client(true, keep)
		var ds, ps Sample
		for i := 0; i < n+b.opt.Warmup; i++ {
			d, err := get(direct)
			if err != nil {
				return nil, err
			}
			p, err := get(proxied)
			if err != nil {
				return nil, err
			}
			if i >= b.opt.Warmup {
				ds.Walls, ps.Walls = append(ds.Walls, d), append(ps.Walls, p)
			}
		}
		kind := "reused connection"
		if !keep {
			kind = "new connection (TCP + TLS each time)"
		}
		added := ps.Median() - ds.Median()
		rows = append(rows,
			Row{Figure: "direct, " + kind, Measured: minMed(ds), Target: "baseline", Result: Ref, Store: "-"},
			Row{Figure: "through lanyard proxy, " + kind, Measured: fmt.Sprintf("%s, +%.2f ms per request", minMed(ps), float64(added)/float64(time.Millisecond)), Target: "reported", Result: Ref, Store: "agent memory"})
	}
	return rows, nil
}
