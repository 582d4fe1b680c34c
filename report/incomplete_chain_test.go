package report

import (
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/probe"
	"egressprobe/targets"
)

// TestIncompleteChainAdvice: an endpoint that is tls_untrusted because the
// server did not send its intermediate is not blamed on TLS inspection. When
// the issuer's CA-issuers URL answered, Windows builds the chain: the server
// is told to send it and port 80 to keep open; when it did not, the firewall
// is told to open port 80 to it.
func TestIncompleteChainAdvice(t *testing.T) {
	const url = "http://cacerts.ca.example/ca.crt"
	tests := []struct {
		name    string
		fetched probe.Outcome
		hop     string
		has     string
	}{
		{"issuer fetched", probe.OK, HopServer, "Windows completes it from " + url},
		{"issuer unreachable", probe.TCPTimeout, HopFirewall, "could not fetch the missing issuer from " + url + " over port 80 (tcp_timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			login := obs(0, dnsOK("login.microsoftonline.com", "10.0.0.4:53", "40.126.1.1"), "40.126.1.1", probe.TLSUntrusted)
			login.TrustPath = []probe.TrustUse{{Depth: 0, Cert: "CN=login", Needed: true, Judged: true,
				Fetch: trustFetch(probe.TrustCAIssuers, url, tt.fetched, time.Millisecond)}}
			r := Build(Input{
				Started: t0, Finished: t0.Add(time.Second),
				Endpoints:    []targets.Endpoint{ep("login.microsoftonline.com", "login.microsoftonline.com")},
				Observations: []probe.Observation{login},
				TrustPath:    &TrustPathSettings{Mode: TrustPathCheck, URLTimeoutMS: 15000, RevocationTimeoutMS: 20000},
			})
			if c := r.Results[0].ChainURLs; c == nil || c.MissingIssuer != url || c.IssuerStatus != tt.fetched {
				t.Fatalf("chain URLs %+v: want the missing issuer's URL and %s", c, tt.fetched)
			}
			var got *Action
			for i := range r.Open {
				if slices.Contains(r.Open[i].Hosts, "login.microsoftonline.com") {
					got = &r.Open[i]
				}
			}
			if got == nil || got.Hop != tt.hop || !strings.Contains(got.Change, tt.has) || strings.Contains(got.Change, "middlebox") {
				t.Errorf("what to open for login: %+v; want hop %s saying %q", got, tt.hop, tt.has)
			}
		})
	}
}
