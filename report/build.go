package report

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"egressprobe/probe"
	"egressprobe/targets"
)

// Input is everything Build joins. Endpoints is parallel to the probe targets
// given to probe.Run: Observations[i].Index points into it.
type Input struct {
	Started, Finished time.Time
	Cloud, Region     string
	Resolvers         []string
	Proxy             *ProxyInfo
	Proxies           []ProxyInfo
	IPv6              *probe.IPv6Reach // the run's decision (probe.DetectIPv6); nil: not decided
	Endpoints         []targets.Endpoint
	Observations      []probe.Observation
	NotProbed         []NotProbed

	// Tags attributes an address to the service tags containing it; nil when no
	// feed is loaded (TagsInfo.Note then says why and how to fetch one).
	Tags     func(netip.Addr) []TagMatch
	TagsInfo ServiceTagsInfo
	// Provider names the CDN, WAF or cloud owning an address; nil: not checked.
	Provider func(netip.Addr) *Provider
	// TrustPath is how the chains' URLs were fetched and are judged; nil or
	// mode off: they were not.
	TrustPath *TrustPathSettings
}

// RoleWildcardCheck marks an endpoint that is a random name under a wildcard
// family's zone: its DNS answer goes to Report.Wildcards, not to Results.
const RoleWildcardCheck = "wildcard-check"

// MaxFeedAge is how old a cached service-tag feed may be before the report
// says to update it: Microsoft publishes weekly, so two weeks is one missed.
const MaxFeedAge = 14 * 24 * time.Hour

// feedAgeNote judges a loaded feed's age by its own date (Published, from
// Microsoft's file name) when known, else by when the cache downloaded it,
// and says which; "" when the feed is recent. A --service-tags file whose
// name carries no date cannot be judged, and the note says so.
func feedAgeNote(t ServiceTagsInfo, now time.Time, cloud string) string {
	days := func(since time.Time) int { return int(now.Sub(since).Hours() / 24) }
	fix := fmt.Sprintf("run 'egressprobe servicetags update --cloud %s'", cloud)
	if t.Updated.IsZero() {
		fix = fmt.Sprintf("download this week's file, or drop --service-tags and %s", fix)
	}
	switch {
	case !t.Published.IsZero():
		if now.Sub(t.Published) <= MaxFeedAge {
			return ""
		}
		return fmt.Sprintf("the feed is %d days old (published %s, the date in Microsoft's file name) and Microsoft publishes a new one every week: %s",
			days(t.Published), t.Published.Format(time.DateOnly), fix)
	case !t.Updated.IsZero():
		if now.Sub(t.Updated) <= MaxFeedAge {
			return ""
		}
		return fmt.Sprintf("the cached feed was downloaded %d days ago (its source was not named ServiceTags_<Cloud>_<yyyymmdd>.json, so its age is judged by the download) and Microsoft publishes a new one every week: %s",
			days(t.Updated), fix)
	default:
		return "the file's name carries no publication date (Microsoft names it ServiceTags_<Cloud>_<yyyymmdd>.json), so the feed's age was not judged"
	}
}

// MaxClockSkew is how far the local clock may be from the servers' before
// sign-in tokens and certificate checks start failing.
const MaxClockSkew = 5 * time.Minute

