// Package proxy decides where a connection leaves the host — directly or
// through an HTTP(S) proxy, found from a flag, the environment or the Windows
// settings — and opens CONNECT tunnels through that proxy. Credentials in a
// proxy URL never appear in a string this package returns: everything goes
// through Redact.
package proxy

import (
	"crypto/x509"
	"net/url"
)

// Source says where a Route's decision came from.
type Source string

// The sources of a route.
const (
	SourceFlag    Source = "flag"    // --proxy URL
	SourceEnv     Source = "env"     // HTTPS_PROXY / HTTP_PROXY / NO_PROXY
	SourceWinHTTP Source = "winhttp" // the WinHTTP default proxy (netsh winhttp), used by services
	SourceIE      Source = "ie"      // the per-user Internet Settings (WinINet)
	SourceNone    Source = "none"    // --proxy none, or nothing configured
)

// Route is how a connection to one target leaves the host.
type Route struct {
	Proxy  *url.URL // nil: direct. Holds credentials: never print it; use Redacted()
	Source Source
	// Detail says why, for a human: the variable or registry value used, a
	// bypass that matched, a PAC script found but not evaluated. Redacted.
	Detail string
	// ProxyRoots verifies an https:// proxy's certificate; nil: system roots.
	ProxyRoots *x509.CertPool
}

// Direct reports whether the route goes straight to the target.
func (r Route) Direct() bool { return r.Proxy == nil }

// Redacted is "direct" or the proxy URL with any password replaced by "xxxxx".
func (r Route) Redacted() string {
	if r.Proxy == nil {
		return "direct"
	}
	return r.Proxy.Redacted()
}

// String makes %v and %s of a Route safe to print.
func (r Route) String() string {
	s := r.Redacted() + " (" + string(r.Source)
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s + ")"
}

// GoString makes %#v safe too: the default would dump the URL's Userinfo.
func (r Route) GoString() string { return "proxy.Route{" + r.String() + "}" }
