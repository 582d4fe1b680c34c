package report

import (
	"fmt"

	"egressprobe/probe"
	"egressprobe/targets"
)

// softFailed reports whether a failed result does not fail the run: a
// catalog revocation server. CryptoAPI treats one it cannot reach as
// offline and the agent goes on without the check (after waiting for it);
// only tools that insist on revocation (curl.exe with Schannel) then fail.
func softFailed(r *Result) bool {
	return r.Family == targets.FamilyAuthorities && targets.Revocation(r.Role) && !notJudged(r.Status)
}

// warnRevocation adds the warning that says so to a failed revocation
// server's result.
func warnRevocation(r *Result) {
	if !softFailed(r) {
		return
	}
	r.Warnings = append(r.Warnings, Warning{Code: WarnRevocationUnreachable, Message: fmt.Sprintf(
		"%s (%s) cannot be reached (%s): Windows waits for it (up to 15 s a URL, 20 s a chain by default) and then goes on without the revocation check; curl.exe and other tools that insist on it fail with CRYPT_E_REVOCATION_OFFLINE",
		r.Host, r.Role, r.Status)})
}

// authoritiesNote qualifies the firewall and proxy advice for the
// certificate authorities' hosts: what breaks, and when, if they stay closed.
const authoritiesNote = " — Windows fetches from these hosts on port 80 while it builds and checks certificate chains: " +
	"an intermediate or root only when the server does not send the whole chain or this server's root store lacks the root (then TLS to Azure fails), " +
	"revocation on every new chain (it waits, then goes on without it); confirm on the server with certutil -verify -urlfetch"

// fixForIntercepted phrases the change for a proxy's own answer on the
// direct path: a transparent proxy on port 80, which no --proxy names.
func fixForIntercepted(res *Result) (hop, change string) {
	switch res.Status {
	case probe.ProxyAuthRequired:
		return HopProxy, fmt.Sprintf("a transparent proxy intercepts port %d on the direct path and asks for credentials, which Windows' certificate fetches do not give: exempt these hosts (or this server) from its authentication", res.Port)
	case probe.ProxyDenied:
		return HopProxy, fmt.Sprintf("a transparent proxy on the direct path denies these hosts on port %d: allow them in its policy", res.Port)
	}
	return HopProxy, fmt.Sprintf("a transparent proxy on the direct path could not fetch these pages on port %d (each result's error says how): check its own outbound access", res.Port)
}

// fixForBlockPage phrases the change for a web filter's HTML page in place
// of a file or a server's answer, on the hop it came through.
func fixForBlockPage(res *Result) (hop, change string) {
	if res.Path == probe.PathProxy {
		return HopProxy, fmt.Sprintf("%s answers these URLs with an HTML page of its own (a block page): allow these hosts on port %d in its web filter", deref(res.Proxy), res.Port)
	}
	return HopFirewall, fmt.Sprintf("a web filter on the direct path answers these URLs with an HTML page of its own (a block page): allow these hosts on port %d in its URL filtering", res.Port)
}
