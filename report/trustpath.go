package report

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"egressprobe/probe"
	"egressprobe/targets"
)

// The --trust-path modes.
const (
	TrustPathOff      = "off"      // no URL of a chain is fetched
	TrustPathCheck    = "check"    // fetched and judged; revocation failures are warnings
	TrustPathRequired = "required" // every failure of the trust path fails the run
)

// The severities of a trust-path row.
const (
	SeverityOK      = "ok"
	SeverityWarning = "warning" // reported, does not fail the run (--trust-path check)
	SeverityFailure = "failure" // fails the run
)

// The warning codes the trust path adds to a result.
const (
	// WarnRevocationSlow: Windows would spend longer than its limit for one
	// chain's revocation fetches (20 s by default) and give up.
	WarnRevocationSlow = "revocation_slow"
)

// TrustURL is one URL the presented chains named (the trust path), fetched
// over one route: a row of the "Certificate authorities (HTTP 80)" section.
type TrustURL struct {
	URL  string `json:"url"`
	Kind string `json:"kind"` // ca_issuers, ocsp, crl
	// UsedBy are the endpoints (hosts) whose chain named it.
	UsedBy []string   `json:"used_by"`
	Path   probe.Path `json:"path"`  // direct | proxy
	Proxy  *string    `json:"proxy"` // redacted URL
	// WinHTTP: fetched over WinHTTP's route (CryptoAPI's, on Windows) where
	// it is not the endpoint's; the URL has a row over that route too.
	WinHTTP  bool          `json:"winhttp,omitempty"`
	Resolver string        `json:"resolver,omitempty"`
	IP       *string       `json:"ip"`
	Status   probe.Outcome `json:"status"`
	// Severity: ok; warning (a revocation URL under --trust-path check);
	// failure (revoked, a CA-issuers URL a chain cannot be built without,
	// or any failure under --trust-path required).
	Severity string `json:"severity"`
	Error    string `json:"error"`
	// Needed: a chain lacked the issuer this CA-issuers URL serves.
	Needed bool              `json:"needed,omitempty"`
	HTTP   *HTTP             `json:"http"`
	OCSP   *probe.OCSPAnswer `json:"ocsp"`
	CRL    *probe.CRLInfo    `json:"crl"`
	Issuer string            `json:"issuer,omitempty"` // ca_issuers: the certificate got
	MS     float64           `json:"ms"`
}

// Host is the URL's host name (for what to open).
func (t *TrustURL) Host() string {
	if u, err := url.Parse(t.URL); err == nil {
		return u.Hostname()
	}
	return t.URL
}

// Port is the URL's port: 80 unless it names another.
func (t *TrustURL) Port() int {
	if u, err := url.Parse(t.URL); err == nil {
		if p, err := strconv.Atoi(u.Port()); err == nil {
			return p
		}
	}
	return 80
}

// TrustPathSettings say how the run judged the trust path and which budgets
// Windows uses for it.
type TrustPathSettings struct {
	Mode string `json:"mode"` // check | required
	// URLTimeoutMS and RevocationTimeoutMS are Windows' per-URL and per-chain
	// revocation budgets: its defaults (15 s, 20 s), or the registry's.
	URLTimeoutMS        int64 `json:"url_timeout_ms"`
	RevocationTimeoutMS int64 `json:"revocation_timeout_ms"`
	// Registry are the ChainEngine values set on this machine (Windows).
	Registry []probe.ChainEngineValue `json:"registry"`
	// WinHTTPProxy is the proxy WinHTTP, and so CryptoAPI, uses (Windows;
	// "" when none or elsewhere); Note says why the registry could not be
	// read, or that this run's route is not CryptoAPI's.
	WinHTTPProxy string `json:"winhttp_proxy,omitempty"`
	Note         string `json:"note,omitempty"`
}

// ChainURLs is what one result's chain costs Windows in fetches.
type ChainURLs struct {
	URLs []string `json:"urls"`
	// WindowsMS is the time Windows would spend on them, in its order (the
	// CA-issuers URL of an issuer not sent; OCSP, then the CRL when OCSP gave
	// no answer), a fetch cut at this run's budget counted at Windows' wait.
	WindowsMS float64 `json:"windows_ms"`
	// OverLimit: past Windows' revocation budget (RevocationTimeoutMS).
	OverLimit bool `json:"over_limit"`
	// MissingIssuer is the CA-issuers URL of a certificate whose issuer the
	// server did not send, and IssuerStatus what its fetch gave: Windows
	// builds the chain from it over port 80, other clients do not.
	MissingIssuer string        `json:"missing_issuer,omitempty"`
	IssuerStatus  probe.Outcome `json:"issuer_status,omitempty"`
}

// missingIssuer is the first use that fetched an issuer the server did not
// send, one that succeeded if any did.
func missingIssuer(uses []probe.TrustUse) *probe.TrustUse {
	var first *probe.TrustUse
	for i := range uses {
		u := &uses[i]
		if !u.Needed || u.Fetch.Kind != probe.TrustCAIssuers {
			continue
		}
		if u.Fetch.Outcome == probe.OK {
			return u
		}
		if first == nil {
			first = u
		}
	}
	return first
}