// Build joins observations with their endpoints, attributes every address,
// judges the results and lists what to open. It is a pure function of in.
func Build(in Input) *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Started:       in.Started.UTC(),
		Finished:      in.Finished.UTC(),
		Cloud:         in.Cloud,
		Region:        in.Region,
		Resolvers:     orEmpty(in.Resolvers),
		Proxy:         in.Proxy,
		Proxies:       orEmpty(in.Proxies),
		IPv6:          in.IPv6,
		ServiceTags:   in.TagsInfo,
		Wildcards:     []Wildcard{},
		NotProbed:     orEmpty(in.NotProbed),
		Results:       make([]Result, 0, len(in.Observations)),
		TrustPath:     []TrustURL{},
	}
	r.ServiceTags.Loaded = in.Tags != nil
	if r.ServiceTags.Loaded {
		r.ServiceTags.Note = feedAgeNote(r.ServiceTags, in.Finished, in.Cloud)
	}
	// The observations behind r.Results, in their order: pointers, not copies
	// (an observation is 400 bytes, and a run may have 10,000).
	probed := make([]*probe.Observation, 0, len(in.Observations))
	for i := range in.Observations {
		o := &in.Observations[i]
		if in.Endpoints[o.Index].Role == RoleWildcardCheck {
			r.Wildcards = append(r.Wildcards, wildcardOf(in.Endpoints[o.Index], o))
			continue
		}
		r.Results = append(r.Results, buildResult(&in, o))
		probed = append(probed, o)
	}
	judgeWildcards(r.Wildcards, r.Results)
	warnDisagreement(r.Results, probed)
	warnIPv6Fallback(r.Results)
	r.Clock = clockSkew(probed)
	if r.Clock != nil && r.Clock.Skewed {
		r.Clock.Message = clockMessage(r.Clock)
	}
	trust := trustPath(in.TrustPath, probed, r)
	// --trust-path required: every failure of the certificate authorities
	// counts, the catalog's revocation servers' too.
	required := in.TrustPath != nil && in.TrustPath.Mode == TrustPathRequired
	r.Summary = summarize(r.Results, trust, required)
	r.Summary.Verdict = SummaryVerdict(r.Results)
	r.Open = actions(r)
	return r
}

func buildResult(in *Input, o *probe.Observation) Result {
	ep := in.Endpoints[o.Index]
	res := Result{
		Host:         ep.Host,
		Port:         ep.Port,
		Scheme:       ep.Scheme,
		Family:       ep.Family,
		Role:         ep.Role,
		Evidence:     ep.Evidence,
		PrivateLink:  ep.PrivateLink,
		Path:         o.Path(),
		Resolver:     o.Target.Resolver,
		Status:       o.Outcome,
		Error:        o.Error,
		Warnings:     []Warning{},
		ServiceTags:  []TagMatch{},
		ExpectedTags: orEmpty(ep.ExpectedTags),
		ElapsedMS:    ms(o.Elapsed),
	}
	if res.Resolver == "" {
		res.Resolver = "none" // an IP literal: nothing was resolved
	}
	if !o.Target.Route.Direct() {
		p := o.Target.Route.Redacted()
		res.Proxy = &p
	}
	if o.IP.IsValid() {
		ip := o.IP.String()
		res.IP = &ip
	}
	res.DNS = dnsOf(o.DNS)
	if o.TCP != nil {
		res.TCP = &Timing{MS: o.TCP.MS()}
	}
	if c := o.Proxy; c != nil {
		res.ProxyConnect = &Connect{StatusCode: c.StatusCode, ProxyAddr: c.ProxyAddr, MS: c.MS()}
	}
	res.TLS = tlsOf(o.TLS)
	res.Trace = o.Trace
	if h := o.HTTP; h != nil {
		res.HTTP = &HTTP{StatusCode: h.StatusCode, Location: h.Location, BodyMatch: h.BodyMatch, ContentType: h.ContentType, MS: h.MS()}
	}
	if ep.Scheme == targets.SchemeDNS {
		judgeExpectedAddrs(&res, ep, o)
	}
	attribute(in, &res, ep, o)
	judgePrivateLink(&res, ep, o)
	warnRevocation(&res)
	return res
}

