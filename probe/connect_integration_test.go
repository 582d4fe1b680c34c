//go:build linux

package probe

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

// The integration tests run Debian's tinyproxy and squid as the test's own
// processes: a config file in a temporary directory, a free loopback port,
// foreground, killed at cleanup. No system service, no default config.

const (
	realProxyUser = "alice"
	realProxyPass = "s3cret"
	// realProxyHash is realProxyPass for squid's basic_ncsa_auth, made with
	// `openssl passwd -apr1 -salt abcdefgh s3cret`.
	realProxyHash = "$apr1$abcdefgh$M2T3erDstkD7SsE2QQnfH0"
)

// needBinary returns the path of a Debian tool, skipping the test when it is
// missing, unless CI=true, where a missing tool is a failure.
func needBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (apt-get install -y %s); .ci/run installs it", name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// worldDir is a temporary directory squid can use after it drops root for
// its effective user (t.TempDir is 0700).
func worldDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "egressprobe-proxy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startDaemon runs the command argv(port) builds, in its own process group,
// until the test ends, and waits, bounded, for it to listen on port. A daemon
// that exits first is retried on a new port: a port free a moment ago can be
// taken by another test's client socket before the daemon binds it. logs are
// files shown when it fails.
func startDaemon(t *testing.T, logs []string, argv func(port int) []string) int {
	t.Helper()
	var name, why string
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		cmd := argv(port)
		ok, out := runDaemon(t, port, cmd)
		if ok {
			return port
		}
		name, why = cmd[0], out
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			why += "\n--- " + l + "\n" + string(b)
		}
	}
	t.Fatalf("%s did not start listening in 3 attempts; last output:\n%s", name, why)
	return 0
}

// runDaemon starts one attempt; it reports whether the daemon listens within
// 20 s, else its output (and it is killed).
func runDaemon(t *testing.T, port int, argv []string) (bool, string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The whole group: squid's auth helpers too.
	kill := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			return false, fmt.Sprintf("exited: %v\n%s", err, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			t.Cleanup(kill)
			return true, ""
		}
	}
	kill()
	return false, "did not listen on " + addr + " within 20s\n" + out.String()
}

// writeFile writes a config file readable by a daemon that dropped root.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// realProxyLab is the targets the real proxies are tested against.
type realProxyLab struct {
	ca                *testnet.CA
	allowed, unserved int // TLS server port the ACL allows; an allowed port where nothing listens (on unservedIP)
	denied            int // TLS server port the ACL refuses
}

func newRealProxyLab(t *testing.T) realProxyLab {
	t.Helper()
	ca := testnet.NewCA(t, "egressprobe test root")
	cert := ca.Leaf(t, []string{"target.test"}, nil, testnet.LeafOptions{})
	allowed := testnet.ServeHTTP(t, "127.0.0.1", testnet.NCSI(testnet.NCSIBody), &cert)
	denied := testnet.ServeHTTP(t, "127.0.0.1", testnet.NCSI(testnet.NCSIBody), &cert)
	return realProxyLab{ca: ca, allowed: int(allowed.Port()), denied: int(denied.Port()), unserved: freePort(t)}
}

// unservedIP is where the unserved port is dialled: a loopback address no
// test listens on, so the port stays closed however long the test runs.
const unservedIP = "127.255.254.253"

func startTinyproxy(t *testing.T, lab realProxyLab) *url.URL {
	bin := needBinary(t, "tinyproxy", "tinyproxy")
	dir := worldDir(t)
	path := filepath.Join(dir, "tinyproxy.conf")
	port := startDaemon(t, nil, func(port int) []string {
		conf := fmt.Sprintf(`Port %d
Listen 127.0.0.1
Timeout 10
MaxClients 20
LogLevel Info
PidFile "%s/tinyproxy.pid"
Allow 127.0.0.1
ConnectPort %d
ConnectPort %d
BasicAuth %s %s
`, port, dir, lab.allowed, lab.unserved, realProxyUser, realProxyPass)
		writeFile(t, path, conf)
		return []string{bin, "-d", "-c", path}
	})
	return &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
}

func startSquid(t *testing.T, lab realProxyLab) *url.URL {
	bin := needBinary(t, "squid", "squid")
	helper := "/usr/lib/squid/basic_ncsa_auth"
	if !isExecutable(helper) {
		needBinary(t, "basic_ncsa_auth", "squid")
	}
	dir := worldDir(t)
	htpasswd := filepath.Join(dir, "htpasswd")
	writeFile(t, htpasswd, realProxyUser+":"+realProxyHash+"\n")
	path := filepath.Join(dir, "squid.conf")
	port := startDaemon(t, []string{filepath.Join(dir, "cache.log")}, func(port int) []string {
		conf := fmt.Sprintf(`http_port 127.0.0.1:%[1]d
pid_filename %[2]s/squid.pid
cache_effective_user proxy
cache deny all
cache_mem 1 MB
access_log stdio:%[2]s/access.log
cache_log %[2]s/cache.log
cache_store_log none
coredump_dir %[2]s
netdb_filename none
icp_port 0
htcp_port 0
pinger_enable off
shutdown_lifetime 0 seconds
dns_nameservers 127.0.0.1
auth_param basic program %[3]s %[4]s
auth_param basic realm egressprobe-test
auth_param basic children 2 startup=1
acl allowed_ports port %[5]d %[6]d
acl blocked_host dst 127.0.0.2
acl authed proxy_auth REQUIRED
http_access deny CONNECT !allowed_ports
http_access deny blocked_host
http_access allow authed
http_access deny all
`, port, dir, helper, htpasswd, lab.allowed, lab.unserved)
		writeFile(t, path, conf)
		return []string{bin, "-N", "-d", "1", "-f", path}
	})
	return &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
}

