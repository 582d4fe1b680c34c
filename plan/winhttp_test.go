package plan

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/report"
)

// TestWinHTTPTrustRoute runs plan → probe → report with a WinHTTP setting
// injected as Windows' registry would give it: the chain's URLs are fetched
// over the endpoint's route and, where WinHTTP's (CryptoAPI's) differs, over
// that too, each once, in rows that say which route — a WinHTTP proxy that
// answers 407 for port 80 while the endpoint goes direct; WinHTTP direct
// while the endpoint goes through a proxy; and a bypass list that sends the
// URLs direct like the endpoint (no extra rows).
func TestWinHTTPTrustRoute(t *testing.T) {
	t.Parallel()
	pki := testnet.NewPKI(t)
	cert := pki.Issuing.Leaf(t, nil, []net.IP{net.IPv4(127, 0, 0, 1)},
		testnet.LeafOptions{OCSP: []string{pki.URL(testnet.PathOCSP)}, CRL: []string{pki.URL(testnet.PathCRL)}})
	addr := testnet.ServeHTTP(t, "127.0.0.1", http.NotFoundHandler(), &cert)
	caFile := pki.Root.WritePEM(t)
	deny := testnet.StartPortProxy(t, true)     // WinHTTP's: 407 for port 80
	forward := testnet.StartPortProxy(t, false) // the run's
	for _, tc := range []struct {
		name, runProxy string
		winhttp        proxy.Settings
		want           []trustRow // the endpoint's rows, then WinHTTP's
		note           string
	}{
		{name: "WinHTTP proxy answers 407, endpoint direct", runProxy: "none",
			winhttp: proxy.Settings{Manual: true, Server: deny.URL.Host},
			want: []trustRow{{probe.PathDirect, "", false, probe.OK}, {probe.PathDirect, "", false, probe.OK},
				{probe.PathProxy, deny.URL.String(), true, probe.ProxyAuthRequired}, {probe.PathProxy, deny.URL.String(), true, probe.ProxyAuthRequired}},
			note: "they were fetched through it too"},
		{name: "WinHTTP direct, endpoint through a proxy", runProxy: forward.URL.String(),
			want: []trustRow{{probe.PathProxy, forward.URL.String(), false, probe.OK}, {probe.PathProxy, forward.URL.String(), false, probe.OK},
				{probe.PathDirect, "", true, probe.OK}, {probe.PathDirect, "", true, probe.OK}},
			note: "they were fetched directly too"},
		{name: "WinHTTP's bypass list sends the URLs direct, like the endpoint", runProxy: "none",
			winhttp: proxy.Settings{Manual: true, Server: deny.URL.Host, Bypass: "127.0.0.1"},
			want:    []trustRow{{probe.PathDirect, "", false, probe.OK}, {probe.PathDirect, "", false, probe.OK}},
			note:    "they were fetched through it too"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(nil)
			env.SystemProxy = func() (proxy.System, error) { return proxy.System{WinHTTP: &tc.winhttp}, nil }
			p := mustBuild(t, opts(func(o *Options) {
				o.Targets, o.CAFile, o.Proxy = []string{"https://" + addr.String() + "/"}, caFile, tc.runProxy
			}), env)
			if p.RunOptions(nil).TrustPath.WinHTTP == nil {
				t.Fatalf("no WinHTTP setting in the run's options")
			}
			start := time.Now()
			obs := probe.Run(context.Background(), p.Targets, p.RunOptions(nil))
			r := p.Report(start, time.Now(), obs, Attribution{})
			if !strings.Contains(r.TrustPathSettings.Note, tc.note) {
				t.Errorf("note %q, want %q in it", r.TrustPathSettings.Note, tc.note)
			}
			checkTrustRows(t, r, tc.want)
		})
	}
}

// trustRow is what a trust-path row must say about its route and outcome.
type trustRow struct {
	path    probe.Path
	proxy   string // "" for none
	winhttp bool
	status  probe.Outcome
}

func checkTrustRows(t *testing.T, r *report.Report, want []trustRow) {
	t.Helper()
	if len(r.Results) != 1 || r.Results[0].Status != probe.OK {
		t.Fatalf("results %+v", r.Results)
	}
	if len(r.TrustPath) != len(want) {
		t.Fatalf("%d trust-path rows, want %d: %+v", len(r.TrustPath), len(want), r.TrustPath)
	}
	failedWinHTTP := false
	for i, w := range want {
		got := r.TrustPath[i]
		px := ""
		if got.Proxy != nil {
			px = *got.Proxy
		}
		if got.Path != w.path || px != w.proxy || got.WinHTTP != w.winhttp || got.Status != w.status ||
			len(got.UsedBy) != 1 || got.UsedBy[0] != r.Results[0].Host {
			t.Errorf("row %d %s: path %s proxy %q winhttp %v status %s (%s) used by %v; want %+v",
				i, got.URL, got.Path, px, got.WinHTTP, got.Status, got.Error, got.UsedBy, w)
		}
		if wantSev := map[bool]string{true: report.SeverityOK, false: report.SeverityWarning}[w.status == probe.OK]; got.Severity != wantSev {
			t.Errorf("row %d %s: severity %s, want %s", i, got.URL, got.Severity, wantSev)
		}
		failedWinHTTP = failedWinHTTP || (w.winhttp && w.status != probe.OK)
	}
	warned := false
	for _, w := range r.Results[0].Warnings {
		warned = warned || (w.Code == report.WarnRevocationUnreachable && strings.Contains(w.Message, "over WinHTTP's route"))
	}
	if warned != failedWinHTTP {
		t.Errorf("revocation_unreachable over WinHTTP's route: %v, want %v (warnings %+v)", warned, failedWinHTTP, r.Results[0].Warnings)
	}
}
