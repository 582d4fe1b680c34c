package probe

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// derCert stands for a certificate or CRL file: DER starts with a SEQUENCE.
var derCert = append([]byte{0x30, 0x82, 0x03, 0x8e}, make([]byte, 910)...)

// TestHTTPGetContent judges what certificate authorities' hosts and Windows'
// root list answer on port 80, served by real loopback servers.
func TestHTTPGetContent(t *testing.T) {
	t.Parallel()
	const lo = "127.0.0.1"
	authorities := testnet.ServeHTTP(t, lo, testnet.Authorities(derCert, testnet.Cabinet(40000)), nil)
	small := testnet.ServeHTTP(t, lo, testnet.Authorities(derCert, testnet.Cabinet(100)), nil)
	block := testnet.ServeHTTP(t, lo, testnet.BlockPage(), nil)
	text := testnet.ServeHTTP(t, lo, testnet.NCSI("hello"), nil)
	// A block page with no content type, told by how it starts.
	untyped := testnet.HTTPRaw(t, lo, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n\xef\xbb\xbf  <!DOCTYPE HTML><html>blocked</html>  ")
	// A cabinet whose header says 40000 bytes, sent as 50000.
	altered := testnet.HTTPRaw(t, lo, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 50000\r\n\r\n"+string(testnet.Cabinet(40000)[:600]))
	portal := testnet.ServeHTTP(t, lo, testnet.CaptivePortal("http://filter.corp.example/blocked?u=1"), nil)
	toHTTPS := testnet.ServeHTTP(t, lo, testnet.CaptivePortal("https://www.digicert.com/"), nil)
	squid := testnet.ServeHTTP(t, lo, proxyPage(http.StatusForbidden, "X-Squid-Error", "ERR_ACCESS_DENIED 0"), nil)
	auth := testnet.ServeHTTP(t, lo, proxyPage(http.StatusProxyAuthRequired, "Proxy-Authenticate", `Basic realm="corp"`), nil)
	gateway := testnet.ServeHTTP(t, lo, proxyPage(http.StatusBadGateway, "", ""), nil)
	tests := []struct {
		name   string
		srv    netip.AddrPort
		host   string
		path   string
		expect Content
		want   Outcome
		errHas string
	}{
		{"root list", authorities, "ctldl.windowsupdate.com", "/authrootstl.cab", ContentCab, OK, ""},
		{"root list as a block page", block, "ctldl.windowsupdate.com", "/authrootstl.cab", ContentCab, HTTPBlockPage, "an HTML page (content type text/html; charset=utf-8) instead of the server's root list cabinet: a web filter's block page"},
		{"root list as text", text, "ctldl.windowsupdate.com", "/authrootstl.cab", ContentCab, HTTPUnexpected, `200 with content type text/plain (a cabinet comes as application/vnd.ms-cab-compressed or application/octet-stream) and no cabinet magic "MSCF"`},
		{"root list too small", small, "ctldl.windowsupdate.com", "/authrootstl.cab", ContentCab, HTTPUnexpected, "a cabinet of 100 bytes: not a plausible root list"},
		{"root list altered", altered, "ctldl.windowsupdate.com", "/authrootstl.cab", ContentCab, HTTPUnexpected, "Content-Length 50000 but the cabinet says 40000 bytes"},
		{"root list gone", authorities, "ctldl.windowsupdate.com", "/authrootstl.txt", ContentCab, HTTPUnexpected, "400 Bad Request instead of the root list cabinet: the server answered"},
		{"certificate", authorities, "cacerts.digicert.com", "/DigiCertGlobalRootG2.crt", ContentDER, OK, ""},
		{"CRL", authorities, "crl3.digicert.com", "/DigiCertGlobalRootG2.crl", ContentDER, OK, ""},
		{"certificate as text", text, "cacerts.digicert.com", "/DigiCertGlobalRootG2.crt", ContentDER, HTTPUnexpected, "200 with content type text/plain, not a DER certificate or CRL"},
		{"CRL as an untyped block page", untyped, "crl3.digicert.com", "/DigiCertGlobalRootG2.crl", ContentDER, HTTPBlockPage, "an HTML page (no content type)"},
		{"OCSP base URL", authorities, "ocsp.digicert.com", "/", ContentAnswer, OK, ""},
		{"OCSP behind a CDN's 502", gateway, "ocsp.digicert.com", "/", ContentAnswer, OK, ""},
		{"OCSP to https on its site", toHTTPS, "ocsp.digicert.com", "/", ContentAnswer, OK, ""},
		{"OCSP as a block page", block, "ocsp.digicert.com", "/", ContentAnswer, HTTPBlockPage, "web filter's block page"},
		{"OCSP redirected off site", portal, "ocsp.digicert.com", "/", ContentAnswer, HTTPUnexpected, "302 to another site (http://filter.corp.example/blocked?u=1)"},
		// On the direct path, port 80's transparent proxies answer themselves.
		{"transparent proxy asks for credentials", auth, "crl3.digicert.com", "/DigiCertGlobalRootG2.crl", ContentDER, ProxyAuthRequired, "answered 407 on the direct path: a transparent proxy intercepts port 80"},
		{"transparent squid denies", squid, "oneocsp.microsoft.com", "/ocsp", ContentAnswer, ProxyDenied, `an intercepting proxy on the direct path refused it itself (403 Forbidden; X-Squid-Error: "ERR_ACCESS_DENIED 0")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := HTTPGet(ctx, dialT(t, tc.srv), HTTPRequest{Host: tc.host, Path: tc.path, Expect: tc.expect, UserAgent: "Microsoft-CryptoAPI/10.0"})
			if r.Outcome != tc.want {
				t.Fatalf("outcome %s (%s), want %s", r.Outcome, r.Error, tc.want)
			}
			if !strings.Contains(r.Error, tc.errHas) || (tc.errHas == "") != (r.Error == "") {
				t.Errorf("error %q, want one with %q", r.Error, tc.errHas)
			}
			if !strings.HasPrefix(r.Error, "GET http://"+tc.host+tc.path) && r.Error != "" {
				t.Errorf("error %q does not name the URL", r.Error)
			}
		})
	}
}

// The root list's answer keeps its content type and size for the report.
func TestHTTPGetContentKeepsHeaders(t *testing.T) {
	t.Parallel()
	srv := testnet.ServeHTTP(t, "127.0.0.1", testnet.Authorities(derCert, testnet.Cabinet(40000)), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := HTTPGet(ctx, dialT(t, srv), HTTPRequest{Host: "ctldl.windowsupdate.com", Path: "/authrootstl.cab", Expect: ContentCab})
	if r.Outcome != OK || r.ContentType != "application/vnd.ms-cab-compressed" || r.ContentLength != 40000 || r.StatusCode != 200 {
		t.Errorf("result %+v", r)
	}
	// Only the start of the 40000 bytes is read (the header, through one
	// buffer of the reader), not the file.
	if r.BytesRead > 8<<10 {
		t.Errorf("read %d bytes of a 40000-byte file, want its start only", r.BytesRead)
	}
}

// Through a proxy (absolute-form GET), the proxy's own 407 and 403 are its
// hop; a block page it serves for the origin is a block page.
func TestHTTPGetContentViaProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		proxy  http.Handler
		user   *url.Userinfo
		want   Outcome
		errHas string
	}{
		{"root list", testnet.ForwardProxy("svc", "pw", testnet.Authorities(derCert, testnet.Cabinet(40000)), nil), url.UserPassword("svc", "pw"), OK, ""},
		{"407", testnet.ForwardProxy("svc", "pw", testnet.Authorities(derCert, testnet.Cabinet(40000)), nil), nil, ProxyAuthRequired, "the proxy answered 407"},
		{"squid denies port 80", proxyPage(http.StatusForbidden, "X-Squid-Error", "ERR_ACCESS_DENIED 0"), nil, ProxyDenied, "the proxy http://127.0.0.1"},
		{"block page", testnet.ForwardProxy("", "", testnet.BlockPage(), nil), nil, HTTPBlockPage, "web filter's block page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testnet.ServeHTTP(t, "127.0.0.1", tc.proxy, nil)
			px := &url.URL{Scheme: "http", Host: srv.String(), User: tc.user}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := HTTPGet(ctx, dialT(t, srv), HTTPRequest{Host: "ctldl.windowsupdate.com", Path: "/msdownload/update/v3/static/trustedr/en/authrootstl.cab", Expect: ContentCab, Proxy: px})
			if r.Outcome != tc.want || !strings.Contains(r.Error, tc.errHas) {
				t.Fatalf("outcome %s (%s), want %s with %q", r.Outcome, r.Error, tc.want, tc.errHas)
			}
		})
	}
}

// Run carries a target's Expect to its GET: the engine judges the content,
// and asks with the User-Agent Windows' CryptoAPI sends.
func TestRunJudgesContent(t *testing.T) {
	t.Parallel()
	agents := make(chan string, 4)
	authorities := testnet.Authorities(derCert, testnet.Cabinet(40000))
	ok := testnet.ServeHTTP(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agents <- r.UserAgent()
		authorities.ServeHTTP(w, r)
	}), nil)
	block := testnet.ServeHTTP(t, "127.0.0.1", testnet.BlockPage(), nil)
	obs := Run(context.Background(), []Target{
		{Host: "127.0.0.1", Port: ok.Port(), Scheme: "http", URLPath: "/authrootstl.cab", Expect: ContentCab},
		{Host: "127.0.0.1", Port: block.Port(), Scheme: "http", URLPath: "/authrootstl.cab", Expect: ContentCab},
	}, RunOptions{})
	if len(obs) != 2 || obs[0].Outcome != OK || obs[1].Outcome != HTTPBlockPage {
		for _, o := range obs {
			t.Errorf("%s:%d: %s (%s)", o.Target.Host, o.Target.Port, o.Outcome, o.Error)
		}
	}
	if ua := <-agents; ua != CryptoAPIUserAgent {
		t.Errorf("User-Agent %q, want %q", ua, CryptoAPIUserAgent)
	}
}

// FuzzHTTPReadContent: any answer judged for its content gets an outcome of
// the HTTP or proxy step (never a panic), and ok only as its kind allows.
func FuzzHTTPReadContent(f *testing.F) {
	cab := string(testnet.Cabinet(40000)[:64])
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ms-cab-compressed\r\nContent-Length: 40000\r\n\r\n" + cab,
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>blocked</html>",
		"HTTP/1.1 200 OK\r\n\r\n\x30\x82\x01\x00",
		"HTTP/1.1 301 Moved\r\nLocation: https://www.microsoft.com/\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: ::bad\r\n\r\n",
		"HTTP/1.1 403 Forbidden\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nMSCF\x00\x00\x00\x00\xff\xff\xff\xff",
	} {
		for _, kind := range []byte{0, 1, 2} {
			f.Add([]byte(s), kind)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind byte) {
		want := []Content{ContentDER, ContentAnswer, ContentCab}[int(kind)%3]
		req := HTTPRequest{Host: "ocsp.digicert.com", Expect: want}
		var r HTTPResult
		if err := r.read(bytes.NewReader(data), req); err != nil {
			return
		}
		if step := r.Outcome.Step(); step != StepHTTP && step != StepProxy && r.Outcome != OK {
			t.Fatalf("outcome %q", r.Outcome)
		}
		if r.Outcome == OK && want != ContentAnswer && r.StatusCode != http.StatusOK {
			t.Fatalf("%s ok with status %d", want, r.StatusCode)
		}
	})
}