// TestConnectRealProxies runs CONNECT through Debian's tinyproxy and squid,
// with and without credentials, to targets their ACLs allow and deny and to
// one that refuses, then checks their own error pages for plain HTTP.
func TestConnectRealProxies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts tinyproxy and squid")
	}
	lab := newRealProxyLab(t)
	proxies := []struct {
		name  string
		start func(*testing.T, realProxyLab) *url.URL
		// denyHost: the proxy's ACL refuses 127.0.0.2 (squid's dst ACL).
		denyHost bool
	}{
		{"tinyproxy", startTinyproxy, false},
		{"squid", startSquid, true},
	}
	for _, px := range proxies {
		t.Run(px.name, func(t *testing.T) {
			t.Parallel()
			base := px.start(t, lab)
			type check struct {
				name       string
				user, pass string
				target     string
				want       Outcome
			}
			target := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
			checks := []check{
				{"no credentials", "", "", target(lab.allowed), ProxyAuthRequired},
				{"wrong password", realProxyUser, "wrong", target(lab.allowed), ProxyAuthRequired},
				{"allowed", realProxyUser, realProxyPass, target(lab.allowed), OK},
				{"port denied by ACL", realProxyUser, realProxyPass, target(lab.denied), ProxyDenied},
				{"target refuses", realProxyUser, realProxyPass, net.JoinHostPort(unservedIP, strconv.Itoa(lab.unserved)), ProxyError},
			}
			if px.denyHost {
				checks = append(checks, check{"host denied by ACL", realProxyUser, realProxyPass,
					net.JoinHostPort("127.0.0.2", strconv.Itoa(lab.allowed)), ProxyDenied})
			}
			for _, c := range checks {
				route := proxy.Route{Proxy: base, Source: proxy.SourceFlag}
				if c.user != "" {
					route.Proxy = withUser(base, c.user, c.pass)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				conn, res := Connect(ctx, route, c.target)
				cancel()
				t.Logf("%s: %s %d %s", c.name, res.Outcome, res.StatusCode, res.Error)
				if res.Outcome != c.want {
					t.Errorf("%s: CONNECT %s = %s (%d %q), want %s", c.name, c.target, res.Outcome, res.StatusCode, res.Error, c.want)
				}
				if strings.Contains(res.Error, realProxyPass) && c.pass == realProxyPass {
					t.Errorf("%s: the error leaks the password: %q", c.name, res.Error)
				}
				if res.ProxyAddr != base.Host {
					t.Errorf("%s: ProxyAddr %q, want %q", c.name, res.ProxyAddr, base.Host)
				}
				if conn != nil {
					tunnelGET(t, conn, lab.ca)
				}
			}
			checkProxyErrorPages(t, lab, base, px.name, px.denyHost)
		})
	}
}

// checkProxyErrorPages: a plain-HTTP GET the proxy at base answers with its
// own error page is the proxy's hop, as for CONNECT: tinyproxy's 500 "Unable
// to connect", squid's 503 ERR_CONNECT_FAIL and, where the proxy denies the
// host (denyHost), 403 ERR_ACCESS_DENIED.
func checkProxyErrorPages(t *testing.T, lab realProxyLab, base *url.URL, name string, denyHost bool) {
	t.Helper()
	gets := []struct {
		host string
		want Outcome
	}{{unservedIP, ProxyError}}
	if denyHost {
		gets = append(gets, struct {
			host string
			want Outcome
		}{"127.0.0.2", ProxyDenied})
	}
	for _, g := range gets {
		route := proxy.Route{Proxy: withUser(base, realProxyUser, realProxyPass), Source: proxy.SourceFlag}
		obs := Run(context.Background(), []Target{{Host: g.host, Port: uint16(lab.unserved), Scheme: "http", URLPath: "/",
			Route: route, Timeout: 15 * time.Second}}, RunOptions{})
		if o := obs[0]; o.Outcome != g.want || strings.Contains(o.Error, realProxyPass) {
			t.Errorf("GET http://%s:%d/ through %s: %s (%s), want %s naming the proxy, no password", g.host, lab.unserved, name, o.Outcome, o.Error, g.want)
		}
	}
}
