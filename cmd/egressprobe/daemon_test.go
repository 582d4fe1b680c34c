//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"egressprobe/daemon"
	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/probe"
)

// The daemon tests run the built binary as a service manager does, against
// loopback servers the test starts, stops and restarts.

// daemonProc is a running `egressprobe daemon`.
type daemonProc struct {
	cmd     *exec.Cmd
	stderr  string // the file the daemon's stderr goes to
	dir     string
	log     string // the records file
	metrics string // host:port
	done    chan error
}

// stderrText reads what a process the test started wrote to its stderr file.
func stderrText(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// startDaemon writes config (the log file and metrics address are added)
// and starts the daemon with env.
func startDaemon(t *testing.T, config string, env ...string) *daemonProc {
	t.Helper()
	return startDaemonBy(t, exec.Command, config, env...)
}

// startDaemonBy is startDaemon with the process made by command (as
// exec.Command, or a network namespace's Command).
func startDaemonBy(t *testing.T, command func(string, ...string) *exec.Cmd, config string, env ...string) *daemonProc {
	t.Helper()
	dir := testenv.TempDir(t)
	p := &daemonProc{dir: dir, log: filepath.Join(dir, "logs", "probes.jsonl"), stderr: filepath.Join(dir, "stderr.txt"), done: make(chan error, 1)}
	p.metrics = fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t))
	cfgFile := filepath.Join(dir, "daemon.yaml")
	p.writeConfig(t, config)
	p.cmd = command(binary(t), "daemon", "--config", cfgFile, "--metrics-listen", p.metrics, "--log-file", p.log)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}, env...)
	errFile, err := os.Create(p.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close() // the child has its own copy
	p.cmd.Stderr = errFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill() // a process this test started, by its PID
			<-p.done
		}
		if t.Failed() {
			t.Logf("daemon stderr:\n%s", stderrText(p.stderr))
		}
	})
	return p
}

func (p *daemonProc) writeConfig(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, "daemon.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

// records reads every record written so far; every line must be whole.
func (p *daemonProc) records(t *testing.T) []daemon.Record {
	t.Helper()
	data, err := os.ReadFile(p.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []daemon.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var r daemon.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // the line being written; a finished log is checked whole by stop
		}
		out = append(out, r)
	}
	return out
}

// daemonWait is how long a test waits for a record: cycles are 1 s apart,
// the slack is for a loaded machine.
const daemonWait = 60 * time.Second

