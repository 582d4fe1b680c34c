package probe

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

// trustServer serves TLS on 127.0.0.1 with a leaf from pki's issuing CA that
// names opt's URLs; without sendIssuer the server sends the leaf alone (an
// incomplete chain: the issuer must come from the CA-issuers URL).
func trustServer(t *testing.T, pki *testnet.PKI, opt testnet.LeafOptions, sendIssuer bool) (netip.AddrPort, *x509.Certificate) {
	t.Helper()
	cert := pki.Issuing.Leaf(t, nil, []net.IP{net.IPv4(127, 0, 0, 1)}, opt)
	if !sendIssuer {
		cert.Certificate = cert.Certificate[:1]
	}
	return testnet.ServeHTTP(t, "127.0.0.1", http.NotFoundHandler(), &cert), cert.Leaf
}

// trustTarget is a TLS target at addr verified against pki's root.
func trustTarget(pki *testnet.PKI, addr netip.AddrPort) Target {
	return Target{Host: addr.Addr().String(), Port: addr.Port(), TLS: TLSOptions{Roots: pki.Root.Pool}, Timeout: 10 * time.Second}
}

// fetched is one trust-path use as the tests check it.
type fetched struct {
	url     string
	outcome Outcome
}

func usesOf(o Observation) []fetched {
	var out []fetched
	for _, u := range o.TrustPath {
		out = append(out, fetched{u.Fetch.URL, u.Fetch.Outcome})
	}
	return out
}

// trustScenario is one row of TestTrustPath.
type trustScenario struct {
	name       string
	opt        testnet.LeafOptions
	sendIssuer bool
	revoke     bool
	want       []fetched
	errHas     string // in every failed fetch's error
}

// TestTrustPath: a chain's CA-issuers, OCSP and CRL URLs, served by real
// loopback servers, each fault giving its outcome: the scenario table the
// issue asks for (good, unauthorized, revoked, CRL past its next update, CRL
// signed by another key, an HTML block page, a silent host cut at the
// per-URL budget), plus PKCS#7, a wrong issuer and OCSP's POST fallback.
func TestTrustPath(t *testing.T) {
	t.Parallel()
	pki := testnet.NewPKI(t)
	silent := "http://" + testnet.HTTPStall(t, "127.0.0.1").String() + "/silent.crl"
	closed := "http://127.0.0.1:" + closedPort(t) + "/x.crl"
	u := pki.URL
	scenarios := []trustScenario{
		{"good", testnet.LeafOptions{CAIssuers: []string{u(testnet.PathIssuerDER)}, OCSP: []string{u(testnet.PathOCSP)}, CRL: []string{u(testnet.PathCRL)}}, true, false,
			[]fetched{{u(testnet.PathIssuerDER), OK}, {u(testnet.PathOCSP), OK}, {u(testnet.PathCRL), OK}}, ""},
		{"OCSP unauthorized", testnet.LeafOptions{OCSP: []string{u(testnet.PathOCSPUnauth)}}, true, false,
			[]fetched{{u(testnet.PathOCSPUnauth), OCSPBadResponse}}, `"unauthorized"`},
		{"revoked", testnet.LeafOptions{OCSP: []string{u(testnet.PathOCSP)}, CRL: []string{u(testnet.PathCRL)}}, true, true,
			[]fetched{{u(testnet.PathOCSP), Revoked}, {u(testnet.PathCRL), Revoked}}, "revoked on"},
		{"CRL past its next update", testnet.LeafOptions{CRL: []string{u(testnet.PathCRLExpired)}}, true, false,
			[]fetched{{u(testnet.PathCRLExpired), CRLExpired}}, "next update"},
		{"CRL signed by another key", testnet.LeafOptions{CRL: []string{u(testnet.PathCRLForeign)}}, true, false,
			[]fetched{{u(testnet.PathCRLForeign), CRLBadResponse}}, "not signed by"},
		{"HTML block page", testnet.LeafOptions{CRL: []string{u(testnet.PathBlockPage)}}, true, false,
			[]fetched{{u(testnet.PathBlockPage), HTTPBlockPage}}, "Access denied"},
		{"silent host", testnet.LeafOptions{CRL: []string{silent}}, true, false,
			[]fetched{{silent, HTTPTimeout}}, "no complete HTTP answer"},
		{"closed port", testnet.LeafOptions{CRL: []string{closed}}, true, false, []fetched{{closed, TCPRefused}}, ""},
		{"issuer not sent, PKCS#7 from the CA-issuers URL", testnet.LeafOptions{CAIssuers: []string{u(testnet.PathIssuerP7C)}, OCSP: []string{u(testnet.PathOCSP)}}, false, false,
			[]fetched{{u(testnet.PathIssuerP7C), OK}, {u(testnet.PathOCSP), OK}}, ""},
		{"wrong issuer", testnet.LeafOptions{CAIssuers: []string{u(testnet.PathWrongIssuer)}}, true, false,
			[]fetched{{u(testnet.PathWrongIssuer), AIABadResponse}}, "did not issue"},
		{"CA-issuers URL not found", testnet.LeafOptions{CAIssuers: []string{u("/missing.cer")}}, true, false,
			[]fetched{{u("/missing.cer"), AIABadResponse}}, "404 Not Found"},
		{"OCSP by POST after the GET failed", testnet.LeafOptions{OCSP: []string{u(testnet.PathOCSPPostOnly)}}, true, false,
			[]fetched{{u(testnet.PathOCSPPostOnly), OK}}, ""},
		{"ldap and https URLs are not CryptoAPI's", testnet.LeafOptions{CRL: []string{"ldap://ca.example/cn=x", "https://127.0.0.1:1/x.crl"}}, true, false,
			nil, ""},
	}
	t.Run("scenarios", func(t *testing.T) {
		for _, tc := range scenarios {
			t.Run(tc.name, func(t *testing.T) { checkTrustScenario(t, pki, tc) })
		}
	})
	if agents := pki.UserAgents(); !slices.Equal(agents, []string{CryptoAPIUserAgent}) {
		t.Errorf("User-Agents %q, want only %q", agents, CryptoAPIUserAgent)
	}
}

