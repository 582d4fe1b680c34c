package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/report"
)

// TestCheckTrustPathExit runs the built binary against a TLS server whose
// chain names a good OCSP responder and a CRL host that refuses port 80:
// --trust-path check reports the CRL row as a warning and exits 0 (OCSP
// answered, so Windows can check revocation); required makes the row a
// failure and exits 1; off fetches nothing; a bad mode is a usage error.
func TestCheckTrustPathExit(t *testing.T) {
	t.Parallel()
	pki := testnet.NewPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/issuing.crl"
	_ = ln.Close()
	cert := pki.Issuing.Leaf(t, nil, []net.IP{net.IPv4(127, 0, 0, 1)}, testnet.LeafOptions{OCSP: []string{pki.URL(testnet.PathOCSP)}, CRL: []string{refused}})
	addr := testnet.ServeHTTP(t, "127.0.0.1", http.NotFoundHandler(), &cert)
	caFile := filepath.Join(testenv.TempDir(t), "root.pem")
	if err := os.WriteFile(caFile, pki.Root.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	args := func(mode string) []string {
		return []string{"check", "https://" + addr.String() + "/", "--ca-file", caFile, "--resolver", "127.0.0.1:53", "--timeout", "5s", "--proxy", "none", "-o", "json", "--trust-path", mode}
	}
	for _, tc := range []struct {
		mode     string
		code     int
		severity string // of the CRL row; "" for no rows
	}{
		{"check", 0, report.SeverityWarning},
		{"required", 1, report.SeverityFailure},
		{"off", 0, ""},
	} {
		r := runBinary(t, nil, args(tc.mode)...)
		if r.code != tc.code {
			t.Errorf("--trust-path %s: exit %d, want %d; stderr %s", tc.mode, r.code, tc.code, r.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("--trust-path %s: %v: %s", tc.mode, err, r.stdout)
		}
		if tc.severity == "" {
			if len(rep.TrustPath) != 0 || rep.TrustPathSettings != nil {
				t.Errorf("--trust-path off: rows %+v", rep.TrustPath)
			}
			continue
		}
		if len(rep.TrustPath) != 2 || rep.TrustPath[0].Status != "ok" || rep.TrustPath[1].URL != refused ||
			rep.TrustPath[1].Status != "tcp_refused" || rep.TrustPath[1].Severity != tc.severity {
			t.Errorf("--trust-path %s: rows %+v", tc.mode, rep.TrustPath)
		}
		if rep.TrustPathSettings == nil || rep.TrustPathSettings.Mode != tc.mode {
			t.Errorf("--trust-path %s: settings %+v", tc.mode, rep.TrustPathSettings)
		}
	}
	if r := runBinary(t, nil, args("always")...); r.code != 2 || !strings.Contains(r.stderr, "--trust-path") || r.stdout != "" {
		t.Errorf("--trust-path always: exit %d, stderr %q", r.code, r.stderr)
	}
}
