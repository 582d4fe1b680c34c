package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"egressprobe/daemon"
	"egressprobe/internal/realnet"
	"egressprobe/internal/testnet"
	"egressprobe/probe"
)

// netnsLab is a network namespace holding everything a daemon test needs
// and nothing else: Debian's unbound on port 53 answering lab.test, squid
// and tinyproxy, an HTTPS server for app.lab.test, and the daemon itself.
type netnsLab struct {
	ns                   *testnet.Netns
	l                    *lab
	unbound, squid, tiny *realnet.Server
	p                    *daemonProc
	target               string // the daemon's target, https://app.lab.test:8443/
}

const (
	netnsTarget = "app.lab.test"
	netnsPort   = 8443
	// netnsZone answers app.lab.test with the server; netnsZoneGone,
	// the same zone without it (NXDOMAIN).
	netnsZone     = "  local-zone: \"lab.test.\" static\n  local-data: \"app.lab.test. 5 IN A 127.0.0.1\"\n"
	netnsZoneGone = "  local-zone: \"lab.test.\" static\n"
)

// squidRules let CONNECT to the lab's port through, or deny app.lab.test
// (squid's 403, proxy_denied).
func squidRules(deny bool) string {
	rules := fmt.Sprintf("acl lab_port port %d\nacl app dstdomain %s\n", netnsPort, netnsTarget)
	if deny {
		rules += "http_access deny app\n"
	}
	return rules + "http_access allow CONNECT lab_port\nhttp_access deny all\n"
}

func newNetnsLab(t *testing.T) *netnsLab {
	t.Helper()
	x := &netnsLab{ns: testnet.NewNetns(t), l: newLab(t)}
	at := realnet.At{NS: x.ns}
	x.unbound = realnet.Unbound(t, realnet.At{NS: x.ns, Port: 53}, netnsZone)
	x.ns.ResolvConf(t, "127.0.0.1") // tinyproxy resolves with the system's resolver
	x.squid = realnet.Squid(t, at, "127.0.0.1", squidRules(false))
	x.tiny = realnet.Tinyproxy(t, at, fmt.Sprintf("ConnectPort %d\n", netnsPort))
	cert := x.l.ca.Leaf(t, []string{netnsTarget}, nil, testnet.LeafOptions{})
	testnet.ServeHTTPOn(t, x.ns.Listen(t, fmt.Sprintf("127.0.0.1:%d", netnsPort)), testnet.NCSI("ok"), &cert)
	x.target = fmt.Sprintf("https://%s:%d/", netnsTarget, netnsPort)
	return x
}

// config is the daemon's config, probing the target direct and through
// proxy, resolving with unbound.
func (x *netnsLab) config(proxy *realnet.Server) string {
	return fmt.Sprintf(`version: 1
schedule: {interval: 1s, jitter: 0%%}
targets: ["%s"]
resolvers: [127.0.0.1]
proxy: %s
path: both
ca_file: %s
timeout: 5s
log: {records: all, summary_every: 1m, compress: false}
`, x.target, proxy.URL(), x.l.caFile)
}

// transition waits for the target's next transition on path to outcome.
func (x *netnsLab) transition(t *testing.T, path probe.Path, to string) *daemon.Transition {
	t.Helper()
	return x.p.waitFor(t, fmt.Sprintf("%s → %s", path, to), x.p.lastSeq(t), func(r *daemon.Record) bool {
		return r.Type == daemon.TypeTransition && r.Transition.Host == netnsTarget && r.Transition.Path == path && r.Transition.To == to
	}).Transition
}

// metric scrapes the daemon from inside the namespace and returns the
// value of the target's series name on path (and outcome, when not "").
func (x *netnsLab) metric(t *testing.T, name, path, outcome string) string {
	t.Helper()
	var conn net.Conn
	var err error
	x.ns.Do(t, func() { conn, err = net.DialTimeout("tcp", x.p.metrics, 5*time.Second) })
	if err != nil {
		t.Fatalf("scraping the daemon in %s: %v", x.ns.Name, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", x.p.metrics)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if outcome != "" {
		outcome = fmt.Sprintf(`outcome="%s",`, outcome)
	}
	series := fmt.Sprintf(`egressprobe_%s{family="custom",host="%s:%d",%spath="%s",resolver="127.0.0.1:53"} `, name, netnsTarget, netnsPort, outcome, path)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			return v
		}
	}
	t.Fatalf("no %s in the metrics:\n%s", series, grepLines(string(body), name))
	return ""
}