// judgePrivateLink judges a vault's private-endpoint name (--vault), which
// exists only in the vault's private DNS zone: no answer is expected unless
// the user said the vault has a private endpoint (--private-endpoint); then
// no answer, or a public one, is a DNS failure (the warning the public answer
// raised becomes the failure).
func judgePrivateLink(res *Result, ep targets.Endpoint, o *probe.Observation) {
	if ep.PrivateLink == "" {
		return
	}
	zone := ep.Host[strings.IndexByte(ep.Host, '.')+1:]
	absent := o.Outcome == probe.DNSNXDomain || o.Outcome == probe.DNSNoData
	public := o.IP.IsValid() && !inPrivateSpace(o.IP)
	switch {
	case absent && ep.PrivateLink == targets.PrivateLinkOptional:
		res.Status = probe.PrivateLinkAbsent
		res.Error = fmt.Sprintf("expected (%s via %s): the vault has no private endpoint, or this resolver does not use its private DNS zone %s; the agent then uses the region's public pods (give --private-endpoint if the vault has one)",
			o.Outcome, res.Resolver, zone)
	case public && ep.PrivateLink == targets.PrivateLinkRequired:
		res.Status = probe.DNSUnexpected
		res.Error = fmt.Sprintf("%s resolves to public address %s via %s: this resolver does not answer from the private DNS zone %s, so the agent bypasses the vault's private endpoint",
			ep.Host, o.IP.Unmap(), res.Resolver, zone)
		res.Warnings = slices.DeleteFunc(res.Warnings, func(w Warning) bool { return w.Code == WarnPrivateLinkPublic })
	}
}

func dnsOf(d *probe.DNSResult) DNS {
	if d == nil {
		return DNS{Status: "", CNAMEs: []string{}, Addrs: []string{}}
	}
	out := DNS{Status: d.Outcome, CNAMEs: make([]string, 0, len(d.CNAMEs)), Addrs: make([]string, 0, len(d.Addrs)), TTL: d.TTL, MS: d.MS()}
	for _, c := range d.CNAMEs {
		out.CNAMEs = append(out.CNAMEs, c.Target)
	}
	for _, a := range d.Addrs {
		out.Addrs = append(out.Addrs, a.String())
	}
	return out
}

func tlsOf(t *probe.TLSResult) *TLS {
	if t == nil {
		return nil
	}
	out := &TLS{Version: t.Version, Cipher: t.Cipher, ALPN: t.ALPN, Verified: t.Verified, InterceptedBy: t.InterceptedBy, SANs: []string{}, MSSRetry: t.MSSRetry, MS: t.MS()}
	if len(t.Chain) > 0 {
		leaf := t.Chain[0]
		out.Issuer, out.Subject, out.NotAfter = leaf.Issuer, leaf.Subject, leaf.NotAfter.UTC()
		out.SANs = orEmpty(leaf.SANs)
	}
	return out
}

// judgeExpectedAddrs checks a DNS-only endpoint (dns.msftncsi.com) against the
// addresses Windows NCSI expects: any other answer means a resolver that
// rewrites answers (captive portal, DNS filtering).
func judgeExpectedAddrs(res *Result, ep targets.Endpoint, o *probe.Observation) {
	if o.Outcome != probe.OK || o.DNS == nil || len(ep.ExpectAddrs) == 0 {
		return
	}
	for _, a := range o.DNS.Addrs {
		if slices.Contains(ep.ExpectAddrs, a.Unmap()) {
			return
		}
	}
	res.Status = probe.DNSUnexpected
	res.Error = fmt.Sprintf("%s resolved to %s via %s, expected %s: the resolver rewrites answers (captive portal or DNS filter)",
		ep.Host, strings.Join(res.DNS.Addrs, ", "), res.Resolver, joinAddrs(ep.ExpectAddrs))
}

