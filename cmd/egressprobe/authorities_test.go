package main

import (
	"net"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testnet"
	"egressprobe/report"
	"egressprobe/targets"
)

// serveAuthorities answers the certificate authorities' hosts of cloud's
// catalog on ip:80 as the real ones do (a DER file for a .crt or .crl, the
// root list's cabinet, 400 for an OCSP responder's base URL), and puts
// their names in the lab's zone.
func (l *lab) serveAuthorities(t *testing.T, listen func(string) net.Listener, ip, cloud string) {
	t.Helper()
	eps, err := targets.Catalog(cloud, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	testnet.ServeHTTPOn(t, listen(ip+":80"), testnet.Authorities(l.ca.Cert.Raw, testnet.Cabinet(40000)), nil)
	for _, e := range eps {
		if e.Family == targets.FamilyAuthorities {
			l.zone[e.Host] = testnet.DNSName{A: a(ip)}
		}
	}
}

// TestCheckAuthorities: the certificate authorities' hosts a user names are
// probed as the catalog probes them (port 80, judged by their answer); a web
// filter's block page, a closed port and an unreachable revocation server
// each get their verdict, and revocation only warns (the exit status and
// the summary leave it out). Port 80 needs root. (The lab's names resolve to
// loopback, for which "what to open" asks no firewall change: report's
// TestAuthoritiesWhatToOpen checks those lines.)
func TestCheckAuthorities(t *testing.T) {
	listen := catalogListen(t)
	l := newLab(t)
	testnet.ServeHTTPOn(t, listen("127.0.94.1:80"), testnet.Authorities(l.ca.Cert.Raw, testnet.Cabinet(40000)), nil)
	testnet.ServeHTTPOn(t, listen("127.0.94.2:80"), testnet.BlockPage(), nil)
	// 127.0.94.3: nothing listens on port 80 (refused, like a firewall's reject).
	l.zone["cacerts.digicert.com"] = testnet.DNSName{A: a("127.0.94.1")}
	l.zone["ocsp.digicert.com"] = testnet.DNSName{A: a("127.0.94.1")}
	l.zone["ctldl.windowsupdate.com"] = testnet.DNSName{A: a("127.0.94.2")}
	for _, h := range []string{"cacerts.geotrust.com", "crl3.digicert.com", "oneocsp.microsoft.com"} {
		l.zone[h] = testnet.DNSName{A: a("127.0.94.3")}
	}
	resolver := l.start(t)

	r := runBinary(t, nil, "check", "--cloud", "public", "--resolver", resolver, "--proxy", "none", "--timeout", "5s", "-o", "json",
		"cacerts.digicert.com", "ocsp.digicert.com", "ctldl.windowsupdate.com", "cacerts.geotrust.com", "crl3.digicert.com", "oneocsp.microsoft.com")
	rep := decodeReport(t, r.stdout)
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (the root list and an issuer fail); stderr %s", r.code, r.stderr)
	}
	want := map[string]string{
		"cacerts.digicert.com": "ok", "ocsp.digicert.com": "ok", "ctldl.windowsupdate.com": "http_blockpage",
		"cacerts.geotrust.com": "tcp_refused", "crl3.digicert.com": "tcp_refused", "oneocsp.microsoft.com": "tcp_refused",
	}
	for _, res := range rep.Results {
		revocation := res.Role == targets.RoleCRL || res.Role == targets.RoleOCSP
		warned := slices.ContainsFunc(res.Warnings, func(w report.Warning) bool { return w.Code == report.WarnRevocationUnreachable })
		if string(res.Status) != want[res.Host] || res.Port != 80 || res.Scheme != "http" || res.Family != targets.FamilyAuthorities ||
			warned != (revocation && res.Status != "ok") {
			t.Errorf("%s: status %s (want %s) port %d scheme %s family %q warnings %+v (%s)", res.Host, res.Status, want[res.Host], res.Port, res.Scheme, res.Family, res.Warnings, res.Error)
		}
		if res.Host == "ctldl.windowsupdate.com" && (res.HTTP == nil || !strings.HasPrefix(res.HTTP.ContentType, "text/html")) {
			t.Errorf("root list's block page: http %+v, want its content type", res.HTTP)
		}
	}
	if s := rep.Summary; s.OK != 2 || s.Failed != 2 || s.SoftFailed != 2 {
		t.Errorf("summary %+v, want 2 ok, 2 failed, 2 soft-failed", s)
	}
}

// TestTargetsListAuthorities: `targets list` shows the certificate
// authorities' family of each cloud, China's own hosts there only.
func TestTargetsListAuthorities(t *testing.T) {
	for _, tc := range []struct {
		cloud   string
		want    []string
		notWant string
	}{
		{"public", []string{"http://cacerts.digicert.com/DigiCertGlobalRootG2.crt", "http://oneocsp.microsoft.com/ocsp"}, ".digicert.cn"},
		{"usgov", []string{"http://crl4.digicert.com/DigiCertGlobalRootG2.crl", "http://caissuers.microsoft.com/pkiops/certs/Microsoft%20TLS%20RSA%20Root%20G2%20-%20xsign.crt"}, ".digicert.cn"},
		{"china", []string{"http://cacerts.digicert.cn/DigiCertBasicRSACNCAG2.crt", "http://crl.digicert.cn/DigiCertBasicRSACNCAG2.crl", "http://ocsp.digicert.cn/"}, "cacerts.geotrust.com"},
	} {
		t.Run(tc.cloud, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "targets", "list", "--cloud", tc.cloud)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			want := append(tc.want, targets.FamilyAuthorities, "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
				"a cabinet (MSCF)", "root-list", "https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details")
			for _, s := range want {
				if !strings.Contains(out, s) {
					t.Errorf("targets list --cloud %s lacks %q", tc.cloud, s)
				}
			}
			if strings.Contains(out, tc.notWant) {
				t.Errorf("targets list --cloud %s names %q", tc.cloud, tc.notWant)
			}
		})
	}
}