// waitFor polls the records until one after seq satisfies ok.
func (p *daemonProc) waitFor(t *testing.T, what string, after uint64, ok func(r *daemon.Record) bool) *daemon.Record {
	t.Helper()
	deadline := time.Now().Add(daemonWait)
	for time.Now().Before(deadline) {
		recs := p.records(t)
		for i := range recs {
			if recs[i].Seq > after && ok(&recs[i]) {
				return &recs[i]
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("waiting for %s: the daemon exited: %v\n%s", what, err, stderrText(p.stderr))
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("no %s within %v", what, daemonWait)
	return nil
}

func (p *daemonProc) lastSeq(t *testing.T) uint64 {
	recs := p.records(t)
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

// stop sends SIGTERM and checks the daemon exits 0 within limit, its log
// whole and ending with the stop record.
func (p *daemonProc) stop(t *testing.T, limit time.Duration) []daemon.Record {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, stderrText(p.stderr))
		}
	case <-time.After(limit):
		t.Fatalf("still running %v after SIGTERM", limit)
	}
	data, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	recs := p.records(t)
	if len(recs) != len(lines) || !strings.HasSuffix(string(data), "\n") {
		t.Errorf("%d lines but %d whole records", len(lines), len(recs))
	}
	if last := recs[len(recs)-1]; last.Type != daemon.TypeLifecycle || last.Lifecycle.Event != daemon.EventStop {
		t.Errorf("the last record is %+v, want the stop record", last)
	}
	return recs
}

func (p *daemonProc) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (p *daemonProc) postReload(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+p.metrics+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// flakyServer is an HTTPS server the test takes down (connections refused)
// and brings back on the same address.
type flakyServer struct {
	addr netip.AddrPort
	ln   net.Listener
	cert *testnet.CA
	ip   string
}

func (l *lab) flaky(t *testing.T, ip string) *flakyServer {
	f := &flakyServer{ip: ip, cert: l.ca}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	f.addr = netip.MustParseAddrPort(ln.Addr().String())
	f.serve(t, ln)
	return f
}

func (f *flakyServer) serve(t *testing.T, ln net.Listener) {
	cert := f.cert.Leaf(t, nil, []net.IP{net.ParseIP(f.ip)}, testnet.LeafOptions{})
	f.ln = ln
	testnet.ServeHTTPOn(t, ln, testnet.NCSI("ok"), &cert)
}

func (f *flakyServer) down(t *testing.T) {
	if err := f.ln.Close(); err != nil {
		t.Fatal(err)
	}
}

func (f *flakyServer) up(t *testing.T) {
	ln, err := net.Listen("tcp", f.addr.String())
	if err != nil {
		t.Fatalf("listening again on %s: %v", f.addr, err)
	}
	f.serve(t, ln)
}

const proxyPassword = "Pr0xy-S3cret-Canary"

// TestDaemonTransitionsReloadAndSecrets runs the daemon against a server that
// goes down and comes back, direct and through an authenticating proxy whose
// password comes from an environment variable: the transitions name the
// step and the hop, the metrics follow, a bad reload (SIGHUP and POST) is
// rejected while probing goes on, a good one takes effect, SIGTERM exits 0,
// and the password is in no record, no metric and no log line.
func TestDaemonTransitionsReloadAndSecrets(t *testing.T) {
	l := newLab(t)
	goodIP, flakyIP := "127.0.61.1", "127.0.61.2"
	goodAddr := l.httpsIP(t, goodIP)
	fl := l.flaky(t, flakyIP)
	px := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyOK, User: "probe", Password: proxyPassword})
	resolver := l.start(t)

	config := func(records string) string {
		return fmt.Sprintf(`version: 1
schedule: {interval: 1s, jitter: 0%%}
targets: ["https://%s/", "%s"]
resolvers: [%s]
proxy: http://probe@%s
proxy_password_env: EP_PROXY_PASSWORD
path: both
ca_file: %s
timeout: 5s
log: {records: %s, summary_every: 2s, compress: false}
`, goodAddr, fl.addr, resolver, px.Addr, l.caFile, records)
	}
	p := startDaemon(t, config("all"), "EP_PROXY_PASSWORD="+proxyPassword)

	flakyOK := func(path probe.Path) func(r *daemon.Record) bool {
		return func(r *daemon.Record) bool {
			return r.Type == daemon.TypeResult && r.Result.Port == int(fl.addr.Port()) && r.Result.Path == path && r.Result.Status == "ok"
		}
	}
	p.waitFor(t, "the flaky server ok direct", 0, flakyOK("direct"))
	p.waitFor(t, "the flaky server ok through the proxy", 0, flakyOK("proxy"))

	fl.down(t)
	metrics := checkGoneDown(t, p, fl, px)
	// A bad config, by SIGHUP then by POST: rejected, probing goes on.
	p.writeConfig(t, config("sometimes"))
	checkBadReload(t, p)

	fl.up(t)
	seq := p.lastSeq(t)
	back := p.waitFor(t, "tcp_refused → ok", seq, flakyTransition(fl, "direct", "ok")).Transition
	if back.From != "tcp_refused" || back.OutageSeconds == nil || *back.OutageSeconds <= 0 || back.Consecutive < 1 {
		t.Errorf("recovery %+v, want from tcp_refused with the outage length", back)
	}

	// A good config by POST: only failures are kept from now on.
	p.writeConfig(t, config("failures"))
	if code, body := p.postReload(t); code != http.StatusOK {
		t.Fatalf("POST /-/reload of a good config: %d %s", code, body)
	}
	seq = p.lastSeq(t)
	sum := p.waitFor(t, "a summary under the new config", seq, func(r *daemon.Record) bool { return r.Type == daemon.TypeSummary })
	if !strings.Contains(p.scrape(t), "egressprobe_config_last_reload_successful 1") {
		t.Error("config_last_reload_successful is not 1 after a good reload")
	}
	checkRecordsAfterReload(t, p.stop(t, 20*time.Second), sum.Seq)
	checkNoPassword(t, p, px, metrics)
}