// TestDaemonNetnsRealProxiesAndResolver runs the daemon binary in a network
// namespace of its own with Debian's unbound as its resolver and squid,
// then tinyproxy, as its proxy, probing an HTTPS server there direct and
// through the proxy. Each change made to the real servers is a transition
// naming the step and the hop, and the metrics follow: squid's ACL
// reloaded to deny the name (proxy_denied at squid) and back (ok, with the
// outage); the daemon reloaded onto tinyproxy, whose reloaded ConnectPort
// then refuses the port (proxy_denied at tinyproxy); unbound reloaded
// without the name (dns_nxdomain at unbound).
func TestDaemonNetnsRealProxiesAndResolver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts unbound, squid and tinyproxy in a network namespace")
	}
	x := newNetnsLab(t)
	x.p = startDaemonBy(t, x.ns.Command, x.config(x.squid))
	okOn := func(path probe.Path) func(r *daemon.Record) bool {
		return func(r *daemon.Record) bool {
			return r.Type == daemon.TypeResult && r.Result.Host == netnsTarget && r.Result.Path == path && r.Result.Status == "ok"
		}
	}
	x.p.waitFor(t, "the target ok direct", 0, okOn("direct"))
	x.p.waitFor(t, "the target ok through squid", 0, okOn("proxy"))

	x.squid.Reload(t, squidRules(true))
	denied := x.transition(t, "proxy", "proxy_denied")
	if denied.From != "ok" || denied.Step != "proxy" || denied.Hop == nil || denied.Hop.Address != x.squid.Addr {
		t.Errorf("squid's denial: %+v (hop %+v), want ok → proxy_denied at the proxy step, hop %s", denied, denied.Hop, x.squid.Addr)
	}
	if v := x.metric(t, "probe_success", "proxy", ""); v != "0" {
		t.Errorf("probe_success through the denying squid = %s, want 0", v)
	}
	x.squid.Reload(t, squidRules(false))
	if back := x.transition(t, "proxy", "ok"); back.From != "proxy_denied" || back.OutageSeconds == nil || *back.OutageSeconds <= 0 {
		t.Errorf("squid allowing again: %+v, want proxy_denied → ok with the outage", back)
	}

	x.switchToTinyproxy(t)
	x.tiny.Reload(t, fmt.Sprintf("ConnectPort %d\n", netnsPort+1))
	if denied := x.transition(t, "proxy", "proxy_denied"); denied.Hop == nil || denied.Hop.Address != x.tiny.Addr {
		t.Errorf("tinyproxy's denial: %+v (hop %+v), want the hop at tinyproxy %s", denied, denied.Hop, x.tiny.Addr)
	}

	x.unbound.Reload(t, netnsZoneGone)
	gone := x.transition(t, "direct", "dns_nxdomain")
	if gone.From != "ok" || gone.Step != "dns" || gone.Hop == nil || gone.Hop.Resolver != "127.0.0.1:53" {
		t.Errorf("the name gone at unbound: %+v (hop %+v), want ok → dns_nxdomain at the dns step, resolver 127.0.0.1:53", gone, gone.Hop)
	}
	if v := x.metric(t, "results_total", "direct", "dns_nxdomain"); v == "0" {
		t.Errorf("results_total{outcome=dns_nxdomain} = %s after the name went", v)
	}
	x.p.stop(t, 20*time.Second)
}

// switchToTinyproxy reloads the daemon's config onto tinyproxy (SIGHUP)
// and waits for a result through it.
func (x *netnsLab) switchToTinyproxy(t *testing.T) {
	t.Helper()
	x.p.writeConfig(t, x.config(x.tiny))
	seq := x.p.lastSeq(t)
	if err := x.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reload := x.p.waitFor(t, "the reload onto tinyproxy", seq, func(r *daemon.Record) bool {
		return r.Type == daemon.TypeLifecycle && r.Lifecycle.Event == daemon.EventReload
	})
	if reload.Lifecycle.OK == nil || !*reload.Lifecycle.OK {
		t.Fatalf("the reload onto tinyproxy was rejected: %+v", reload.Lifecycle)
	}
	x.p.waitFor(t, "a result through tinyproxy", reload.Seq, func(r *daemon.Record) bool {
		return r.Type == daemon.TypeResult && r.Result.Host == netnsTarget && r.Result.Path == "proxy" && r.Result.Status == "ok"
	})
}