// checkTrustScenario runs one TestTrustPath scenario.
func checkTrustScenario(t *testing.T, pki *testnet.PKI, tc trustScenario) {
	t.Parallel()
	addr, leaf := trustServer(t, pki, tc.opt, tc.sendIssuer)
	if tc.revoke {
		pki.Revoke(leaf)
	}
	o := Run(context.Background(), []Target{trustTarget(pki, addr)}, RunOptions{TrustPath: &TrustPathOptions{Timeout: time.Second}})[0]
	if tc.sendIssuer && o.Outcome != OK {
		t.Fatalf("the endpoint: %s (%s)", o.Outcome, o.Error)
	}
	if got := usesOf(o); !slices.Equal(got, tc.want) {
		t.Fatalf("trust path %v, want %v", got, tc.want)
	}
	if o.TLS.certs != nil {
		t.Error("the observation keeps the certificates")
	}
	for _, use := range o.TrustPath {
		f := use.Fetch
		if (f.Outcome == OK) != (f.Error == "") || (f.Outcome != OK && !strings.Contains(f.Error, f.URL)) {
			t.Errorf("%s: outcome %s, error %q: want an error naming the URL exactly when not ok", f.URL, f.Outcome, f.Error)
		}
		if f.Outcome != OK && !strings.Contains(f.Error, tc.errHas) {
			t.Errorf("%s: error %q, want %q in it", f.URL, f.Error, tc.errHas)
		}
		if f.Elapsed <= 0 || !use.Judged {
			t.Errorf("%s: elapsed %v, judged %v", f.URL, f.Elapsed, use.Judged)
		}
		if f.Kind == TrustCAIssuers && use.Needed == tc.sendIssuer {
			t.Errorf("%s: needed = %v with the issuer sent = %v", f.URL, use.Needed, tc.sendIssuer)
		}
		if f.HTTP != nil && f.HTTP.Content != nil {
			t.Errorf("%s: the fetch keeps the body", f.URL)
		}
	}
	checkTrustDetail(t, tc.name, o)
}