// flakyTransition matches fl's transition on path to the outcome to.
func flakyTransition(fl *flakyServer, path probe.Path, to string) func(r *daemon.Record) bool {
	return func(r *daemon.Record) bool {
		return r.Type == daemon.TypeTransition && r.Transition.Port == int(fl.addr.Port()) && r.Transition.Path == path && r.Transition.To == to
	}
}

// checkGoneDown: with fl down, the direct transition names the TCP step at
// fl's address, the proxy's names the CONNECT step at px, and fl's
// probe_success is 0. It returns the metrics scraped.
func checkGoneDown(t *testing.T, p *daemonProc, fl *flakyServer, px *testnet.Proxy) string {
	t.Helper()
	seq := p.lastSeq(t)
	direct := p.waitFor(t, "ok → tcp_refused (direct)", seq, flakyTransition(fl, "direct", "tcp_refused")).Transition
	if direct.From != "ok" || direct.Step != "tcp" || direct.Hop == nil || direct.Hop.Address != fl.addr.String() || direct.LastOK == nil || direct.Consecutive != 1 {
		t.Errorf("direct transition %+v, want ok → tcp_refused at %s with the last ok time", direct, fl.addr)
	}
	viaProxy := p.waitFor(t, "ok → failing (proxy)", seq, func(r *daemon.Record) bool {
		return r.Type == daemon.TypeTransition && r.Transition.Port == int(fl.addr.Port()) && r.Transition.Path == "proxy" && r.Transition.From == "ok"
	}).Transition
	if viaProxy.Step != "proxy" || viaProxy.Hop == nil || viaProxy.Hop.Address != px.Addr.String() || !strings.Contains(viaProxy.Hop.Proxy, "probe") {
		t.Errorf("proxy transition %+v, want the CONNECT step at the proxy %s", viaProxy, px.Addr)
	}
	metrics := p.scrape(t)
	// An IP literal is not resolved: its resolver is none.
	flakyLabels := fmt.Sprintf(`family="custom",host="%s",path="direct",resolver="none"`, fl.addr)
	if !strings.Contains(metrics, "egressprobe_probe_success{"+flakyLabels+"} 0") {
		t.Errorf("probe_success of the downed server is not 0:\n%s", grepLines(metrics, "probe_success"))
	}
	return metrics
}

// checkBadReload: the bad config written, SIGHUP and POST /-/reload are
// both rejected naming the bad key, and probing goes on.
func checkBadReload(t *testing.T, p *daemonProc) {
	t.Helper()
	seq := p.lastSeq(t)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	rej := p.waitFor(t, "a rejected reload", seq, func(r *daemon.Record) bool {
		return r.Type == daemon.TypeLifecycle && r.Lifecycle.Event == daemon.EventReload
	}).Lifecycle
	if rej.OK == nil || *rej.OK || !strings.Contains(rej.Error, "log.records") {
		t.Errorf("reload record %+v, want rejected naming log.records", rej)
	}
	if code, body := p.postReload(t); code != http.StatusInternalServerError || !strings.Contains(body, "log.records") {
		t.Errorf("POST /-/reload of a bad config: %d %s, want 500 naming log.records", code, body)
	}
	seq = p.lastSeq(t)
	p.waitFor(t, "a result after the rejected reload", seq, func(r *daemon.Record) bool { return r.Type == daemon.TypeResult })
	if !strings.Contains(p.scrape(t), "egressprobe_config_last_reload_successful 0") {
		t.Error("config_last_reload_successful is not 0 after a rejected reload")
	}
}

