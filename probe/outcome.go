// Package probe observes one endpoint's way out: DNS, TCP, proxy CONNECT and TLS,
// one file per step. Every prober has the same shape: it takes a context and
// returns a typed result carrying its timing and a classified Outcome; it never
// prints, and a network failure is data in the result, never a Go error.
package probe

import (
	"strings"
	"time"
)

// Outcome is the stable, script-facing classification of a step or a result.
// The strings are a documented contract (README, "Outcome vocabulary"): add new
// ones, never rename.
type Outcome string

// The outcome vocabulary. A result's outcome is that of the first step that
// failed, else OK.
const (
	OK Outcome = "ok"

	DNSNXDomain Outcome = "dns_nxdomain" // the name does not exist
	DNSNoData   Outcome = "dns_nodata"   // the name exists but has no A/AAAA record
	DNSServfail Outcome = "dns_servfail" // the resolver failed to answer (SERVFAIL)
	DNSRefused  Outcome = "dns_refused"  // the resolver refused to answer (REFUSED)
	DNSTimeout  Outcome = "dns_timeout"  // no answer within the DNS budget
	DNSError    Outcome = "dns_error"    // any other DNS failure: bad answer, CNAME loop, unreachable resolver
	// DNSUnexpected: a name with a known answer (NCSI's dns.msftncsi.com)
	// resolved to something else: the resolver rewrites answers.
	DNSUnexpected Outcome = "dns_unexpected"
	// DNSBlocked: the answer was 0.0.0.0 or :: — a DNS filter (or a hosts-file
	// block list) blocks the name; nothing is connected to.
	DNSBlocked Outcome = "dns_blocked"

	TCPRefused     Outcome = "tcp_refused"     // RST: something actively rejected the connection
	TCPTimeout     Outcome = "tcp_timeout"     // silence: a firewall dropped the SYN
	TCPUnreachable Outcome = "tcp_unreachable" // ICMP unreachable, or no route
	// TCPMTUBlackhole: the TLS handshake stalled with full-size packets and
	// completed with the segment size clamped: big packets are lost on the
	// path and the ICMP that would say so is dropped.
	TCPMTUBlackhole Outcome = "tcp_mtu_blackhole"
	// SkippedNoIPv6: an IPv6 address on a host without IPv6 (RunOptions.IPv6):
	// never tried, since the agent cannot use it either; neither ok nor failed.
	SkippedNoIPv6 Outcome = "skipped_no_ipv6"

	// LocalResources: this host ran out of local ports or file descriptors
	// (EADDRNOTAVAIL, EADDRINUSE, EMFILE, ENFILE, ENOBUFS and the WSAE*
	// equivalents) at any step: the host's problem, never the network's.
	LocalResources Outcome = "local_resources"

	ProxyUnreachable  Outcome = "proxy_unreachable"   // the proxy itself could not be reached
	ProxyAuthRequired Outcome = "proxy_auth_required" // 407
	ProxyDenied       Outcome = "proxy_denied"        // 403 and other 4xx: proxy policy
	ProxyError        Outcome = "proxy_error"         // 5xx, garbage, or the tunnel closed
	ProxyTimeout      Outcome = "proxy_timeout"       // the proxy did not answer CONNECT in time

	TLSTimeout          Outcome = "tls_timeout"
	TLSHandshakeFailed  Outcome = "tls_handshake_failed"  // alert, reset or garbage during the handshake
	TLSUntrusted        Outcome = "tls_untrusted"         // chain does not verify (e.g. self-signed)
	TLSHostnameMismatch Outcome = "tls_hostname_mismatch" // leaf does not name the host
	TLSExpired          Outcome = "tls_expired"           // leaf outside its validity period
	TLSOldVersion       Outcome = "tls_old_version"       // negotiated below TLS 1.2
	TLSIntercepted      Outcome = "tls_intercepted"       // leaf minted by a TLS-inspecting middlebox

	// PrivateLinkAbsent: a vault's private-endpoint name (--vault) does not
	// resolve, as expected when the vault has no private endpoint or the
	// resolver does not use its private DNS zone. Informational, not a failure;
	// the report sets it (from dns_nxdomain or dns_nodata), no step does.
	PrivateLinkAbsent Outcome = "privatelink_absent"

	// Cancelled is the outcome of an observation the run was stopped before it
	// finished (Ctrl-C): its steps so far are kept, and one that never started
	// has none. Not a verdict on the network.
	Cancelled Outcome = "cancelled"

	HTTPUnexpected Outcome = "http_unexpected" // NCSI: redirect or wrong body (captive portal, intercepting proxy)
	// HTTPBlockPage: a plain-HTTP GET for a file or a server's own answer got
	// an HTML page with a 2xx status: a web filter's block page, not the
	// server's answer.
	HTTPBlockPage Outcome = "http_blockpage"
	HTTPTimeout   Outcome = "http_timeout"
	HTTPError     Outcome = "http_error"

	// The trust path: the URLs the presented certificates name (CA issuers,
	// OCSP, CRL), fetched over plain HTTP as Windows' CryptoAPI does. A fetch
	// that fails before an answer has the step's outcome (dns_*, tcp_*,
	// proxy_*, http_timeout, http_error); an answer is judged by what it is.
	// A 200 with an HTML page is http_blockpage (HTTPBlockPage).
	// OCSPBadResponse: not a valid OCSP answer for the certificate: an HTTP
	// error to both GET and POST, bytes that do not parse or are not signed
	// for its issuer, the responder's error status (unauthorized, try later,
	// ...), or a certificate status of unknown.
	OCSPBadResponse Outcome = "ocsp_bad_response"
	CRLBadResponse  Outcome = "crl_bad_response" // not a CRL signed by the certificate's issuer (or an HTTP error, or over the size cap)
	CRLExpired      Outcome = "crl_expired"      // a CRL past its next update: Windows treats its certificates' revocation as unknown
	// AIABadResponse: the CA-issuers URL gave no certificate (DER or PKCS#7)
	// that issued the certificate naming it.
	AIABadResponse Outcome = "aia_bad_response"
	Revoked        Outcome = "revoked" // the OCSP responder or the CRL lists the certificate as revoked
	// RevocationUnreachable: an endpoint whose chain has a certificate none
	// of whose OCSP or CRL URLs answered: Windows cannot check its
	// revocation (a warning, a failure with --trust-path required).
	RevocationUnreachable Outcome = "revocation_unreachable"

	// Unknown is a judgement no observation could decide: a wildcard zone
	// whose random name got an answer that says nothing about the zone.
	Unknown Outcome = "unknown"
)

// The steps an outcome can name (Outcome.Step).
const (
	StepDNS   = "dns"
	StepTCP   = "tcp"
	StepProxy = "proxy"
	StepTLS   = "tls"
	StepHTTP  = "http"
)

// Step is the step an outcome belongs to: dns_timeout's is StepDNS; OK,
// Cancelled and Unknown, which belong to no step, are their own.
func (o Outcome) Step() string {
	step, _, _ := strings.Cut(string(o), "_")
	return step
}

// Step is what every prober's result embeds: when it ran, how long it took, and
// how it ended. Error is the redacted, human-readable cause ("" when OK).
type Step struct {
	Start    time.Time     `json:"-"`
	Duration time.Duration `json:"-"`
	Outcome  Outcome       `json:"outcome"`
	Error    string        `json:"error,omitempty"`
}

// MS is the step's duration in milliseconds, as the JSON contract reports it.
func (s Step) MS() float64 { return float64(s.Duration.Microseconds()) / 1000 }

// OK reports whether the step succeeded.
func (s Step) OK() bool { return s.Outcome == OK }
