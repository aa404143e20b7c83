// Package testredis starts real redis-server and redis-sentinel processes
// for tests: on 127.0.0.1, on free ports, in temp directories, killed at
// cleanup. With LANYARD_E2E_REQUIRED=1 (CI) a missing binary fails the
// test instead of skipping it.
package testredis

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/redis/go-redis/v9"
)

// AdminPassword is the password of the default user of every test server.
const AdminPassword = "test-admin-password"

// Options configure a server.
type Options struct {
	// ACL lines added to the configuration ("user NAME on >PW ~prefix:* ...").
	ACL []string
	// TLS serves only TLS (tls-port) with a fresh CA; see Server.CAFile.
	TLS bool
	// ReplicaOf makes this server a replica of that one.
	ReplicaOf *Server
}

// Server is one redis-server process.
type Server struct {
	tb      testing.TB
	bin     string
	Dir     string
	Port    int
	conf    string
	cmd     *exec.Cmd
	CAFile  string // with TLS
	tlsConf *tls.Config
}

// Start starts redis-server with AOF on every write (appendfsync always),
// the durability lanyard's docs ask for.
func Start(tb testing.TB, opt Options) *Server {
	tb.Helper()
	bin := testbin.NeedTool(tb, "redis-server")
	s := &Server{tb: tb, bin: bin, Dir: tb.TempDir(), Port: freePort(tb)}
	lines := []string{
		"bind 127.0.0.1",
		"protected-mode no",
		"dir " + s.Dir,
		"appendonly yes",
		"appendfsync always",
		`save ""`,
		"logfile " + filepath.Join(s.Dir, "redis.log"),
		"user default on >" + AdminPassword + " ~* &* +@all",
		"masterauth " + AdminPassword,
		"masteruser default",
	}
	if opt.TLS {
		s.CAFile = writeTLS(tb, s.Dir)
		lines = append(lines, "port 0", "tls-port "+strconv.Itoa(s.Port),
			"tls-cert-file "+filepath.Join(s.Dir, "server.crt"), "tls-key-file "+filepath.Join(s.Dir, "server.key"),
			"tls-ca-cert-file "+s.CAFile, "tls-auth-clients no")
		pool := x509.NewCertPool()
		b, _ := os.ReadFile(s.CAFile)
		pool.AppendCertsFromPEM(b)
		s.tlsConf = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	} else {
		lines = append(lines, "port "+strconv.Itoa(s.Port))
	}
	if opt.ReplicaOf != nil {
		lines = append(lines, "replicaof 127.0.0.1 "+strconv.Itoa(opt.ReplicaOf.Port))
	}
	lines = append(lines, opt.ACL...)
	s.conf = filepath.Join(s.Dir, "redis.conf")
	if err := os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	s.start()
	tb.Cleanup(s.Kill)
	return s
}

func (s *Server) start() {
	s.tb.Helper()
	s.cmd = exec.Command(s.bin, s.conf)
	newProcessGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	s.waitReady()
}

// waitReady polls PING until the server loaded its data (bounded).
func (s *Server) waitReady() {
	s.tb.Helper()
	c := s.Admin()
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			s.tb.Fatalf("redis-server on port %d not ready: %v\n%s", s.Port, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr is 127.0.0.1:PORT.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is redis://127.0.0.1:PORT/0 (rediss:// with TLS).
func (s *Server) URL() string {
	if s.tlsConf != nil {
		return "rediss://" + s.Addr() + "/0"
	}
	return "redis://" + s.Addr() + "/0"
}

// Admin returns a client authenticated as the default user.
func (s *Server) Admin() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr(), Password: AdminPassword, TLSConfig: s.tlsConf, Protocol: 2,
		DisableIdentity: true, MaxRetries: -1, DialTimeout: time.Second})
}

// Kill sends SIGKILL to the server and waits for it to exit. Idempotent.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	killProcessGroup(s.cmd)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port and data directory
// (after Kill): it reloads its append-only file.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	s.start()
}