// checkTrustDetail checks what a scenario's fetch says beyond its outcome.
func checkTrustDetail(t *testing.T, name string, o Observation) {
	t.Helper()
	f := o.TrustPath[min(1, max(len(o.TrustPath)-1, 0)):]
	switch name {
	case "good":
		if a := o.TrustPath[1].Fetch.OCSP; a == nil || a.Status != "good" || a.Method != "GET" {
			t.Errorf("OCSP answer %+v, want good by GET", a)
		}
		if c := o.TrustPath[2].Fetch.CRL; c == nil || !c.SignatureChecked || c.NextUpdate.Before(time.Now()) {
			t.Errorf("CRL %+v", c)
		}
		if o.TrustPath[0].Fetch.Issuer != "CN=egressprobe test issuing CA,O=egressprobe tests" {
			t.Errorf("issuer %q", o.TrustPath[0].Fetch.Issuer)
		}
	case "OCSP unauthorized":
		if a := o.TrustPath[0].Fetch.OCSP; a == nil || a.Status != "unauthorized" {
			t.Errorf("OCSP answer %+v, want the responder's status unauthorized", a)
		}
	case "revoked":
		if a := o.TrustPath[0].Fetch.OCSP; a == nil || a.Status != "revoked" || a.RevokedAt.IsZero() {
			t.Errorf("OCSP answer %+v", a)
		}
	case "OCSP by POST after the GET failed":
		if a := o.TrustPath[0].Fetch.OCSP; a == nil || a.Method != "POST" || a.Status != "good" {
			t.Errorf("OCSP answer %+v, want good by POST", a)
		}
	case "issuer not sent, PKCS#7 from the CA-issuers URL":
		// The OCSP request needs the issuer: it came from the URL.
		if f[0].Fetch.OCSP == nil || f[0].Fetch.OCSP.Status != "good" {
			t.Errorf("OCSP %+v, want good", f[0].Fetch.OCSP)
		}
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()
	return port
}

// TestTrustPathOnce: fifty endpoints whose chains name the same
// URLs cost one fetch of each per run and route: the per-run de-duplication.
func TestTrustPathOnce(t *testing.T) {
	t.Parallel()
	pki := testnet.NewPKI(t)
	addr, _ := trustServer(t, pki, testnet.LeafOptions{OCSP: []string{pki.URL(testnet.PathOCSP)}, CRL: []string{pki.URL(testnet.PathCRL)}}, true)
	ts := make([]Target, 50)
	for i := range ts {
		ts[i] = trustTarget(pki, addr)
	}
	obs := Run(context.Background(), ts, RunOptions{Concurrency: 8, TrustPath: &TrustPathOptions{Timeout: 5 * time.Second}})
	for _, o := range obs {
		if got := usesOf(o); len(got) != 2 || got[0].outcome != OK || got[1].outcome != OK {
			t.Fatalf("trust path %v", got)
		}
		if o.TrustPath[0].Fetch != obs[0].TrustPath[0].Fetch {
			t.Fatal("observations do not share the fetch")
		}
	}
	if o, c := pki.Hits(testnet.PathOCSP), pki.Hits(testnet.PathCRL); o != 1 || c != 1 {
		t.Errorf("%d OCSP and %d CRL requests for 50 endpoints, want 1 each", o, c)
	}
}

// TestTrustPathOff: without RunOptions.TrustPath nothing is fetched and the
// certificates are dropped all the same.
func TestTrustPathOff(t *testing.T) {
	t.Parallel()
	pki := testnet.NewPKI(t)
	addr, _ := trustServer(t, pki, testnet.LeafOptions{CRL: []string{pki.URL(testnet.PathCRL)}}, true)
	o := Run(context.Background(), []Target{trustTarget(pki, addr)}, RunOptions{})[0]
	if o.Outcome != OK || o.TrustPath != nil || o.TLS.certs != nil || pki.Hits(testnet.PathCRL) != 0 {
		t.Errorf("outcome %s, trust path %v, certs kept %v, %d CRL requests", o.Outcome, o.TrustPath, o.TLS.certs != nil, pki.Hits(testnet.PathCRL))
	}
}

// TestTrustPathThroughProxy: through a proxy the URLs go where the endpoint
// went — absolute-form GETs to the same proxy, as WinHTTP sends them; a
// proxy that demands credentials for port 80 only fails them with
// proxy_auth_required while the endpoint's CONNECT works.
func TestTrustPathThroughProxy(t *testing.T) {
	t.Parallel()
	pki := testnet.NewPKI(t)
	opt := testnet.LeafOptions{CAIssuers: []string{pki.URL(testnet.PathIssuerDER)}, OCSP: []string{pki.URL(testnet.PathOCSP)}, CRL: []string{pki.URL(testnet.PathCRL)}}
	addr, _ := trustServer(t, pki, opt, true)
	for _, tc := range []struct {
		name string
		deny bool
		want Outcome
	}{{"forwards", false, OK}, {"407 for port 80 only", true, ProxyAuthRequired}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			px := testnet.StartPortProxy(t, tc.deny)
			tgt := trustTarget(pki, addr)
			tgt.Route = proxy.Route{Proxy: px.URL, Source: proxy.SourceFlag}
			o := Run(context.Background(), []Target{tgt}, RunOptions{TrustPath: &TrustPathOptions{Timeout: 5 * time.Second}})[0]
			if o.Outcome != OK {
				t.Fatalf("the endpoint through the proxy: %s (%s)", o.Outcome, o.Error)
			}
			if len(o.TrustPath) != 3 {
				t.Fatalf("trust path %v", usesOf(o))
			}
			for _, use := range o.TrustPath {
				f := use.Fetch
				if f.Outcome != tc.want || f.Proxy == nil || f.TCP != nil || f.DNS != nil {
					t.Errorf("%s: %s (%s), proxy step %v, tcp %v: want %s through the proxy", f.URL, f.Outcome, f.Error, f.Proxy, f.TCP, tc.want)
				}
			}
			reqs := px.Requests()
			if !slices.Contains(reqs, "GET "+pki.URL(testnet.PathCRL)) || !slices.Contains(reqs, "CONNECT "+addr.String()) {
				t.Errorf("the proxy got %q", reqs)
			}
		})
	}
}