// attribute adds the service tags and provider of the result's address and
// the warnings that follow from them.
func attribute(in *Input, res *Result, ep targets.Endpoint, o *probe.Observation) {
	if w := o.DNS; w != nil && w.Warning != "" {
		res.Warnings = append(res.Warnings, Warning{Code: WarnDNSPartial, Message: w.Warning})
	}
	if pinned := o.Target.HostsAddrs; len(pinned) > 0 && o.Target.Resolver != probe.HostsResolver {
		res.Warnings = append(res.Warnings, Warning{Code: WarnHostsOverride, Message: fmt.Sprintf(
			"this machine's hosts file maps %s to %s: the agent here uses that, not what %s answers, so this result is not what the agent sees",
			ep.Host, joinAddrs(pinned), res.Resolver)})
	}
	if !o.IP.IsValid() {
		return
	}
	ip := o.IP.Unmap()
	if in.Tags != nil {
		res.ServiceTags = orEmpty(in.Tags(ip))
	}
	if in.Provider != nil {
		res.Provider = in.Provider(ip)
	}
	if ip.IsLoopback() && o.DNS != nil && !isLocalhost(ep.Host) {
		// Nothing left the host: what_to_open gives no firewall change for it.
		res.Warnings = append(res.Warnings, Warning{Code: WarnLoopbackAnswer, Message: fmt.Sprintf(
			"%s resolves to loopback address %s via %s: the name is redirected to this host (a hosts-file entry, a DNS filter or a local agent), so this result says nothing about the network",
			ep.Host, ip, res.Resolver)})
	}
	private := inPrivateSpace(ip)
	res.DNS.Private = private && len(res.ServiceTags) == 0
	switch {
	case res.DNS.Private:
		res.Warnings = append(res.Warnings, Warning{Code: WarnPrivateEndpoint, Message: fmt.Sprintf(
			"%s resolves to private address %s via %s: a private endpoint answer; traffic must reach its virtual network, and service-tag rules do not apply",
			ep.Host, ip, res.Resolver)})
	case o.DNS != nil && (o.DNS.PrivateLink || probe.IsPrivateLinkName(ep.Host)) && !private:
		res.Warnings = append(res.Warnings, Warning{Code: WarnPrivateLinkPublic, Message: fmt.Sprintf(
			"%s has a privatelink name (%s) but %s answers public address %s: the endpoint has a private endpoint and this resolver does not use its private DNS zone",
			ep.Host, privatelinkName(ep.Host, o.DNS), res.Resolver, ip)})
	}
	if in.Tags == nil || ep.JudgeByName || len(ep.ExpectedTags) == 0 || private {
		return
	}
	ok := tagsSatisfied(ep.ExpectedTags, res.ServiceTags)
	res.ExpectedTagsOK = &ok
	if !ok {
		res.Warnings = append(res.Warnings, tagMismatchWarning(ip.String(), ep.ExpectedTags, res.ServiceTags))
	}
}

// isLocalhost reports whether host is meant to resolve to loopback
// (localhost and its subdomains, RFC 6761).
func isLocalhost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// privatelinkName is the first name of host's chain with a privatelink label.
func privatelinkName(host string, d *probe.DNSResult) string {
	if probe.IsPrivateLinkName(host) {
		return host
	}
	for _, c := range d.CNAMEs {
		if probe.IsPrivateLinkName(c.Target) {
			return c.Target
		}
	}
	return "privatelink"
}

// warnDisagreement flags results whose host got different address sets from
// different resolvers: a split horizon.
func warnDisagreement(results []Result, obs []*probe.Observation) {
	byHost := map[string][]probe.DNSResult{}
	seen := map[*probe.DNSResult]bool{}
	for i := range obs {
		if d := obs[i].DNS; d != nil && !seen[d] {
			seen[d] = true
			byHost[d.Host] = append(byHost[d.Host], *d)
		}
	}
	for i := range results {
		d := obs[i].DNS
		if d == nil || len(byHost[d.Host]) < 2 || !disagree(byHost[d.Host]) {
			continue
		}
		var parts []string
		for _, r := range byHost[d.Host] {
			parts = append(parts, fmt.Sprintf("%s → %s", r.Server, answerText(r)))
		}
		results[i].Warnings = append(results[i].Warnings, Warning{Code: WarnResolverDisagreement, Message: fmt.Sprintf(
			"resolvers disagree on %s (split-horizon DNS): %s", d.Host, strings.Join(parts, "; "))})
	}
}

func answerText(d probe.DNSResult) string {
	if d.Outcome != probe.OK {
		return string(d.Outcome)
	}
	return joinAddrs(d.Addrs)
}