// Dump returns every key and every value (strings, hashes) in the server.
func (s *Server) Dump(tb testing.TB) map[string]string {
	tb.Helper()
	ctx := context.Background()
	c := s.Admin()
	defer c.Close()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		typ, _ := c.Type(ctx, k).Result()
		switch typ {
		case "string":
			out[k], _ = c.Get(ctx, k).Result()
		case "hash":
			m, _ := c.HGetAll(ctx, k).Result()
			var b strings.Builder
			for _, f := range slices.Sorted(maps.Keys(m)) {
				b.WriteString(f + "=" + m[f] + "\n")
			}
			out[k] = b.String()
		default:
			out[k] = "<" + typ + ">"
		}
	}
	return out
}

// WaitReplicating polls a replica until its link to the primary is up.
func (s *Server) WaitReplicating(tb testing.TB) {
	tb.Helper()
	waitInfo(tb, s.Port, "master_link_status:up")
}

// WaitConnectedReplicas polls the server on port until n replicas are
// connected to it (after a failover, Sentinel repoints the others).
func WaitConnectedReplicas(tb testing.TB, port, n int) {
	tb.Helper()
	waitInfo(tb, port, "connected_slaves:"+strconv.Itoa(n))
}

// waitInfo polls INFO replication of the (non-TLS) server on port until it
// contains want, for at most 30 s.
func waitInfo(tb testing.TB, port int, want string) {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Password: AdminPassword, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := c.Info(context.Background(), "replication").Result()
		if err == nil && strings.Contains(info, want) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("server on port %d: want %s in INFO replication: %v\n%s", port, want, err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Sentinel is one redis-sentinel process.
type Sentinel struct {
	Port int
	cmd  *exec.Cmd
}

// StartSentinel starts a Sentinel monitoring primary as master name with
// quorum 1 and a 1 s down-after, so a killed primary fails over in seconds.
func StartSentinel(tb testing.TB, primary *Server, name string) *Sentinel {
	tb.Helper()
	bin := testbin.NeedTool(tb, "redis-sentinel")
	dir := tb.TempDir()
	s := &Sentinel{Port: freePort(tb)}
	conf := filepath.Join(dir, "sentinel.conf")
	lines := []string{
		"bind 127.0.0.1",
		"port " + strconv.Itoa(s.Port),
		"dir " + dir,
		"logfile " + filepath.Join(dir, "sentinel.log"),
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1", name, primary.Port),
		"sentinel auth-user " + name + " default",
		"sentinel auth-pass " + name + " " + AdminPassword,
		"sentinel down-after-milliseconds " + name + " 1000",
		"sentinel failover-timeout " + name + " 5000",
	}
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	s.cmd = exec.Command(bin, conf)
	newProcessGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		killProcessGroup(s.cmd)
		_ = s.cmd.Wait()
	})
	c := s.client()
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := c.GetMasterAddrByName(context.Background(), name).Result(); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			tb.Fatalf("redis-sentinel not ready:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr is 127.0.0.1:PORT.
func (s *Sentinel) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

func (s *Sentinel) client() *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
}

// WaitMaster polls the Sentinel until it names a master other than old
// (after a failover), bounded by timeout, and returns its port.
func (s *Sentinel) WaitMaster(tb testing.TB, name string, old int, timeout time.Duration) int {
	tb.Helper()
	c := s.client()
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		addr, err := c.GetMasterAddrByName(context.Background(), name).Result()
		if err == nil && len(addr) == 2 && addr[1] != strconv.Itoa(old) {
			p, _ := strconv.Atoi(addr[1])
			return p
		}
		if time.Now().After(deadline) {
			tb.Fatalf("sentinel did not fail over within %s (master %v, err %v)", timeout, addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeTLS makes a CA and a server certificate for 127.0.0.1 in dir and
// returns the CA file.
func writeTLS(tb testing.TB, dir string) string {
	tb.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lanyard test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	write("ca.crt", "CERTIFICATE", caDER)
	write("server.crt", "CERTIFICATE", der)
	write("server.key", "EC PRIVATE KEY", keyDER)
	return filepath.Join(dir, "ca.crt")
}