// TrustPathSummary counts the trust path's rows.
type TrustPathSummary struct {
	Total    int `json:"total"`
	OK       int `json:"ok"`
	Warnings int `json:"warnings"`
	Failed   int `json:"failed"`
}

// trustPath builds the trust-path rows from the observations behind the
// results (probed[i] is r.Results[i]'s; one row per shared fetch, in order of
// first use), judges each result's chain (its revocation, Windows' time, a
// revoked certificate) and counts the rows.
func trustPath(settings *TrustPathSettings, probed []*probe.Observation, r *Report) TrustPathSummary {
	var sum TrustPathSummary
	if settings == nil || settings.Mode == TrustPathOff {
		return sum
	}
	s := *settings
	r.TrustPathSettings = &s
	rows := map[*probe.TrustFetch]int{}
	usedBy := map[*probe.TrustFetch]map[string]bool{} // a set per row: thousands of endpoints share a CA
	for i, o := range probed {
		if len(o.TrustPath) == 0 {
			continue
		}
		res := &r.Results[i]
		for _, u := range o.TrustPath {
			k, ok := rows[u.Fetch]
			if !ok {
				k = len(r.TrustPath)
				rows[u.Fetch] = k
				r.TrustPath = append(r.TrustPath, trustURLOf(u.Fetch, res))
			}
			row := &r.TrustPath[k]
			if !usedBy[u.Fetch][res.Host] {
				if usedBy[u.Fetch] == nil {
					usedBy[u.Fetch] = map[string]bool{}
				}
				usedBy[u.Fetch][res.Host] = true
				row.UsedBy = append(row.UsedBy, res.Host)
			}
			row.Needed = row.Needed || (u.Needed && u.Fetch.Kind == probe.TrustCAIssuers)
		}
		judgeChain(res, o.TrustPath, &s)
	}
	for i := range r.TrustPath {
		t := &r.TrustPath[i]
		t.Severity = severity(t, s.Mode)
		sum.Total++
		switch t.Severity {
		case SeverityOK:
			sum.OK++
		case SeverityWarning:
			sum.Warnings++
		default:
			sum.Failed++
		}
	}
	return sum
}

func trustURLOf(f *probe.TrustFetch, res *Result) TrustURL {
	t := TrustURL{URL: f.URL, Kind: f.Kind, UsedBy: []string{}, Path: res.Path, Proxy: res.Proxy, WinHTTP: f.WinHTTP, Status: f.Outcome, Error: f.Error,
		OCSP: f.OCSP, CRL: f.CRL, Issuer: f.Issuer, MS: ms(f.Elapsed)}
	if f.WinHTTP {
		t.Path, t.Proxy = probe.PathDirect, nil
		if !f.Route.Direct() {
			p := f.Route.Redacted()
			t.Path, t.Proxy = probe.PathProxy, &p
		}
	}
	if f.DNS != nil {
		t.Resolver = f.DNS.Server
	}
	if f.IP != "" {
		ip := f.IP
		t.IP = &ip
	}
	if h := f.HTTP; h != nil {
		t.HTTP = &HTTP{StatusCode: h.StatusCode, Location: h.Location, ContentType: h.ContentType, Bytes: h.BytesRead, MS: h.MS()}
	}
	return t
}

// severity: what a row's status means for the run.
func severity(t *TrustURL, mode string) string {
	switch {
	case t.Status == probe.OK:
		return SeverityOK
	case mode == TrustPathRequired, t.Status == probe.Revoked, t.Kind == probe.TrustCAIssuers && t.Needed && t.Status != probe.Cancelled:
		return SeverityFailure
	}
	return SeverityWarning
}

// judgeChain adds to a result what its chain's URLs say: a revoked
// certificate fails it; a certificate whose revocation no URL could tell,
// and a chain Windows would spend past its limit on, warn (fail, under
// --trust-path required).
func judgeChain(res *Result, uses []probe.TrustUse, s *TrustPathSettings) {
	c := &ChainURLs{URLs: []string{}}
	for _, u := range uses {
		c.URLs = appendNew(c.URLs, u.Fetch.URL)
	}
	took := probe.WindowsChainTime(uses, time.Duration(s.URLTimeoutMS)*time.Millisecond)
	c.WindowsMS = ms(took)
	c.OverLimit = took > time.Duration(s.RevocationTimeoutMS)*time.Millisecond
	if u := missingIssuer(uses); u != nil {
		c.MissingIssuer, c.IssuerStatus = u.Fetch.URL, u.Fetch.Outcome
	}
	res.ChainURLs = c
	if u := revokedUse(uses); u != nil && (res.Status == probe.OK || res.Status == probe.TLSUntrusted) {
		res.Status, res.Error = probe.Revoked, u.Fetch.Error
		return
	}
	for _, cert := range unreachableRevocation(uses) {
		res.Warnings = append(res.Warnings, Warning{Code: WarnRevocationUnreachable, Message: fmt.Sprintf(
			"Windows cannot check whether %s is revoked: none of its OCSP or CRL URLs answered (%s); Schannel clients that require the check (curl.exe: CRYPT_E_REVOCATION_OFFLINE) fail, and others wait for it on every new connection",
			cert.name, strings.Join(cert.failed, "; "))})
	}
	if c.OverLimit {
		res.Warnings = append(res.Warnings, Warning{Code: WarnRevocationSlow, Message: fmt.Sprintf(
			"Windows would spend about %.0f s fetching this chain's URLs (OCSP before CRL, %d s for each silent one), past its %d s limit for a chain's revocation: it gives up, and the check is offline",
			took.Seconds(), s.URLTimeoutMS/1000, s.RevocationTimeoutMS/1000)})
	}
	if s.Mode == TrustPathRequired && res.Status == probe.OK {
		for _, w := range res.Warnings {
			if w.Code == WarnRevocationUnreachable || w.Code == WarnRevocationSlow {
				res.Status, res.Error = probe.RevocationUnreachable, w.Message
				break
			}
		}
	}
}

