package probe

import (
	"bytes"
	"context"
	"crypto/x509"
	"net/url"
	"slices"
	"strings"
	"time"

	"egressprobe/proxy"
)

// The kinds of trust-path URL a certificate names.
const (
	TrustCAIssuers = "ca_issuers" // Authority Information Access: the issuer's certificate
	TrustOCSP      = "ocsp"       // Authority Information Access: the OCSP responder
	TrustCRL       = "crl"        // CRL distribution point
)

// CryptoAPIUserAgent is the User-Agent Windows' CryptoAPI sends when it
// fetches a chain's URLs (Windows 10, 11 and Server 2016 onward): a proxy or
// web filter that treats it differently from a browser's is caught.
const CryptoAPIUserAgent = "Microsoft-CryptoAPI/10.0"

// Windows' default budgets for a chain's URLs: each URL
// (ChainUrlRetrievalTimeoutMilliseconds) and all revocation fetches of one
// chain together (ChainRevAccumulativeUrlRetrievalTimeoutMilliseconds).
const (
	WindowsURLTimeout        = 15 * time.Second
	WindowsRevocationTimeout = 20 * time.Second
)

// TrustPathOptions turn on the trust path (RunOptions.TrustPath): after each
// handshake, every URL the presented certificates name is fetched once per
// run and route, and judged.
type TrustPathOptions struct {
	// Timeout bounds one URL's fetch, all its steps; 0: DefaultTimeout.
	Timeout time.Duration
	// Resolver ("IP:PORT") is asked for a URL's host when the endpoint's own
	// resolver cannot be: an IP-literal target, or one the hosts file
	// answered; and for a URL WinHTTP's setting sends direct.
	Resolver string
	// WinHTTP is WinHTTP's proxy setting, the route CryptoAPI fetches a
	// chain's URLs over (Windows; nil elsewhere): every URL is fetched over
	// it too where it gives a route other than the endpoint's.
	WinHTTP *proxy.Settings
}

// TrustFetch is one URL a certificate named, fetched over one route and
// judged. One fetch is shared by every observation whose chain named the URL
// over that route: read it, never write it.
type TrustFetch struct {
	URL  string
	Kind string // TrustCAIssuers, TrustOCSP or TrustCRL
	// Cert is the subject of the certificate the fetch was judged for (the
	// first in the run that named the URL): the one OCSP was asked about,
	// whose serial was looked for on the CRL, whose issuer was fetched.
	Cert string
	// Route is the route fetched over: the endpoint's, or WinHTTP's when
	// WinHTTP is set.
	Route   proxy.Route
	WinHTTP bool
	// The steps, nil for those not run: the local resolution (direct), the
	// connection (TCP direct, else to the proxy), and the last HTTP exchange
	// (an OCSP POST after its GET failed).
	IP    string
	DNS   *DNSResult
	TCP   *TCPResult
	Proxy *ConnectResult
	HTTP  *HTTPResult
	OCSP  *OCSPAnswer // the responder's answer, when one parsed
	CRL   *CRLInfo    // the list, when one parsed
	// Issuer is the subject of the certificate a CA-issuers URL gave.
	Issuer  string
	Outcome Outcome
	Error   string
	Start   time.Time
	Elapsed time.Duration

	certKey string            // the judged certificate (issuer + serial)
	issuer  *x509.Certificate // CA issuers: the certificate got, when it is the issuer
}

// TimedOut reports whether the fetch was cut at its budget: Windows would
// have waited its own per-URL timeout instead.
func (f *TrustFetch) TimedOut() bool {
	switch f.Outcome {
	case DNSTimeout, TCPTimeout, ProxyTimeout, HTTPTimeout:
		return true
	}
	return false
}

// OCSPAnswer is an OCSP responder's answer.
type OCSPAnswer struct {
	Method string `json:"method"` // GET or POST: the request that got the answer
	// Status is good, revoked or unknown (the certificate's status), or the
	// responder's error status: malformed, internal error, try later,
	// signature required, unauthorized.
	Status     string    `json:"status"`
	ProducedAt time.Time `json:"produced_at,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// CRLInfo is a certificate revocation list.
type CRLInfo struct {
	Issuer     string    `json:"issuer"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	Entries    int       `json:"entries"`
	// SignatureChecked is false when the issuer was not at hand (not sent,
	// and its CA-issuers URL failed).
	SignatureChecked bool `json:"signature_checked"`
}

