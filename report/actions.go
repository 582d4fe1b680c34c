package report

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"egressprobe/probe"
	"egressprobe/targets"
)

// actions turns failures and warnings into the changes that would fix them,
// one Action per (hop, change), hosts and IPs merged. A failure needs no change
// when the same endpoint worked on another path (--path both): the agent can be
// pointed at the one that works. Another address, port or resolver of the
// host that worked does not excuse it: the agent may get the failing one.
func actions(r *Report) []Action {
	workedElsewhere := workedElsewhere(r.Results)
	l := &actionList{idx: map[string]int{}}
	for i := range r.Results {
		res := &r.Results[i]
		// A loopback answer never reached the network: its warning's change,
		// not a firewall rule, is the fix.
		loopback := hasCode(res.Warnings, WarnLoopbackAnswer)
		// A chain's revocation is the trust path's rows' to fix (below).
		trust := res.Status == probe.Revoked || res.Status == probe.RevocationUnreachable
		if !notJudged(res.Status) && !workedElsewhere(res) && !loopback && !trust {
			hop, change := resultChange(res)
			l.add(hop, change, res)
		}
		for _, w := range res.Warnings {
			// A loopback answer's own advice stands in for a failure's;
			// beside a success it asks for nothing.
			if w.Code == WarnLoopbackAnswer && res.Status == probe.OK {
				continue
			}
			if hop, change := fixForWarning(res, w); hop != "" && !(loopback && hop == HopFirewall) {
				l.add(hop, change, res)
			}
		}
	}
	trustActions(r, func(hop, change, host, ip string) { l.addHost(hop, change, host, ip) })
	if c := r.Clock; c != nil && c.Skewed {
		l.out = append(l.out, Action{Hop: HopClock, Hosts: []string{c.Source}, Change: fmt.Sprintf(
			"this server's clock is %s the servers' (%s): fix time synchronisation (w32tm /resync, chrony); %s",
			skewText(c.SkewSeconds), c.Source, clockSkewBreaks)})
	}
	return orEmpty(l.out)
}

// workedElsewhere tells whether a failed result's endpoint worked on the
// other path. Direct successes count by (host, port, address); proxy
// successes by (host, port) alone: through a proxy no local address is
// connected to, so the proxy path working covers every address of the
// endpoint.
func workedElsewhere(results []Result) func(*Result) bool {
	direct, viaProxy := map[endpointKey]bool{}, map[endpointKey]bool{}
	for i := range results {
		if res := &results[i]; res.Status == probe.OK {
			if k := keyOf(res); res.Path == probe.PathProxy {
				k.ip = ""
				viaProxy[k] = true
			} else {
				direct[k] = true
			}
		}
	}
	return func(res *Result) bool {
		k := keyOf(res)
		if res.Path == probe.PathProxy {
			return direct[k]
		}
		k.ip = ""
		return viaProxy[k]
	}
}

// resultChange is the change that would fix a failed result, with what the
// trace, the evidence and the family add to it. A certificate authority's
// host that drops or rejects port 80 joins the trust path's one port-80
// line (CAChange).
func resultChange(res *Result) (hop, change string) {
	hop, change = fixFor(res)
	if res.Family == targets.FamilyAuthorities && hop == HopFirewall && res.Status.Step() == probe.StepTCP {
		return hop, CAChange(res.Port)
	}
	change += traceNote(hop, res.Trace)
	if res.Evidence == targets.EvidenceObserved && hop != HopHost {
		change += observedNote
	}
	if res.Family == targets.FamilyAuthorities && (hop == HopFirewall || hop == HopProxy) {
		change += authoritiesNote
	}
	return hop, change
}

// actionList is the what-to-open list being built: one Action per (hop,
// change), hosts and addresses merged.
type actionList struct {
	out []Action
	idx map[string]int
}

// addHost adds host (and ip, when not "") to the action (hop, change).
func (l *actionList) addHost(hop, change, host, ip string) *Action {
	k := hop + "\x00" + change
	i, ok := l.idx[k]
	if !ok {
		i = len(l.out)
		l.idx[k] = i
		l.out = append(l.out, Action{Hop: hop, Change: change, Hosts: []string{}})
	}
	a := &l.out[i]
	a.Hosts = appendNew(a.Hosts, host)
	if ip != "" {
		a.IPs = appendNew(a.IPs, ip)
	}
	return a
}