// checkRecordsAfterReload: past record number reloaded (the first summary
// under the new config), records: failures keeps no ok result; every record
// has its envelope; the log holds the two configs' hashes.
func checkRecordsAfterReload(t *testing.T, recs []daemon.Record, reloaded uint64) {
	t.Helper()
	var shas = map[string]bool{}
	for _, r := range recs {
		shas[r.ConfigSHA256] = true
		if r.Seq > reloaded && r.Type == daemon.TypeResult && r.Result.Status == "ok" {
			t.Errorf("records: failures kept an ok result: %+v", r.Result)
		}
		if r.Hostname == "" || r.Version == "" || r.TS.IsZero() || len(r.ConfigSHA256) != 64 {
			t.Errorf("record %d lacks its envelope: %+v", r.Seq, r)
		}
	}
	if len(shas) != 2 {
		t.Errorf("%d config hashes in the log, want the first config's and the reloaded one's", len(shas))
	}
}

// checkNoPassword: the proxy got the password (from the environment), and
// nothing the daemon wrote carries it: not the records, stderr or metrics.
func checkNoPassword(t *testing.T, p *daemonProc, px *testnet.Proxy, metrics string) {
	t.Helper()
	authed := false
	for _, r := range px.Requests() {
		authed = authed || r.Authorization != ""
	}
	if !authed {
		t.Error("the proxy never got credentials")
	}
	logs, _ := os.ReadFile(p.log)
	for what, text := range map[string]string{"records": string(logs), "stderr": stderrText(p.stderr), "metrics": metrics} {
		if strings.Contains(text, proxyPassword) {
			t.Errorf("the proxy password appears in the %s", what)
		}
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDaemonSIGTERMMidRun stops a daemon whose probes are stalled on silent
// servers with a 30 s timeout: it exits 0 at once (within one probe
// timeout), the probes in flight written as cancelled, the log whole.
func TestDaemonSIGTERMMidRun(t *testing.T) {
	l := newLab(t)
	targets := l.silentTargets(t, 62, 3)
	resolver := l.start(t)
	p := startDaemon(t, fmt.Sprintf(`version: 1
schedule: {interval: 1s}
targets: ["%s"]
resolvers: [%s]
proxy: none
timeout: 30s
`, strings.Join(targets, `", "`), resolver))
	p.waitFor(t, "the start record", 0, func(r *daemon.Record) bool { return r.Type == daemon.TypeLifecycle })
	time.Sleep(2500 * time.Millisecond) // the first cycle (within 1 s) is connected and waiting on TLS
	sent := time.Now()
	recs := p.stop(t, 25*time.Second)
	if took := time.Since(sent); took > 15*time.Second {
		t.Errorf("took %v after SIGTERM, want well under the 30 s probe timeout", took)
	}
	cancelled := 0
	for _, r := range recs {
		if r.Type == daemon.TypeResult && r.Result.Status == "cancelled" {
			cancelled++
		}
		if r.Type == daemon.TypeTransition {
			t.Errorf("a cancelled probe made a transition: %+v", r.Transition)
		}
	}
	if cancelled != 3 {
		t.Errorf("%d cancelled results, want the 3 probes in flight", cancelled)
	}
}

// TestDaemonCheckConfig: --check-config prints the plan and exits 0, or
// names the file and line and exits 2.
func TestDaemonCheckConfig(t *testing.T) {
	dir := testenv.TempDir(t)
	good := filepath.Join(dir, "good.yaml")
	_ = os.WriteFile(good, []byte("version: 1\ntargets: [login.microsoftonline.com]\nresolvers: [127.0.0.1]\nproxy: none\n"), 0o600)
	r := runBinary(t, nil, "daemon", "--config", good, "--check-config")
	if r.code != 0 || !strings.Contains(r.stdout, "login.microsoftonline.com") || !strings.Contains(r.stdout, "good.yaml: OK. 1 probe targets") {
		t.Errorf("good config: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("version: 1\nschedule:\n  intervall: 5s\n"), 0o600)
	r = runBinary(t, nil, "daemon", "--config", bad, "--check-config")
	if r.code != 2 || !strings.Contains(r.stderr, "bad.yaml:3: unknown key \"intervall\"") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("bad config: exit %d, stderr %q; want 2 and one line naming bad.yaml:3", r.code, r.stderr)
	}
	r = runBinary(t, nil, "daemon")
	if r.code != 2 || !strings.Contains(r.stderr, "--config FILE is required") {
		t.Errorf("no --config: exit %d, stderr %q", r.code, r.stderr)
	}
}
