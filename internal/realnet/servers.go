//go:build linux

package realnet

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// Tinyproxy starts Debian's tinyproxy at at, its config the fixed part
// (port, loopback only, foreground) and body: ConnectPort, BasicAuth,
// Filter lines. Reload rereads it (SIGUSR1). Names it resolves with this
// host's resolver, or in a namespace with the one Netns.ResolvConf names.
func Tinyproxy(t testing.TB, at At, body string) *Server {
	t.Helper()
	return launch(t, at, "tinyproxy", syscall.SIGUSR1, body, func(s *Server) {
		s.head = func(port int) string {
			return fmt.Sprintf("Port %d\nListen 127.0.0.1\nTimeout 10\nMaxClients 20\nLogLevel Info\nPidFile \"%s/tinyproxy.pid\"\nAllow 127.0.0.1\n", port, s.Dir)
		}
		s.argv = []string{"-d", "-c", s.path}
	})
}

// Squid starts Debian's squid at at (no cache, its DNS from dns, which may
// be "" for 127.0.0.1), its config the fixed part and body: auth_param,
// acl and http_access lines (SquidAuth makes the first). Reload rereads it
// (SIGHUP, as squid -k reconfigure).
func Squid(t testing.TB, at At, dns, body string) *Server {
	t.Helper()
	if dns == "" {
		dns = "127.0.0.1"
	}
	return launch(t, at, "squid", syscall.SIGHUP, body, func(s *Server) {
		s.logs = []string{filepath.Join(s.Dir, "cache.log")}
		s.head = func(port int) string {
			return fmt.Sprintf(`http_port 127.0.0.1:%[1]d
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
dns_nameservers %[3]s
`, port, s.Dir, dns)
		}
		s.argv = []string{"-N", "-d", "1", "-f", s.path}
	})
}

// SquidAuth is the auth_param lines of basic authentication against
// user:hash (an apr1 hash, `openssl passwd -apr1`), the file written in dir.
func SquidAuth(t testing.TB, dir, user, hash string) string {
	t.Helper()
	helper := "/usr/lib/squid/basic_ncsa_auth"
	if !IsExecutable(helper) {
		helper = NeedBinary(t, "basic_ncsa_auth", "squid")
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	WriteFile(t, htpasswd, user+":"+hash+"\n")
	return fmt.Sprintf("auth_param basic program %s %s\nauth_param basic realm egressprobe-test\nauth_param basic children 2 startup=1\n", helper, htpasswd)
}

// Unbound starts Debian's unbound at at, answering its local zones itself
// (body: local-zone and local-data lines, then any Forward zones) and never
// reaching the internet. Reload rereads it (SIGHUP: new data, cache
// flushed).
func Unbound(t testing.TB, at At, body string) *Server {
	t.Helper()
	return launch(t, at, "unbound", syscall.SIGHUP, body, func(s *Server) {
		s.head = func(port int) string {
			return fmt.Sprintf(`server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  do-daemonize: no
  chroot: ""
  username: ""
  directory: %q
  pidfile: %q
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  qname-minimisation: no
  # unbound answers the special-use "test." itself by default; forward it instead.
  local-zone: "test." nodefault
remote-control:
  control-enable: no
server:
`, port, s.Dir, filepath.Join(s.Dir, "unbound.pid"))
		}
		s.argv = []string{"-d", "-c", s.path}
	})
}

// launch starts the Debian package name's daemon of the same name at at,
// in a folder of its own, its config set up by setup; sig rereads it.
func launch(t testing.TB, at At, name string, sig syscall.Signal, body string, setup func(*Server)) *Server {
	t.Helper()
	bin := NeedBinary(t, name, name)
	dir := WorldDir(t)
	s := &Server{Dir: dir, at: at, path: filepath.Join(dir, name+".conf"), reload: sig}
	setup(s)
	s.argv = append([]string{bin}, s.argv...)
	s.start(t, body)
	return s
}

// Forward is the forward-zone clauses that send each zone to its upstream
// ("IP:PORT"), in a stable order.
func Forward(upstreams map[string]string) string {
	var b strings.Builder
	for _, zone := range slices.Sorted(maps.Keys(upstreams)) {
		fmt.Fprintf(&b, "forward-zone:\n  name: %q\n  forward-addr: %s\n", zone, strings.Replace(upstreams[zone], ":", "@", 1))
	}
	return b.String()
}