// TestWindowsChainTime: Windows' order — a CA-issuers URL only when the
// issuer was not sent, OCSP, then the CRL only when OCSP gave no answer — and
// a fetch cut at this run's budget counted as Windows' per-URL wait.
func TestWindowsChainTime(t *testing.T) {
	fetch := func(kind string, o Outcome, took time.Duration) *TrustFetch {
		return &TrustFetch{Kind: kind, Outcome: o, Elapsed: took}
	}
	const s = time.Second
	for _, tc := range []struct {
		name string
		uses []TrustUse
		want time.Duration
	}{
		{"OCSP answers: no CRL, no CA-issuers fetch", []TrustUse{
			{Depth: 0, Fetch: fetch(TrustCAIssuers, OK, s)},
			{Depth: 0, Fetch: fetch(TrustOCSP, OK, 2*s)},
			{Depth: 0, Fetch: fetch(TrustCRL, OK, 4*s)},
		}, 2 * s},
		{"issuer missing, OCSP refused, CRL answers", []TrustUse{
			{Depth: 0, Needed: true, Fetch: fetch(TrustCAIssuers, OK, s)},
			{Depth: 0, Fetch: fetch(TrustOCSP, TCPRefused, 2*s)},
			{Depth: 0, Fetch: fetch(TrustCRL, Revoked, 4*s)},
		}, 7 * s},
		{"silent OCSP and CRL: Windows waits 15 s for each", []TrustUse{
			{Depth: 0, Fetch: fetch(TrustOCSP, TCPTimeout, 3*s)},
			{Depth: 0, Fetch: fetch(TrustCRL, HTTPTimeout, 3*s)},
			{Depth: 1, Fetch: fetch(TrustOCSP, OK, s)},
		}, 31 * s},
		{"fetched over WinHTTP's route too: only CryptoAPI's route counts", []TrustUse{
			{Depth: 0, Fetch: fetch(TrustOCSP, OK, s)},
			{Depth: 0, Fetch: &TrustFetch{Kind: TrustOCSP, Outcome: ProxyAuthRequired, Elapsed: 2 * s, WinHTTP: true}},
			{Depth: 0, Fetch: &TrustFetch{Kind: TrustCRL, Outcome: ProxyAuthRequired, Elapsed: 3 * s, WinHTTP: true}},
		}, 5 * s},
	} {
		if got := WindowsChainTime(tc.uses, WindowsURLTimeout); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTrustPathResolves: a URL's host is resolved as the endpoint's is (the
// run's resolver; for an IP-literal target TrustPathOptions.Resolver), and a
// name that does not resolve is that fetch's dns_* outcome.
func TestTrustPathResolves(t *testing.T) {
	t.Parallel()
	pki := testnet.NewPKI(t)
	srv := testnet.NewDNSServer(t, testnet.DNSZone{"crl.ca.egress.test": {A: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}})
	port := pki.Addr.Port()
	good := "http://crl.ca.egress.test:" + strconv.Itoa(int(port)) + testnet.PathCRL
	missing := "http://gone.ca.egress.test" + testnet.PathCRL
	addr, _ := trustServer(t, pki, testnet.LeafOptions{CRL: []string{good, missing}}, true)
	o := Run(context.Background(), []Target{trustTarget(pki, addr)}, RunOptions{TrustPath: &TrustPathOptions{Timeout: 5 * time.Second, Resolver: srv.Addr}})[0]
	want := []fetched{{good, OK}, {missing, DNSNXDomain}}
	if got := usesOf(o); !slices.Equal(got, want) {
		t.Fatalf("trust path %v, want %v", got, want)
	}
	if f := o.TrustPath[0].Fetch; f.DNS == nil || f.IP != "127.0.0.1" || f.TCP == nil {
		t.Errorf("steps: dns %v, ip %q, tcp %v", f.DNS, f.IP, f.TCP)
	}
	if e := o.TrustPath[1].Fetch.Error; !strings.Contains(e, missing) || !strings.Contains(e, srv.Addr) {
		t.Errorf("error %q does not name the URL and the resolver", e)
	}
}

// TestChainBudgets: the policy key's value wins over the machine key's, in
// either order; 0 or nothing leaves Windows' default.
func TestChainBudgets(t *testing.T) {
	policy, machine := `HKLM\`+ChainEnginePolicyKey, `HKLM\`+ChainEngineKey
	for _, tc := range []struct {
		vals        []ChainEngineValue
		url, revoke time.Duration
	}{
		{nil, 15 * time.Second, 20 * time.Second},
		{[]ChainEngineValue{{machine, ChainURLTimeoutValue, 5000}}, 5 * time.Second, 20 * time.Second},
		{[]ChainEngineValue{{policy, ChainURLTimeoutValue, 3000}, {machine, ChainURLTimeoutValue, 5000}}, 3 * time.Second, 20 * time.Second},
		{[]ChainEngineValue{{machine, ChainURLTimeoutValue, 5000}, {policy, ChainURLTimeoutValue, 3000}}, 3 * time.Second, 20 * time.Second},
		{[]ChainEngineValue{{policy, ChainRevocationTimeoutValue, 0}, {machine, ChainRevocationTimeoutValue, 45000}}, 15 * time.Second, 45 * time.Second},
	} {
		if u, r := ChainBudgets(tc.vals); u != tc.url || r != tc.revoke {
			t.Errorf("%+v: %v, %v; want %v, %v", tc.vals, u, r, tc.url, tc.revoke)
		}
	}
}