// add adds a result to the action (hop, change): its address for a firewall
// or path-MTU change, and for a firewall change its expected tags.
func (l *actionList) add(hop, change string, res *Result) {
	ip := ""
	if res.IP != nil && (hop == HopFirewall || hop == HopPathMTU) {
		ip = *res.IP
	}
	a := l.addHost(hop, change, res.Host, ip)
	if hop == HopFirewall {
		for _, t := range res.ExpectedTags {
			a.Tags = appendNew(a.Tags, t)
		}
	}
}

// observedNote qualifies the advice for hosts only Microsoft's scripts and
// examples use: no page promises them, so one may be gone rather than blocked.
const observedNote = " (these names are observed in Microsoft's support scripts and examples, not documented: one that no longer exists fails the same way, so check it against the catalog's sources before opening anything)"

// endpointKey is one endpoint: host, port and address (a proxy result's
// address is the local resolver's first answer).
type endpointKey struct {
	host string
	port int
	ip   string
}

func keyOf(res *Result) endpointKey {
	k := endpointKey{host: strings.ToLower(res.Host), port: res.Port}
	if res.IP != nil {
		k.ip = *res.IP
	}
	return k
}

// traceNote names the device a firewall or proxy change is for, from the
// trace: where the SYNs stopped being answered, or the router that rejected
// them. A trace that reached the target says nothing of the kind.
func traceNote(hop string, t *probe.TraceResult) string {
	if t == nil || t.Reached || t.LastResponding == nil || (hop != HopFirewall && hop != HopProxy) {
		return ""
	}
	last := t.LastResponding
	to := ""
	if t.ViaProxy {
		to = " toward the proxy"
	}
	if last.Reply == probe.ReplyUnreachable {
		return fmt.Sprintf(" — the trace%s is rejected at hop %d by %s: that device's rules", to, t.DeviceHop(), last.Addr)
	}
	return fmt.Sprintf(" — the trace%s dies after hop %d (%s): the device dropping them is %s or the next one after it", to, last.TTL, last.Addr, last.Addr)
}

// notJudged: ok, or no verdict on the network (the run was stopped, or the
// address was not tried), or the expected answer of a vault without a private
// endpoint (privatelink_absent) — nothing to open for it.
func notJudged(status probe.Outcome) bool {
	switch status {
	case probe.OK, probe.Cancelled, probe.SkippedNoIPv6, probe.PrivateLinkAbsent:
		return true
	}
	return false
}

// fixFor phrases the change that would fix one failed result, at the hop
// its outcome blames: DNS, the network path, the proxy or TLS.
func fixFor(res *Result) (hop, change string) {
	for _, fix := range []func(*Result) (hop, change string){dnsFix, pathFix, proxyFix, tlsFix} {
		if hop, change = fix(res); hop != "" {
			return hop, change
		}
	}
	return HopOther, fmt.Sprintf("%s on these hosts: each result's error says what failed", res.Status)
}

// dnsFix is fixFor for the DNS outcomes ("" for the others).
func dnsFix(res *Result) (hop, change string) {
	if res.PrivateLink == targets.PrivateLinkRequired && slices.Contains([]probe.Outcome{probe.DNSNXDomain, probe.DNSNoData, probe.DNSUnexpected}, res.Status) {
		zone := res.Host[strings.IndexByte(res.Host, '.')+1:]
		return HopDNS, fmt.Sprintf("resolver %s must answer these private-endpoint names from the private DNS zone %s (%s): link that zone to the virtual network of this resolver, or add a conditional forwarder for it to Azure DNS (168.63.129.16) from inside that network",
			res.Resolver, zone, res.Status)
	}
	switch res.Status {
	case probe.DNSNXDomain:
		return HopDNS, fmt.Sprintf("resolver %s says these names do not exist (NXDOMAIN): check its forwarders or conditional forwarders for them", res.Resolver)
	case probe.DNSNoData:
		return HopDNS, fmt.Sprintf("resolver %s has no address for these names (NODATA): check the zone or forwarder that answers them", res.Resolver)
	case probe.DNSServfail:
		return HopDNS, fmt.Sprintf("resolver %s fails to resolve these names (SERVFAIL): its upstream or forwarder cannot reach the public DNS", res.Resolver)
	case probe.DNSRefused:
		return HopDNS, fmt.Sprintf("resolver %s refuses to resolve for this server (REFUSED): allow this server in its recursion ACL, or use another resolver", res.Resolver)
	case probe.DNSTimeout:
		return HopDNS, fmt.Sprintf("resolver %s did not answer: allow UDP and TCP %d from this server to it, or fix its upstream", res.Resolver, resolverPort(res.Resolver))
	case probe.DNSError:
		return HopDNS, fmt.Sprintf("resolver %s cannot be used from this server (each result's error says how it failed): check its address, and allow UDP and TCP %d from this server to it", res.Resolver, resolverPort(res.Resolver))
	case probe.DNSBlocked:
		if res.Resolver == probe.HostsResolver {
			return HopHost, "this machine's hosts file maps these names to 0.0.0.0 or :: (a block list): remove those entries; the agent reads the hosts file before DNS"
		}
		return HopDNS, fmt.Sprintf("resolver %s blocks these names (it answers 0.0.0.0 or ::): allow them in the DNS filter behind it (an RPZ, Pi-hole, a protective DNS service or a security product)", res.Resolver)
	case probe.DNSUnexpected:
		return HopDNS, fmt.Sprintf("resolver %s rewrites the NCSI name's answer: a captive portal or DNS filter; Windows will report no internet", res.Resolver)
	}
	return "", ""
}

