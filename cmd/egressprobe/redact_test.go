package main

import (
	"strings"
	"testing"

	"egressprobe/internal/testnet"
)

// TestCheckNeverPrintsProxyPassword plants a password in the proxy URL, from
// the flag and from HTTPS_PROXY, against a proxy that demands other
// credentials (407) and one that is unreachable, and looks for it in every
// output format, on stdout and stderr.
func TestCheckNeverPrintsProxyPassword(t *testing.T) {
	const secret = "S3cr3t-p4ss"
	binary(t)
	l := newLab(t)
	l.zone["web.lab.test"] = testnet.DNSName{A: a("127.0.97.1")}
	resolver := l.start(t)
	auth := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyAuth, User: "svc", Password: "other"})
	closed := testnet.TCPClosed(t, "127.0.97.2")

	proxies := map[string]string{
		"407":         "http://svc:" + secret + "@" + auth.Addr.String(),
		"unreachable": "http://svc:" + secret + "@" + closed.String(),
		"percent":     "http://svc:" + strings.ReplaceAll(secret, "-", "%2D") + "@" + auth.Addr.String(),
	}
	for name, p := range proxies {
		for _, format := range []string{"table", "json", "jsonl", "csv", "markdown", "html"} {
			for _, via := range []string{"flag", "env"} {
				if via == "env" && format != "json" && format != "table" {
					continue // the environment's route reaches the same renderers
				}
				args := []string{"check", "--resolver", resolver, "--timeout", "3s", "-v", "-o", format, "--path", "proxy", "web.lab.test"}
				var env []string
				if via == "flag" {
					args = append(args, "--proxy", p)
				} else {
					env = []string{"HTTPS_PROXY=" + p}
				}
				r := runBinary(t, env, args...)
				if r.code != 1 {
					t.Errorf("%s/%s/%s: exit %d, want 1 (the proxy fails); stderr %s", name, format, via, r.code, r.stderr)
				}
				for stream, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
					if strings.Contains(text, secret) || strings.Contains(text, "S3cr3t") {
						t.Errorf("%s/%s/%s: the password is on %s:\n%s", name, format, via, stream, text)
					}
				}
				if format == "json" && !strings.Contains(r.stdout, "svc:xxxxx@") {
					t.Errorf("%s/%s: the redacted proxy URL is missing from the JSON", name, via)
				}
			}
		}
	}
	// A bad proxy URL holding a password: the usage error must not echo it.
	r := runBinary(t, nil, "check", "--proxy", "gopher://svc:"+secret+"@proxy:70", "web.lab.test")
	if r.code != 2 || strings.Contains(r.stderr, secret) {
		t.Errorf("bad proxy URL: exit %d, stderr %q", r.code, r.stderr)
	}
}
