package report

import (
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/probe"
	"egressprobe/targets"
)

// trustFetch is a fetch as the engine records it.
func trustFetch(kind, url string, o probe.Outcome, took time.Duration) *probe.TrustFetch {
	f := &probe.TrustFetch{URL: url, Kind: kind, Outcome: o, Elapsed: took, IP: "192.0.2.80"}
	if o != probe.OK {
		f.Error = kind + " " + url + ": " + string(o)
	}
	return f
}

// trustRun is two endpoints sharing a CA: the leaf's OCSP responder is
// silent, its CRL host refuses; login's intermediate was not sent and its
// CA-issuers URL is silent; blob's leaf is revoked per its CRL.
func trustRun(mode string) *Report {
	ocsp := trustFetch(probe.TrustOCSP, "http://ocsp.ca.example/", probe.TCPTimeout, 3*time.Second)
	crl := trustFetch(probe.TrustCRL, "http://crl.ca.example/ca.crl", probe.TCPRefused, time.Millisecond)
	aia := trustFetch(probe.TrustCAIssuers, "http://cacerts.ca.example/ca.crt", probe.TCPTimeout, 3*time.Second)
	revokedCRL := trustFetch(probe.TrustCRL, "http://crl.ca.example/other.crl", probe.Revoked, 5*time.Millisecond)
	login := obs(0, dnsOK("login.microsoftonline.com", "10.0.0.4:53", "40.126.1.1"), "40.126.1.1", probe.TLSUntrusted)
	login.TrustPath = []probe.TrustUse{
		{Depth: 0, Cert: "CN=login", Needed: true, Judged: true, Fetch: aia},
		{Depth: 0, Cert: "CN=login", Judged: true, Fetch: ocsp},
		{Depth: 0, Cert: "CN=login", Judged: true, Fetch: crl},
	}
	blob := obs(1, dnsOK("acct.blob.core.windows.net", "10.0.0.4:53", "52.239.1.1"), "52.239.1.1", probe.OK)
	blob.TrustPath = []probe.TrustUse{
		{Depth: 0, Cert: "CN=blob", Fetch: ocsp},
		{Depth: 0, Cert: "CN=blob", Judged: true, Fetch: revokedCRL},
	}
	backup := obs(2, dnsOK("pod01-prot1.we.backup.windowsazure.com", "10.0.0.4:53", "20.38.1.1"), "20.38.1.1", probe.OK)
	backup.TrustPath = []probe.TrustUse{{Depth: 1, Cert: "CN=issuing", Judged: true, Fetch: ocsp}}
	return Build(Input{
		Started: t0, Finished: t0.Add(time.Second),
		Endpoints: []targets.Endpoint{ep("login.microsoftonline.com", "login.microsoftonline.com"), ep("acct.blob.core.windows.net", "*.blob.core.windows.net"),
			ep("pod01-prot1.we.backup.windowsazure.com", "*.windowsazure.com")},
		Observations: []probe.Observation{login, blob, backup},
		TrustPath:    &TrustPathSettings{Mode: mode, URLTimeoutMS: 15000, RevocationTimeoutMS: 20000},
	})
}

