package probe

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"egressprobe/proxy"
)

// Caps on a trust-path answer's body. The largest public CRLs (DigiCert's,
// Microsoft's) are a few MB; an OCSP answer or a CA's certificates a few KB.
const (
	MaxCRLSize        = 16 << 20
	maxTrustAnswerLen = 64 << 10
)

// fetchTrust fetches and judges one URL ref names, over route (the
// endpoint's, or WinHTTP's), within the trust path's per-URL budget, through
// the engine's own steps: DNS (shared with the run) and TCP, or the proxy,
// then plain HTTP.
func (r *runner) fetchTrust(ref trustRef, route proxy.Route, resolver string, winhttp bool) TrustFetch {
	f := TrustFetch{URL: ref.url, Kind: ref.kind, Cert: ref.cert.Subject.String(), Route: route, WinHTTP: winhttp, certKey: certKey(ref.cert), Start: time.Now()}
	budget := r.opt.TrustPath.Timeout
	if budget <= 0 {
		budget = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(r.ctx, budget)
	defer cancel()
	reqs, err := trustRequests(ref)
	if err != nil {
		f.Outcome, f.Error = OCSPBadResponse, err.Error()
		f.Elapsed = time.Since(f.Start)
		return f
	}
	var getErr string
	for i, req := range reqs {
		conn := r.trustConn(ctx, &f, route, resolver, budget)
		if conn == nil {
			break
		}
		if !route.Direct() {
			req.Proxy = route.Proxy
		}
		hr := HTTPGet(ctx, conn, req)
		_ = conn.Close()
		f.HTTP = &hr
		retry := judgeTrust(&f, ref, req.method(), time.Now())
		if i > 0 && f.Outcome != OK {
			f.Error = getErr + "; then by POST: " + f.Error
		}
		if !retry || i == len(reqs)-1 {
			break
		}
		// The GET got no usable answer: Windows falls back to a POST.
		getErr = f.Error
	}
	if f.HTTP != nil {
		f.HTTP.Content = nil // judged: the run keeps no CRL
	}
	f.Elapsed = time.Since(f.Start)
	return f
}

// trustRequests are the HTTP requests for ref, in order: one GET; for OCSP a
// GET with the request in the path (RFC 6960 appendix A), then a POST.
func trustRequests(ref trustRef) ([]HTTPRequest, error) {
	u, err := url.Parse(ref.url)
	if err != nil {
		return nil, fmt.Errorf("%s URL %s: %w", ref.kind, shownURL(ref.url), err)
	}
	base := HTTPRequest{Host: hostHeader(u.Hostname(), urlPort(u), "http"), Path: u.EscapedPath(), UserAgent: CryptoAPIUserAgent, MaxBody: maxTrustAnswerLen}
	if base.Path == "" {
		base.Path = "/"
	}
	switch ref.kind {
	case TrustCRL:
		base.Path, base.MaxBody = u.RequestURI(), MaxCRLSize
		return []HTTPRequest{base}, nil
	case TrustCAIssuers:
		base.Path = u.RequestURI()
		return []HTTPRequest{base}, nil
	}
	if ref.issuer == nil {
		return nil, fmt.Errorf("ocsp %s: no request can be made for %q: its issuer was not sent, and no CA-issuers URL gave it", shownURL(ref.url), ref.cert.Subject.String())
	}
	der, err := ocsp.CreateRequest(ref.cert, ref.issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("ocsp %s: the request for %q: %w", shownURL(ref.url), ref.cert.Subject.String(), err)
	}
	get := base
	get.Path = strings.TrimSuffix(base.Path, "/") + "/" + url.QueryEscape(base64.StdEncoding.EncodeToString(der))
	post := base
	post.Method, post.Body, post.ContentType = http.MethodPost, der, "application/ocsp-request"
	return []HTTPRequest{get, post}, nil
}

// urlPort is u's port, 80 when it names none.
func urlPort(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	return proxy.DefaultPort("http")
}

// trustConn connects for one request of f: to route's proxy, or to the
// URL's host (resolved once per fetch, with the run's DNS cache). It records
// the steps on f; nil when one failed (f's outcome says which).
func (r *runner) trustConn(ctx context.Context, f *TrustFetch, route proxy.Route, resolver string, budget time.Duration) net.Conn {
	if !route.Direct() {
		conn, cr := DialProxy(ctx, route)
		f.Proxy = &cr
		if !cr.OK() {
			f.Outcome, f.Error = cr.Outcome, fmt.Sprintf("%s: %s", f.where(), cr.Error)
		}
		return conn
	}
	u, _ := url.Parse(f.URL) // parsed by trustRequests already
	addr, ok := r.trustAddr(ctx, f, u.Hostname(), resolver, budget)
	if !ok {
		return nil
	}
	conn, tr := DialTCP(ctx, netip.AddrPortFrom(addr, urlPort(u)))
	f.TCP = &tr
	if !tr.OK() {
		f.Outcome, f.Error = tr.Outcome, fmt.Sprintf("%s: %s", f.where(), tr.Error)
		return nil
	}
	return conn
}

// trustAddr is the address of host to fetch from: the first the resolver
// gave of the families this run may use.
func (r *runner) trustAddr(ctx context.Context, f *TrustFetch, host, resolver string, budget time.Duration) (netip.Addr, bool) {
	if a, ok := ipLiteral(host); ok {
		f.IP = a.String()
		return a, true
	}
	if f.DNS == nil {
		f.DNS = r.dns.resolve(ctx, DNSQuery{Host: host, Server: resolver}, DNSBudget(budget))
	}
	if !f.DNS.OK() {
		f.Outcome, f.Error = f.DNS.Outcome, fmt.Sprintf("%s: %s", f.where(), f.DNS.Error)
		return netip.Addr{}, false
	}
	for _, a := range f.DNS.Addrs {
		if (r.opt.Family == 0 || a.Unmap().Is4() == (r.opt.Family == 4)) && !skipsIPv6(r.opt.IPv6, a) {
			f.IP = a.String()
			return a, true
		}
	}
	f.Outcome = DNSNoData
	f.Error = fmt.Sprintf("%s: resolver %s gave %s no address this host can use (%v)", f.where(), resolver, host, f.DNS.Addrs)
	return netip.Addr{}, false
}