// pathFix is fixFor for what the network path between this server and the
// addresses does: drop, reject, lose big packets, rewrite plain HTTP or
// answer it with a block page; and
// for this server running out of sockets ("" for the others).
func pathFix(res *Result) (hop, change string) {
	port := fmt.Sprintf("TCP %d", res.Port)
	switch res.Status {
	case probe.TCPTimeout:
		return HopFirewall, fmt.Sprintf("allow outbound %s from this server to these addresses: packets are silently dropped", port)
	case probe.TCPRefused:
		return HopFirewall, fmt.Sprintf("a device actively rejects (RST) outbound %s to these addresses: remove the reject rule or allow them", port)
	case probe.TCPUnreachable:
		return HopFirewall, fmt.Sprintf("these addresses are unreachable (no route or ICMP unreachable) on %s: add the route or allow them", port)
	case probe.LocalResources:
		return HopHost, "this server ran out of local ports or file descriptors while probing, so these results say nothing about the network: " +
			"let sockets in TIME_WAIT clear, widen the ephemeral port range (net.ipv4.ip_local_port_range; netsh int ipv4 set dynamicport tcp), raise the open-file limit, or run with a lower --concurrency"
	case probe.TCPMTUBlackhole:
		icmp := "ICMP type 3 code 4 (fragmentation needed)"
		if res.IP != nil && strings.Contains(*res.IP, ":") {
			icmp = "ICMPv6 type 2 (packet too big)"
		}
		return HopPathMTU, fmt.Sprintf("big packets from these addresses are lost on the way (a tunnel or VPN link with a smaller MTU) and the ICMP that would say so is dropped: clamp the TCP MSS on the tunnel or firewall (e.g. 1350 on an Azure VPN gateway), or let %s through to this server", icmp)
	case probe.HTTPBlockPage:
		return fixForBlockPage(res)
	case probe.HTTPUnexpected:
		// Advice names the hop the answer came through.
		if res.Path == probe.PathProxy {
			return HopProxy, fmt.Sprintf("%s answers these URLs with a redirect or another page than expected: let them through unmodified", deref(res.Proxy))
		}
		return HopFirewall, "these URLs get a redirect or another page than expected on the direct path: a captive portal, transparent proxy or web filter rewrites plain HTTP; let them through unmodified"
	}
	return "", ""
}

// proxyFix is fixFor for the proxy outcomes ("" for the others).
func proxyFix(res *Result) (hop, change string) {
	if res.Path == probe.PathDirect && res.Status.Step() == probe.StepProxy {
		return fixForIntercepted(res)
	}
	proxy := deref(res.Proxy)
	switch res.Status {
	case probe.ProxyUnreachable:
		return HopProxy, fmt.Sprintf("this server cannot reach the proxy %s: allow TCP to the proxy, or correct its address", proxy)
	case probe.ProxyAuthRequired:
		return HopProxy, fmt.Sprintf("%s requires authentication (407): put credentials in the proxy URL (http://user:password@host:port), or exempt this server or these hosts from proxy authentication", proxy)
	case probe.ProxyDenied:
		if res.Scheme == "http" { // a GET through the proxy, no CONNECT
			return HopProxy, fmt.Sprintf("allow plain-HTTP requests for these hosts on port %d on %s (its policy denied them)", res.Port, proxy)
		}
		return HopProxy, fmt.Sprintf("allow CONNECT to these hosts on port %d on %s (its policy denied them)", res.Port, proxy)
	case probe.ProxyError:
		if res.Scheme == "http" {
			return HopProxy, fmt.Sprintf("%s could not fetch these pages (each result's error says how): check the proxy's own outbound access", proxy)
		}
		return HopProxy, fmt.Sprintf("%s failed to open a tunnel to these hosts (each result's error says how): check the proxy's own outbound access", proxy)
	case probe.ProxyTimeout:
		return HopProxy, fmt.Sprintf("%s did not answer CONNECT for these hosts in time: check the proxy's own outbound access", proxy)
	}
	return "", ""
}

