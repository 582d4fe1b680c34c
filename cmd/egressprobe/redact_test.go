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

// TestCheckBadProxyURLHidesPassword: issue 11's two proxy strings, whose
// password holds an unencoded '/' or '#', given as --proxy and as each proxy
// variable, are a usage error (exit 2) that names the fix and shows no part of
// the password on stdout or stderr.
func TestCheckBadProxyURLHidesPassword(t *testing.T) {
	const secret = "MyS3cretPassw0rd"
	binary(t)
	l := newLab(t)
	l.zone["web.lab.test"] = testnet.DNSName{A: a("127.0.97.1")}
	resolver := l.start(t)
	for _, p := range []string{
		"http://bob:" + secret + "/x@127.0.0.1:3128",
		"http://bob:" + secret + "#x@127.0.0.1:3128",
		"bob:" + secret + "?x@127.0.0.1:3128",
	} {
		for _, via := range []string{"--proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
			args := []string{"check", "--resolver", resolver, "--timeout", "2s", "--path", "proxy", "web.lab.test", "http://web.lab.test/"}
			var env []string
			if via == "--proxy" {
				args = append(args, "--proxy", p)
			} else {
				env = []string{via + "=" + p}
			}
			r := runBinary(t, env, args...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("%s=%s: exit %d with stdout %q, want exit 2 and nothing on stdout", via, p, r.code, r.stdout)
			}
			for _, want := range []string{via, "%-encoded", "xxxxx@127.0.0.1:3128"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("%s=%s: stderr %q does not say %q", via, p, r.stderr, want)
				}
			}
			for _, part := range []string{secret, "MyS3cret", "Passw0rd"} {
				if strings.Contains(r.stdout+r.stderr, part) {
					t.Errorf("%s=%s: %q shown:\nstdout %s\nstderr %s", via, p, part, r.stdout, r.stderr)
				}
			}
		}
	}
}