// TestTrustPathCheck: --trust-path check. One row per shared fetch, used by
// every endpoint whose chain named it; revocation failures warn, a revoked
// leaf and a missing issuer's silent CA-issuers URL fail; Windows' time
// counts a silent URL at its 15 s; what to open has one port-80 line for
// the CA hosts and one for the revoked certificate.
func TestTrustPathCheck(t *testing.T) {
	r := trustRun(TrustPathCheck)
	type row struct {
		url      string
		status   probe.Outcome
		severity string
		usedBy   string
	}
	var got []row
	for _, u := range r.TrustPath {
		got = append(got, row{u.URL, u.Status, u.Severity, strings.Join(u.UsedBy, " ")})
	}
	want := []row{
		{"http://cacerts.ca.example/ca.crt", probe.TCPTimeout, SeverityFailure, "login.microsoftonline.com"},
		{"http://ocsp.ca.example/", probe.TCPTimeout, SeverityWarning, "login.microsoftonline.com acct.blob.core.windows.net pod01-prot1.we.backup.windowsazure.com"},
		{"http://crl.ca.example/ca.crl", probe.TCPRefused, SeverityWarning, "login.microsoftonline.com"},
		{"http://crl.ca.example/other.crl", probe.Revoked, SeverityFailure, "acct.blob.core.windows.net"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows\n%v\nwant\n%v", got, want)
	}
	if s := r.Summary.TrustPath; s != (TrustPathSummary{Total: 4, Warnings: 2, Failed: 2}) {
		t.Errorf("summary %+v", s)
	}
	login, blob, backup := r.Results[0], r.Results[1], r.Results[2]
	if login.Status != probe.TLSUntrusted || !hasCode(login.Warnings, WarnRevocationUnreachable) || !hasCode(login.Warnings, WarnRevocationSlow) {
		t.Errorf("login: %s, warnings %+v", login.Status, login.Warnings)
	}
	if c := login.ChainURLs; c == nil || c.WindowsMS != 30001 || !c.OverLimit || len(c.URLs) != 3 {
		t.Errorf("login's chain URLs %+v: want 15 s + 15 s + 1 ms, over the limit", c)
	}
	if blob.Status != probe.Revoked || !strings.Contains(blob.Error, "other.crl") {
		t.Errorf("blob: %s (%s), want revoked", blob.Status, blob.Error)
	}
	if backup.Status != probe.OK || !hasCode(backup.Warnings, WarnRevocationUnreachable) || !strings.Contains(backup.Warnings[0].Message, "CN=issuing") {
		t.Errorf("backup: %s, warnings %+v: want ok with the issuing CA's revocation unreachable", backup.Status, backup.Warnings)
	}
	var ca, revoked *Action
	for i := range r.Open {
		switch r.Open[i].Change {
		case CAChange(80):
			ca = &r.Open[i]
		case "the certificate these endpoints present is revoked: its owner must replace it (no firewall change helps)":
			revoked = &r.Open[i]
		}
	}
	if ca == nil || ca.Hop != HopFirewall || !slices.Equal(ca.Hosts, []string{"cacerts.ca.example", "ocsp.ca.example", "crl.ca.example"}) || !slices.Equal(ca.IPs, []string{"192.0.2.80"}) {
		t.Errorf("the port-80 line: %+v", ca)
	}
	if revoked == nil || !slices.Equal(revoked.Hosts, []string{"acct.blob.core.windows.net"}) {
		t.Errorf("the revoked line: %+v", revoked)
	}
	if !strings.Contains(CAChange(80), "certutil -verify -urlfetch") {
		t.Error("the port-80 line does not say how to confirm on the server")
	}
}

// TestTrustPathRequired: --trust-path required makes every failed row a
// failure, and an endpoint whose revocation no URL could tell fails.
func TestTrustPathRequired(t *testing.T) {
	r := trustRun(TrustPathRequired)
	if s := r.Summary.TrustPath; s != (TrustPathSummary{Total: 4, Failed: 4}) {
		t.Errorf("summary %+v", s)
	}
	if b := r.Results[2]; b.Status != probe.RevocationUnreachable || !strings.Contains(b.Error, "CN=issuing") {
		t.Errorf("backup: %s (%s), want revocation_unreachable", b.Status, b.Error)
	}
	if r.Summary.Failed != 3 {
		t.Errorf("%d results failed, want 3", r.Summary.Failed)
	}
}

// TestTrustPathOffReport: without trust-path settings the report has no rows
// and no settings, and results no chain URLs.
func TestTrustPathOffReport(t *testing.T) {
	r := trustRun(TrustPathOff)
	if len(r.TrustPath) != 0 || r.TrustPath == nil || r.TrustPathSettings != nil || r.Results[0].ChainURLs != nil || r.Summary.TrustPath.Total != 0 {
		t.Errorf("off: rows %v, settings %v, chain %v", r.TrustPath, r.TrustPathSettings, r.Results[0].ChainURLs)
	}
}

// TestTrustPathRequiredCatalog: under --trust-path required a catalog
// revocation server that cannot be reached fails the run, as the chains'
// URLs do; under check it soft-fails.
func TestTrustPathRequiredCatalog(t *testing.T) {
	for _, tc := range []struct {
		mode               string
		failed, softFailed int
	}{{TrustPathCheck, 0, 1}, {TrustPathRequired, 1, 0}} {
		e := targets.Endpoint{Host: "oneocsp.microsoft.com", Port: 80, Scheme: targets.SchemeHTTP, Family: targets.FamilyAuthorities, Role: targets.RoleOCSP}
		o := obs(0, dnsOK(e.Host, "10.0.0.4:53", "192.0.2.9"), "192.0.2.9", probe.TCPTimeout)
		r := Build(Input{Started: t0, Finished: t0, Endpoints: []targets.Endpoint{e}, Observations: []probe.Observation{o},
			TrustPath: &TrustPathSettings{Mode: tc.mode, URLTimeoutMS: 15000, RevocationTimeoutMS: 20000}})
		if r.Summary.Failed != tc.failed || r.Summary.SoftFailed != tc.softFailed {
			t.Errorf("%s: %d failed, %d soft-failed; want %d, %d", tc.mode, r.Summary.Failed, r.Summary.SoftFailed, tc.failed, tc.softFailed)
		}
		if len(r.Open) != 1 || r.Open[0].Change != CAChange(80) {
			t.Errorf("%s: what to open %+v, want the one port-80 line", tc.mode, r.Open)
		}
	}
}