// tlsFix is fixFor for the TLS outcomes ("" for the others).
func tlsFix(res *Result) (hop, change string) {
	switch res.Status {
	case probe.TLSIntercepted:
		by := "a TLS-inspecting middlebox"
		if res.TLS != nil && res.TLS.InterceptedBy != "" {
			by = "the middlebox whose CA is " + res.TLS.InterceptedBy
		}
		return HopTLSInspection, fmt.Sprintf("exclude these hosts from TLS inspection on %s; the agent expects Microsoft's own certificates", by)
	case probe.TLSOldVersion:
		return HopTLSInspection, "something between this server and these hosts negotiates TLS below 1.2, which the agent refuses: enable TLS 1.2 on the middlebox or exclude the hosts"
	case probe.TLSUntrusted, probe.TLSHostnameMismatch, probe.TLSExpired:
		if c := res.ChainURLs; res.Status == probe.TLSUntrusted && c != nil && c.MissingIssuer != "" {
			return incompleteChainFix(c)
		}
		return HopTLSInspection, fmt.Sprintf("these hosts present a certificate this server does not accept (%s): a middlebox or a wrong DNS answer is in the way; exclude them from inspection or fix DNS", res.Status)
	case probe.TLSHandshakeFailed, probe.TLSTimeout:
		return HopTLSInspection, "the handshake with these hosts fails after TCP connected: an IPS/DPI device breaks TLS; allow or exclude them"
	}
	return "", ""
}

// incompleteChainFix is the advice for a chain the server sent without an
// issuer: not a middlebox's doing. Windows fetches the issuer from its
// CA-issuers URL over port 80; if that worked here, the agent builds the
// chain and only clients that do not fetch (curl, OpenSSL, Go) fail.
func incompleteChainFix(c *ChainURLs) (hop, change string) {
	if c.IssuerStatus == probe.OK {
		return HopServer, fmt.Sprintf("these hosts send an incomplete certificate chain; Windows completes it from %s over port 80, which answered from here, so keep port 80 open to it — clients that do not fetch missing issuers fail until the server sends its intermediate", c.MissingIssuer)
	}
	return HopFirewall, fmt.Sprintf("these hosts send an incomplete certificate chain, and Windows could not fetch the missing issuer from %s over port 80 (%s): allow port 80 to that host, or have the server send its intermediate", c.MissingIssuer, c.IssuerStatus)
}

// fixForWarning phrases the change a warning asks for; "" when none.
func fixForWarning(res *Result, w Warning) (hop, change string) {
	switch w.Code {
	case WarnTagMismatch:
		return HopFirewall, fmt.Sprintf("rules by service tag (%s) do not admit these addresses: allow them by FQDN or address as well",
			strings.Join(res.ExpectedTags, ", "))
	case WarnLoopbackAnswer:
		if res.Resolver == probe.HostsResolver {
			return HopHost, "this machine's hosts file maps these names to a loopback address: remove those entries; the agent reads the hosts file before DNS"
		}
		return HopDNS, fmt.Sprintf("resolver %s answers a loopback address for these names: find the DNS filter, zone or local agent that redirects them to this host and remove that rule (no firewall change helps)", res.Resolver)
	case WarnPrivateLinkPublic:
		return HopDNS, fmt.Sprintf("resolver %s does not use the private DNS zone of these private endpoints: add a conditional forwarder for the privatelink zone to Azure DNS (168.63.129.16) or link the zone",
			res.Resolver)
	}
	return "", ""
}

func hasCode(ws []Warning, code string) bool {
	return slices.ContainsFunc(ws, func(w Warning) bool { return w.Code == code })
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// resolverPort is the port of a resolver "IP:PORT" (53 when it has none):
// the advice names the port actually used.
func resolverPort(resolver string) uint16 {
	if ap, err := netip.ParseAddrPort(resolver); err == nil {
		return ap.Port()
	}
	return 53
}

func skewText(secs float64) string {
	dir := "behind"
	if secs < 0 {
		dir, secs = "ahead of", -secs
	}
	return fmt.Sprintf("%.0f s %s", secs, dir)
}