// revokedUse is the use whose fetch found its own certificate revoked.
func revokedUse(uses []probe.TrustUse) *probe.TrustUse {
	for i := range uses {
		if uses[i].Judged && uses[i].Fetch.Outcome == probe.Revoked {
			return &uses[i]
		}
	}
	return nil
}

// unreachableCert is a certificate of the chain none of whose revocation
// URLs answered over one route.
type unreachableCert struct {
	name   string
	failed []string // "URL: status"
}

// unreachableRevocation lists the certificates of the chain that name
// revocation URLs of which none answered, per route: the endpoint's, and
// WinHTTP's (CryptoAPI's) where the URLs were fetched over it too.
func unreachableRevocation(uses []probe.TrustUse) []unreachableCert {
	type certRoute struct {
		depth   int
		winhttp bool
	}
	byCert := map[certRoute]*unreachableCert{}
	var order []certRoute
	answered := map[certRoute]bool{}
	for _, u := range uses {
		if u.Fetch.Kind == probe.TrustCAIssuers || u.Fetch.Outcome == probe.Cancelled {
			continue
		}
		k := certRoute{u.Depth, u.Fetch.WinHTTP}
		if u.Fetch.Outcome == probe.OK || u.Fetch.Outcome == probe.Revoked {
			answered[k] = true
			continue
		}
		c, ok := byCert[k]
		if !ok {
			c = &unreachableCert{name: fmt.Sprintf("%q", u.Cert)}
			if k.winhttp {
				c.name += " over WinHTTP's route (CryptoAPI's)"
			}
			byCert[k] = c
			order = append(order, k)
		}
		c.failed = append(c.failed, fmt.Sprintf("%s: %s", u.Fetch.URL, u.Fetch.Outcome))
	}
	var out []unreachableCert
	for _, k := range order {
		if !answered[k] {
			out = append(out, *byCert[k])
		}
	}
	return out
}

// trustActions are the changes that would fix the trust path's failures
// and warnings: one line per hop and change, hosts merged.
func trustActions(r *Report, add func(hop, change, host, ip string)) {
	for i := range r.TrustPath {
		t := &r.TrustPath[i]
		if t.Severity == SeverityOK || t.Status == probe.Cancelled {
			continue
		}
		hop, change := fixForTrust(t)
		ip := ""
		if t.IP != nil && hop == HopFirewall {
			ip = *t.IP
		}
		if t.Status == probe.Revoked {
			for _, e := range t.UsedBy {
				add(hop, change, e, "")
			}
			continue
		}
		add(hop, change, t.Host(), ip)
	}
}

// CAChange is the one firewall line for the certificate authorities' hosts
// on port (80, but for a URL that names another): the catalog's and those
// the chains named alike.
func CAChange(port int) string {
	return fmt.Sprintf("allow outbound TCP %d (plain HTTP) from this server to these certificate-authority hosts: packets to them are dropped or rejected", port) + authoritiesNote
}

// fixForTrust phrases the change that would fix one trust-path row: a
// failed step (DNS, TCP, the proxy, a block page) gets the advice of the
// catalog's certificate-authority hosts, so both share one line per change.
func fixForTrust(t *TrustURL) (hop, change string) {
	switch t.Status {
	case probe.Revoked:
		return HopOther, "the certificate these endpoints present is revoked: its owner must replace it (no firewall change helps)"
	case probe.OCSPBadResponse, probe.CRLBadResponse, probe.CRLExpired, probe.AIABadResponse:
		return HopOther, "these certificate-authority URLs answer, but not with what Windows needs (each row's error says what): a cache or filter in between, or the CA itself; confirm on the server with certutil -verify -urlfetch <the server's certificate file>"
	}
	return resultChange(&Result{Host: t.Host(), Port: t.Port(), Scheme: targets.SchemeHTTP, Family: targets.FamilyAuthorities, Path: t.Path, Proxy: t.Proxy, Resolver: t.Resolver, Status: t.Status})
}
