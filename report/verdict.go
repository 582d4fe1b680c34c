package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"egressprobe/probe"
)

// tagsSatisfied reports whether any matched tag is one of the expected ones.
// A firewall rule on a global tag ("AzureBackup") also admits the regional
// ones ("AzureBackup.WestEurope") it contains, so a match on a regional tag
// satisfies a global expectation; the reverse does not hold.
func tagsSatisfied(expected []string, matches []TagMatch) bool {
	for _, m := range matches {
		for _, e := range expected {
			if m.Tag == e || (!strings.Contains(e, ".") && strings.HasPrefix(m.Tag, e+".")) {
				return true
			}
		}
	}
	return false
}

// TagNames lists the distinct tag names of matches, in match order.
func TagNames(matches []TagMatch) []string {
	var out []string
	for _, m := range matches {
		if !slices.Contains(out, m.Tag) {
			out = append(out, m.Tag)
		}
	}
	return out
}

func tagMismatchWarning(ip string, expected []string, matches []TagMatch) Warning {
	in := "no service tag"
	if len(matches) > 0 {
		in = strings.Join(TagNames(matches), ", ")
	}
	return Warning{
		Code: WarnTagMismatch,
		Message: fmt.Sprintf("%s is in %s, not in the expected %s: a firewall rule on those tags will not admit it",
			ip, in, strings.Join(expected, " or ")),
	}
}

// SummaryVerdict says so plainly when every result failed at the same step
// (dns_timeout everywhere, or dns_timeout and dns_error): then the cause is
// the server's own network, not one endpoint. "" otherwise. Build puts it in
// Summary.Verdict, which every format prints as it is.
func SummaryVerdict(results []Result) string {
	var outcomes []probe.Outcome
	for i := range results {
		o := results[i].Status
		if o == probe.OK {
			return ""
		}
		if o == probe.SkippedNoIPv6 || o == probe.PrivateLinkAbsent {
			continue // not tried, or the expected answer: says nothing about the network
		}
		if !slices.Contains(outcomes, o) {
			outcomes = append(outcomes, o)
		}
	}
	if len(outcomes) == 0 {
		return ""
	}
	for _, o := range outcomes {
		if o.Step() != outcomes[0].Step() {
			return ""
		}
	}
	line, hint := fmt.Sprintf("Every result failed the same way (%s)", outcomes[0]), outcomeHint(outcomes[0])
	if len(outcomes) > 1 {
		slices.Sort(outcomes)
		names := make([]string, len(outcomes))
		for i, o := range outcomes {
			names[i] = string(o)
		}
		line = fmt.Sprintf("Every result failed at the same step (%s)", strings.Join(names, ", "))
		hint = stepHint(outcomes[0].Step())
	}
	if outcomes[0] == probe.Cancelled && slices.ContainsFunc(results, started) {
		hint = "the run was stopped while probes were running, before any finished"
	}
	if hint != "" {
		line += ": " + hint
	}
	return line + "."
}

// started reports whether a result got as far as one step before the run
// was stopped.
func started(r Result) bool {
	return r.DNS.Status != "" || r.TCP != nil || r.ProxyConnect != nil || r.TLS != nil || r.HTTP != nil
}

// The hints for a whole step failing everywhere.
const (
	dnsHint   = "this server gets no usable DNS answers; check its resolver settings and that it may reach them"
	proxyHint = "the proxy is the problem, not the endpoints"
)

// outcomeHint says what an outcome means for the whole server when every
// result has it.
func outcomeHint(o probe.Outcome) string {
	switch o {
	case probe.DNSNXDomain:
		return "the resolver knows none of these public names; it does not forward to the internet"
	case probe.TCPTimeout:
		return "every connection is silently dropped; outbound traffic is blocked or there is no network at all"
	case probe.TCPUnreachable:
		return "there is no route out of this server"
	case probe.TCPRefused:
		return "every connection is refused; something on the way rejects all outbound traffic"
	case probe.LocalResources:
		return "this server ran out of local ports or file descriptors; the network was not tested"
	case probe.TLSIntercepted:
		return "a TLS-inspecting middlebox intercepts every host"
	case probe.Cancelled:
		return "the run was stopped before any endpoint was checked"
	case probe.DNSTimeout, probe.DNSError, probe.DNSServfail, probe.DNSRefused:
		return dnsHint
	}
	if o.Step() == probe.StepProxy {
		return proxyHint
	}
	return ""
}

// stepHint is the hint for failures of one step in different ways.
func stepHint(step string) string {
	switch step {
	case probe.StepDNS:
		return dnsHint
	case probe.StepProxy:
		return proxyHint
	}
	return ""
}

// clockMessage says how far off a skewed clock is and what that breaks.
func clockMessage(c *Clock) string {
	skew := time.Duration(math.Round(c.SkewSeconds)) * time.Second
	dir := "behind"
	if skew < 0 {
		skew, dir = -skew, "ahead of"
	}
	return fmt.Sprintf("this server's clock is %s %s the Date header of %s; %s.", skew, dir, c.Source, clockSkewBreaks)
}

// clockSkewBreaks is what a clock skewed past MaxClockSkew breaks.
var clockSkewBreaks = fmt.Sprintf("sign-in tokens and certificate checks fail beyond %d minutes", int(MaxClockSkew.Minutes()))