// TrustUse is one URL one certificate of an observation's chain named.
type TrustUse struct {
	Depth int    // the certificate's place in the presented chain, 0 for the leaf
	Cert  string // its subject
	// Needed: a CA-issuers URL of a certificate whose issuer the server did
	// not send: the chain cannot be built without it.
	Needed bool
	// Judged: the fetch was judged for this very certificate (its OCSP status
	// and its serial on the CRL are this certificate's).
	Judged bool
	Fetch  *TrustFetch
}

// trustRef is one URL a presented certificate names, before fetching.
type trustRef struct {
	depth  int
	kind   string
	url    string
	cert   *x509.Certificate
	issuer *x509.Certificate // from the presented chain; nil when not sent
}

// trustRefs lists the plain-HTTP URLs the presented certificates name, in the
// order Windows would use them per certificate: the issuer's certificate
// (which Windows needs only when the server did not send it, fetched anyway
// for what to open), then OCSP, then the CRLs. A self-signed root names none
// that matter: Windows does not check a root's revocation.
// Other schemes (ldap://, https://) are left out: CryptoAPI fetches chains
// over plain HTTP.
func trustRefs(certs []*x509.Certificate) []trustRef {
	var out []trustRef
	for i, c := range certs {
		if selfSigned(c) {
			continue
		}
		issuer := issuerIn(c, certs, i)
		add := func(kind string, urls []string) {
			for _, u := range urls {
				if p, err := url.Parse(u); err == nil && strings.EqualFold(p.Scheme, "http") && p.Host != "" {
					out = append(out, trustRef{depth: i, kind: kind, url: u, cert: c, issuer: issuer})
				}
			}
		}
		add(TrustCAIssuers, c.IssuingCertificateURL)
		add(TrustOCSP, c.OCSPServer)
		add(TrustCRL, c.CRLDistributionPoints)
	}
	return out
}

// issuerIn is the presented certificate that issued certs[i], nil when the
// server did not send it: the one whose subject is c's issuer and, where
// both say, whose key identifier c names — how chain builders pick
// candidates, without a signature check per probe (the chain's verification
// did that already).
func issuerIn(c *x509.Certificate, certs []*x509.Certificate, i int) *x509.Certificate {
	for j, cand := range certs {
		if j != i && bytes.Equal(c.RawIssuer, cand.RawSubject) &&
			(len(c.AuthorityKeyId) == 0 || len(cand.SubjectKeyId) == 0 || bytes.Equal(c.AuthorityKeyId, cand.SubjectKeyId)) {
			return cand
		}
	}
	return nil
}

// trustKey names one fetch in a run: a URL over a route (and, direct, with
// the resolver that resolves its host); a fetch over WinHTTP's route is its
// own, so that its row says so.
type trustKey struct {
	kind, url, route, resolver string
	winhttp                    bool
}

// trustCache fetches each trust-path URL once per run and route, so that a
// thousand endpoints whose chains share a CA cost a handful of fetches.
type trustCache struct{ onceMap[trustKey, TrustFetch] }

// get returns key's fetch, running do if no observation has; a waiter waits
// for the one in flight (bounded by its budget) or for ctx.
func (c *trustCache) get(ctx context.Context, key trustKey, do func() TrustFetch) *TrustFetch {
	if f, ok := c.onceMap.get(ctx, key, nil, do); ok {
		return f
	}
	return &TrustFetch{URL: key.url, Kind: key.kind, Outcome: Cancelled, Error: "cancelled while another probe fetched " + key.url}
}

// trustPath fetches the URLs the observation's presented certificates name
// (RunOptions.TrustPath) over the endpoint's route and, where it differs,
// over WinHTTP's (CryptoAPI's), and drops the certificates: a run keeps none.
func (r *runner) trustPath(obs Observation) Observation {
	if obs.TLS == nil || obs.TLS.certs == nil {
		return obs
	}
	certs := obs.TLS.certs
	obs.TLS.certs = nil
	if r.trust == nil || r.ctx.Err() != nil {
		return obs
	}
	refs := trustRefs(certs)
	own := obs.Target.Route
	obs.TrustPath = r.trustUses(refs, obs.Target, func(trustRef) (proxy.Route, bool) { return own, true })
	if w := r.opt.TrustPath.WinHTTP; w != nil {
		obs.TrustPath = append(obs.TrustPath, r.trustUses(refs, obs.Target, func(ref trustRef) (proxy.Route, bool) {
			u, err := url.Parse(ref.url) // parsed by trustRefs already
			if err != nil {
				return proxy.Route{}, false
			}
			rt, err := w.Route(u, proxy.SourceWinHTTP)
			return rt, err == nil && !sameRoute(rt, own)
		})...)
	}
	return obs
}