// clockSkew takes the median of server Date minus local time over the HTTP
// answers: one captive portal with a wrong clock cannot decide it.
func clockSkew(obs []*probe.Observation) *Clock {
	type sample struct {
		skew time.Duration
		host string
	}
	var s []sample
	for i := range obs {
		h := obs[i].HTTP
		if h == nil || h.Date.IsZero() || h.Outcome != probe.OK {
			continue
		}
		// Date has one-second resolution and is stamped while the answer is
		// made: compare with the middle of the request.
		local := h.Start.Add(h.Duration / 2)
		s = append(s, sample{h.Date.Sub(local), obs[i].Target.Host})
	}
	if len(s) == 0 {
		return nil
	}
	slices.SortFunc(s, func(a, b sample) int { return cmp.Compare(a.skew, b.skew) })
	m := s[len(s)/2]
	secs := math.Round(m.skew.Seconds())
	return &Clock{SkewSeconds: secs, Source: m.host, Skewed: math.Abs(m.skew.Seconds()) > MaxClockSkew.Seconds()}
}

func summarize(results []Result, trust TrustPathSummary, required bool) Summary {
	s := Summary{ByStatus: map[probe.Outcome]int{}, Families: []FamilySummary{}, TrustPath: trust}
	fam := map[string]int{} // family → index in s.Families
	for i := range results {
		r := &results[i]
		s.Total++
		s.ByStatus[r.Status]++
		if len(r.Warnings) > 0 {
			s.Warnings++
		}
		fi, ok := fam[r.Family]
		if !ok {
			fi = len(s.Families)
			fam[r.Family] = fi
			s.Families = append(s.Families, FamilySummary{Family: r.Family, Works: []probe.Path{}})
		}
		f := &s.Families[fi]
		f.Total++
		switch r.Status {
		case probe.OK:
			s.OK++
			f.OK++
			// A name that resolves says nothing of a path: a family whose
			// only success is its DNS-only member (dns.msftncsi.com) does
			// not "work".
			if r.Scheme != targets.SchemeDNS && !slices.Contains(f.Works, r.Path) {
				f.Works = append(f.Works, r.Path)
			}
		case probe.SkippedNoIPv6:
			s.Skipped++
			f.Skipped++
		case probe.PrivateLinkAbsent:
			s.Info++
			f.Info++
		default:
			if softFailed(r) && !required {
				s.SoftFailed++
				f.SoftFailed++
				continue
			}
			s.Failed++
			f.Failed++
		}
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func joinAddrs(as []netip.Addr) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// wildcardOf judges a random name under a family's zone: an answer means the
// zone answers any label, so only a wildcard rule can cover it.
func wildcardOf(ep targets.Endpoint, o *probe.Observation) Wildcard {
	w := Wildcard{Family: ep.Family, Probe: ep.Host, Resolver: o.Target.Resolver, Status: o.Outcome}
	zone := strings.TrimPrefix(ep.Family, "*.")
	switch {
	case o.Outcome == probe.OK && o.DNS != nil && len(o.DNS.Addrs) > 0:
		w.AnswersAny = true
		w.Explanation = fmt.Sprintf("%s answers any name (wildcard DNS): allow it with the wildcard rule %s, a list of hosts cannot be complete", zone, ep.Family)
	case o.Outcome == probe.DNSNXDomain || o.Outcome == probe.DNSNoData:
		w.Explanation = fmt.Sprintf("%s answers only the names that exist: host rules for the members work today, but Microsoft documents %s and adds members without notice", zone, ep.Family)
	default:
		w.Explanation = fmt.Sprintf("unknown: the random name under %s got %s", zone, o.Outcome)
	}
	return w
}

// judgeWildcards withdraws the "answers only the names that exist" verdict
// where the same resolver resolved none of the family's members: a resolver
// that knows no public name (no internet) says NXDOMAIN to everything.
func judgeWildcards(ws []Wildcard, results []Result) {
	for i := range ws {
		w := &ws[i]
		if w.AnswersAny {
			continue
		}
		resolved := slices.ContainsFunc(results, func(r Result) bool {
			return r.Family == w.Family && r.Resolver == w.Resolver && r.DNS.Status == probe.OK
		})
		if !resolved && (w.Status == probe.DNSNXDomain || w.Status == probe.DNSNoData) {
			w.Explanation = fmt.Sprintf("%s resolved none of the family's members either, so a %s for a random name says nothing about the zone", w.Resolver, w.Status)
			w.Status = probe.Unknown
		}
	}
}
