package render

import (
	"egressprobe/probe"
	"egressprobe/report"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// The what-to-open list and the cells of one result row.

// newActionView keeps an action's change as report phrased it and lists
// under it the hosts, addresses and tags it applies to, unless the change
// already names them all.
func newActionView(a report.Action) actionView {
	v := actionView{Hop: hopLabel(a.Hop), Change: a.Change}
	for _, list := range []struct {
		label string
		items []string
	}{{"hosts", a.Hosts}, {"addresses", a.IPs}, {"service tags", a.Tags}} {
		if slices.ContainsFunc(list.items, func(it string) bool { return !strings.Contains(a.Change, it) }) {
			v.Details = append(v.Details, list.label+": "+strings.Join(list.items, ", "))
		}
	}
	return v
}

func hopLabel(hop string) string {
	switch hop {
	case report.HopDNS:
		return "DNS"
	case report.HopFirewall:
		return "Firewall"
	case report.HopProxy:
		return "Proxy"
	case report.HopTLSInspection:
		return "TLS inspection"
	case report.HopClock:
		return "Clock"
	case report.HopHost:
		return "This host"
	case report.HopServer:
		return "Server"
	case report.HopPathMTU:
		return "Path MTU"
	case "":
		return "Change"
	}
	return hop
}

func newRowView(res *report.Result) rowView {
	row := rowView{
		Host:     res.Host,
		IP:       orDash(deref(res.IP)),
		Path:     orDash(string(res.Path)),
		Resolver: orDash(res.Resolver),
		Status:   orDash(string(res.Status)),
		OK:       res.Status == probe.OK || res.Status == probe.PrivateLinkAbsent, // the latter: expected, not failed
		Detail:   joinNonEmpty(": ", traceVerdict(res), detail(res)),
		Provider: "-",
	}
	if res.Port != 0 && res.Port != 443 {
		row.Host = net.JoinHostPort(res.Host, strconv.Itoa(res.Port)) // [::1]:4431
	}
	row.Tags, row.TagsMismatch = tagsCell(res)
	if res.Provider != nil && res.Provider.Name != "" {
		row.Provider = res.Provider.Name
	}
	row.Timings = [numTimings]string{msCell(res.DNS.MS, res.DNS.Status != "" || res.DNS.MS > 0), "-", "-", "-", "-"}
	if res.TCP != nil {
		row.Timings[1] = msCell(res.TCP.MS, true)
	}
	if res.ProxyConnect != nil {
		row.Timings[2] = msCell(res.ProxyConnect.MS, true)
	}
	if res.TLS != nil {
		row.Timings[3] = msCell(res.TLS.MS, true)
	}
	if res.HTTP != nil {
		row.Timings[4] = msCell(res.HTTP.MS, true)
	}
	for _, w := range res.Warnings {
		row.Warnings = append(row.Warnings, w.Code+": "+w.Message)
	}
	return row
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// msCell shows whole milliseconds, with one decimal below 10 ms where the
// fraction still means something.
func msCell(ms float64, present bool) string {
	switch {
	case !present:
		return "-"
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}

// detail is the one thing worth knowing about a result besides its status:
// the certificate that answered, the proxy's or web server's reply, or the
// error.
func detail(res *report.Result) string {
	switch {
	case res.Status == probe.OK && res.TLS != nil && (res.TLS.Version != "" || res.TLS.Issuer != ""):
		return joinNonEmpty(", ", res.TLS.Version, commonName(res.TLS.Issuer))
	case res.Status == probe.OK && res.HTTP != nil && res.HTTP.BodyMatch:
		return fmt.Sprintf("HTTP %d, expected body", res.HTTP.StatusCode)
	case res.Status == probe.TLSIntercepted && res.TLS != nil && res.TLS.InterceptedBy != "":
		return "intercepted by " + res.TLS.InterceptedBy
	case res.Status == probe.TCPMTUBlackhole && res.TLS != nil && res.TLS.MSSRetry != nil:
		return fmt.Sprintf("path-MTU blackhole: stalls at full size, ok with MSS %d", res.TLS.MSSRetry.MSS)
	case res.Status == probe.HTTPUnexpected && res.HTTP != nil && res.HTTP.Location != "":
		return fmt.Sprintf("HTTP %d to %s", res.HTTP.StatusCode, res.HTTP.Location)
	case res.Status.Step() == probe.StepProxy && res.ProxyConnect != nil && res.ProxyConnect.StatusCode != 0:
		return fmt.Sprintf("proxy answered CONNECT with %d", res.ProxyConnect.StatusCode)
	case res.Error != "":
		return res.Error
	}
	return "-"
}

// traceVerdict leads a failed result's detail with where its trace went, so
// that the table's cut cell keeps it: "dies after hop 2 (10.0.2.1)".
func traceVerdict(res *report.Result) string {
	if res.Trace == nil || res.Status == probe.OK {
		return ""
	}
	v := res.Trace.Verdict()
	if v != "" && res.Trace.ViaProxy {
		v += " toward the proxy"
	}
	return v
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}

// commonName returns the CN of an RFC 4514 distinguished name ("CN=x,O=y"),
// or the whole name when it has none.
func commonName(dn string) string {
	for rest := dn; rest != ""; {
		var attr string
		attr, rest = splitRDN(rest)
		if k, val, ok := strings.Cut(attr, "="); ok && strings.EqualFold(strings.TrimSpace(k), "CN") {
			return strings.ReplaceAll(val, `\`, "")
		}
	}
	return dn
}

// splitRDN cuts dn at its first comma that is not escaped with a backslash.
func splitRDN(dn string) (first, rest string) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[:i], dn[i+1:]
		}
	}
	return dn, ""
}

// tagsCell is the compact tag verdict: "ok", "MISMATCH" or nothing when not
// judged, then the most telling matched tag and how many more there are.
func tagsCell(res *report.Result) (cell string, mismatch bool) {
	names := report.TagNames(res.ServiceTags)
	var parts []string
	if res.ExpectedTagsOK != nil {
		if *res.ExpectedTagsOK {
			parts = append(parts, string(probe.OK)) // in the word of an ok result
		} else {
			parts, mismatch = append(parts, "MISMATCH"), true
		}
	}
	if len(names) > 0 {
		best := bestTag(names, res.ExpectedTags)
		parts = append(parts, best)
		if len(names) > 1 {
			parts = append(parts, fmt.Sprintf("+%d", len(names)-1))
		}
	} else if res.DNS.Private {
		parts = append(parts, "private address")
	}
	if len(parts) == 0 {
		return "-", false
	}
	return strings.Join(parts, " "), mismatch
}

// bestTag picks the matched tag a reader most wants to see: one that was
// expected, else one of the same service (AzureBackup for AzureBackup.WestEurope),
// else the most specific (regional) one.
func bestTag(names, expected []string) string {
	service := func(tag string) string { s, _, _ := strings.Cut(tag, "."); return s }
	for _, n := range names {
		for _, e := range expected {
			if n == e {
				return n
			}
		}
	}
	for _, n := range names {
		for _, e := range expected {
			if service(n) == service(e) {
				return n
			}
		}
	}
	for _, n := range names {
		if strings.Contains(n, ".") {
			return n
		}
	}
	return names[0]
}