// trustUses fetches refs, each over the route routeOf gives (none when it
// says no), and says which certificate named each.
func (r *runner) trustUses(refs []trustRef, t Target, routeOf func(trustRef) (proxy.Route, bool)) []TrustUse {
	var uses []TrustUse
	fetched := map[*x509.Certificate]*x509.Certificate{} // a certificate → its issuer from a CA-issuers URL over this route
	for _, ref := range refs {
		route, ok := routeOf(ref)
		if !ok {
			continue
		}
		winhttp := !sameRoute(route, t.Route) // a WinHTTP route routeOf kept
		needed := ref.kind == TrustCAIssuers && ref.issuer == nil
		if ref.issuer == nil {
			ref.issuer = fetched[ref.cert]
		}
		key, resolver := trustKey{kind: ref.kind, url: ref.url, route: route.String(), winhttp: winhttp}, ""
		if route.Direct() {
			key.route, resolver = string(PathDirect), t.Resolver
			if winhttp || resolver == "" || resolver == HostsResolver {
				resolver = r.opt.TrustPath.Resolver
			}
			key.resolver = resolver
		}
		f := r.trust.get(r.ctx, key, func() TrustFetch { return r.fetchTrust(ref, route, resolver, winhttp) })
		judged := f.certKey == certKey(ref.cert)
		// The fetch checked its issuer's signature on the certificate it was
		// judged for: only another certificate naming the URL needs a check.
		if ref.kind == TrustCAIssuers && f.issuer != nil && (judged || ref.cert.CheckSignatureFrom(f.issuer) == nil) {
			fetched[ref.cert] = f.issuer
		}
		uses = append(uses, TrustUse{
			Depth: ref.depth, Cert: ref.cert.Subject.String(), Needed: needed,
			Judged: judged, Fetch: f,
		})
	}
	return uses
}

// sameRoute: a and b leave the host the same way, directly or through the
// same proxy, whatever setting chose them.
func sameRoute(a, b proxy.Route) bool {
	if a.Direct() || b.Direct() {
		return a.Direct() == b.Direct()
	}
	return a.Proxy.String() == b.Proxy.String()
}

// certKey names a certificate by its issuer and serial, as OCSP and CRLs do.
func certKey(c *x509.Certificate) string {
	return string(c.RawIssuer) + "\x00" + c.SerialNumber.String()
}

// WindowsChainTime is how long Windows would spend fetching one chain's
// URLs, in its order: per certificate the issuer's certificate when it was
// not sent, then OCSP until one answers, then the CRLs until one answers
// when no OCSP did. A fetch cut at this run's budget counts as urlTimeout,
// Windows' own per-URL wait. When the URLs were fetched over WinHTTP's route
// as well, only those fetches count: it is the one CryptoAPI takes.
func WindowsChainTime(uses []TrustUse, urlTimeout time.Duration) time.Duration {
	var total time.Duration
	checked := map[int]bool{} // certificates whose revocation an answer settled
	winhttp := slices.ContainsFunc(uses, func(u TrustUse) bool { return u.Fetch != nil && u.Fetch.WinHTTP })
	for _, u := range uses {
		aia := u.Fetch != nil && u.Fetch.Kind == TrustCAIssuers
		if u.Fetch == nil || u.Fetch.WinHTTP != winhttp || (aia && !u.Needed) || (!aia && checked[u.Depth]) {
			continue
		}
		took := u.Fetch.Elapsed
		if u.Fetch.TimedOut() {
			took = urlTimeout
		}
		total += took
		if !aia && answered(u.Fetch.Outcome) {
			checked[u.Depth] = true
		}
	}
	return total
}

// answered: the revocation fetch settled the certificate's status, good or
// revoked, so Windows tries no further URL for it.
func answered(o Outcome) bool { return o == OK || o == Revoked }
