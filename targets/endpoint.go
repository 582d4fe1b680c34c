// Package targets says what egressprobe probes: the built-in endpoint catalogs
// of the MARS backup agent per Azure cloud (wildcard families, their concrete
// member hosts, the NCSI probes), and the targets a user names on the command
// line or in a targets file. It does no I/O on the network and imports nothing
// inside the module.
package targets

import (
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Schemes an Endpoint can carry.
const (
	SchemeHTTPS = "https" // DNS, TCP, TLS; an HTTP GET of Path when Path is set
	SchemeHTTP  = "http"  // DNS, TCP, plain-HTTP GET of Path (NCSI, the certificate authorities)
	SchemeDNS   = "dns"   // resolution only, judged by ExpectAddrs (dns.msftncsi.com)
)

// FamilyCustom is the family of a user target that falls under no catalog family.
const FamilyCustom = "custom"

// Sources of an Endpoint besides "file:line".
const (
	SourceCatalog = "catalog"
	SourceCLI     = "cli"
)

// Endpoint is one concrete thing to probe.
type Endpoint struct {
	Host   string `json:"host"`           // DNS name (lower case, no trailing dot) or IP literal
	Port   int    `json:"port"`           // 443, 80 for NCSI and the certificate authorities, 0 for SchemeDNS
	Scheme string `json:"scheme"`         // SchemeHTTPS, SchemeHTTP or SchemeDNS
	Path   string `json:"path,omitempty"` // URL path of the HTTP request; "" = no request

	Family string `json:"family"`          // the wildcard it came from ("*.windows.net"), an NCSI host, FamilyAuthorities or FamilyCustom
	Cloud  string `json:"cloud,omitempty"` // "public", "china", "usgov"; "" for user targets
	Role   string `json:"role,omitempty"`  // "sign-in", "backup-service", "storage", "ncsi", ...

	// ExpectedTags: a resolved IP is as expected when it lies in ANY of these
	// service tags. Empty means no expectation (not judged by tag).
	ExpectedTags []string     `json:"expected_tags"`
	ExpectBody   string       `json:"expect_body,omitempty"`  // the HTTP body must be exactly this (NCSI)
	Expect       string       `json:"expect,omitempty"`       // what the HTTP answer must carry: ExpectDER, ExpectAnswer, ExpectCab
	ExpectAddrs  []netip.Addr `json:"expect_addrs,omitempty"` // the name must resolve to these (dns.msftncsi.com)
	JudgeByName  bool         `json:"judge_by_name,omitempty"`

	// Timeout overrides the run's per-probe timeout when > 0 (targets YAML).
	Timeout time.Duration `json:"-"`

	Source string `json:"source"`        // SourceCatalog, SourceCLI, "--member", or "file:line"
	Doc    string `json:"doc,omitempty"` // where the catalog entry comes from
	// Evidence is EvidenceDocumented or EvidenceObserved for a catalog or
	// --vault entry; "" for what the user named.
	Evidence string `json:"evidence,omitempty"`
	// PrivateLink is PrivateLinkOptional or PrivateLinkRequired for a vault's
	// private-endpoint name (--vault); "" otherwise.
	PrivateLink string `json:"private_link,omitempty"`
	// Catalogued: a host the user named that the catalog knows, probed as the
	// catalog probes it (AsCatalog).
	Catalogued bool `json:"catalogued,omitempty"`

	// shaped: the user gave a scheme, port or path (https://, :443, path:),
	// so the target is probed as written, never as the catalog would.
	shaped bool
}

// FromCatalog reports whether the endpoint is probed as a catalog entry
// (Microsoft's host: an HTTP step for the clock, a public issuer expected).
func (e Endpoint) FromCatalog() bool { return e.Source == SourceCatalog || e.Catalogued }

// Address is host:port for dialling ("" port for SchemeDNS endpoints yields host only).
func (e Endpoint) Address() string {
	if e.Port == 0 {
		return e.Host
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
}

// URL is the address written as a URL, the way a user would type it.
func (e Endpoint) URL() string {
	if e.Scheme == SchemeDNS {
		return "dns:" + e.Host
	}
	hp := e.Host
	if a, err := netip.ParseAddr(e.Host); err == nil && a.Is6() {
		hp = "[" + e.Host + "]"
	}
	if e.Port != defaultPort(e.Scheme) {
		hp += ":" + strconv.Itoa(e.Port)
	}
	return e.Scheme + "://" + hp + e.Path
}

func (e Endpoint) key() string { return e.Scheme + "|" + e.Address() + "|" + e.Path }
