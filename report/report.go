// Package report joins what the probes observed with what the endpoints were
// expected to be (family, service tags) into one run's results, judges them, and
// lists what to open. It is the JSON contract of `egressprobe check`
// (schema_version 1, documented in the README); Build is a pure function of its
// inputs, so every verdict is table-tested without a network.
package report

import (
	"time"

	"egressprobe/probe"
)

// SchemaVersion is bumped only on a breaking change to the JSON shape.
const SchemaVersion = 1

// Report is one run of `egressprobe check`.
type Report struct {
	SchemaVersion int        `json:"schema_version"`
	Started       time.Time  `json:"started"`
	Finished      time.Time  `json:"finished"`
	Cloud         string     `json:"cloud"`
	Region        string     `json:"region,omitempty"`
	Resolvers     []string   `json:"resolvers"`
	Proxy         *ProxyInfo `json:"proxy"`
	// Proxies are every proxy the run's routes use, first the one in Proxy:
	// more than one when HTTP_PROXY (the NCSI probes) and HTTPS_PROXY differ.
	Proxies []ProxyInfo `json:"proxies"`
	// IPv6 is whether this host can reach IPv6 at all; null when the run did
	// not decide (then every address was probed).
	IPv6        *probe.IPv6Reach `json:"ipv6"`
	ServiceTags ServiceTagsInfo  `json:"service_tags"`
	Clock       *Clock           `json:"clock"`
	Wildcards   []Wildcard       `json:"wildcards"`
	NotProbed   []NotProbed      `json:"families_not_probed"`
	Results     []Result         `json:"results"`
	// TrustPath are the URLs the presented chains named, each fetched once
	// per route (--trust-path); empty when off. TrustPathSettings is null
	// when off.
	TrustPath         []TrustURL         `json:"trust_path"`
	TrustPathSettings *TrustPathSettings `json:"trust_path_settings"`
	Summary           Summary            `json:"summary"`
	Open              []Action           `json:"what_to_open"`
}

// ProxyInfo says which proxy the run used and where it was found.
type ProxyInfo struct {
	URL    string `json:"url"`    // redacted
	Source string `json:"source"` // flag, env, winhttp, ie
	// For is the scheme of the targets it carries: https, http, or "" for both.
	For string `json:"for"`
}

// ServiceTagsInfo says which feed attributed the IPs, or why none did.
type ServiceTagsInfo struct {
	Loaded       bool   `json:"loaded"`
	Source       string `json:"source,omitempty"` // file path
	Cloud        string `json:"cloud,omitempty"`
	ChangeNumber int    `json:"change_number,omitempty"`
	// Published is the feed's own date, from Microsoft's file name
	// ServiceTags_<Cloud>_<yyyymmdd>.json (of the --service-tags file, or of
	// the download the cache holds); zero when the name carried none.
	Published time.Time `json:"published,omitzero"`
	// Updated is when the cached feed was last downloaded or confirmed
	// current; zero for a --service-tags file.
	Updated time.Time `json:"updated,omitzero"`
	Note    string    `json:"note,omitempty"` // e.g. how to fetch the feed when none is cached, or that it is stale
}

// Clock compares the local clock with the Date headers servers sent.
type Clock struct {
	SkewSeconds float64 `json:"skew_seconds"` // server minus local; positive: local clock is behind
	Source      string  `json:"source"`       // the host whose Date header was used
	Skewed      bool    `json:"skewed"`       // |skew| > MaxClockSkew
	// Message says, when Skewed, how far off the clock is and what that breaks.
	Message string `json:"message,omitempty"`
}

// Wildcard reports whether a family's zone answers a random label.
type Wildcard struct {
	Family      string        `json:"family"`
	Probe       string        `json:"probe"` // the random name queried
	Resolver    string        `json:"resolver"`
	AnswersAny  bool          `json:"answers_any"`
	Status      probe.Outcome `json:"status"` // probe.Unknown when the answer says nothing about the zone
	Explanation string        `json:"explanation"`
}

// NotProbed is a catalog family the run had no member of: its rule cannot be
// confirmed until the user names one (--member, --storage-account, --region).
type NotProbed struct {
	Family       string   `json:"family"`
	ExpectedTags []string `json:"expected_tags"`
	// NameOne says how to name a member: "--region REGION", "--storage-account
	// NAME", "--member HOST", or why --region gave none.
	NameOne string `json:"name_one"`
}

// Result is one (host, resolver, path, address).
type Result struct {
	Host         string        `json:"host"`
	Port         int           `json:"port"`
	Scheme       string        `json:"scheme"`
	Family       string        `json:"family"`
	Role         string        `json:"role,omitempty"`
	Evidence     string        `json:"evidence,omitempty"`     // documented or observed: how a catalog host is known
	PrivateLink  string        `json:"private_link,omitempty"` // a vault's private-endpoint name: optional (--vault) or required (--private-endpoint)
	IP           *string       `json:"ip"`
	Path         probe.Path    `json:"path"`
	Proxy        *string       `json:"proxy"` // redacted URL
	Resolver     string        `json:"resolver"`
	Status       probe.Outcome `json:"status"`
	Error        string        `json:"error"`
	Warnings     []Warning     `json:"warnings"`
	DNS          DNS           `json:"dns"`
	TCP          *Timing       `json:"tcp"`
	ProxyConnect *Connect      `json:"proxy_connect"`
	TLS          *TLS          `json:"tls"`
	HTTP         *HTTP         `json:"http"`
	// Trace is the hop-by-hop path toward the address (the proxy, through
	// one) when --trace asked for it; null otherwise.
	Trace          *probe.TraceResult `json:"trace"`
	ServiceTags    []TagMatch         `json:"service_tags"`
	ExpectedTags   []string           `json:"expected_tags"`
	ExpectedTagsOK *bool              `json:"expected_tags_ok"` // null: not judged (no feed, no address, judged by name)
	Provider       *Provider          `json:"provider"`
	// ChainURLs are the URLs the presented chain named and what they cost
	// Windows (--trust-path); null when none were fetched.
	ChainURLs *ChainURLs `json:"chain_urls"`
	ElapsedMS float64    `json:"elapsed_ms"`
}

// Warning is a finding that does not fail the result by itself.
type Warning struct {
	Code    string `json:"code"` // one of the Warn* codes
	Message string `json:"message"`
}

// The warning codes, a contract like the outcomes: add new ones, never rename.
const (
	WarnTagMismatch          = "tag_mismatch"          // the IP is in none of the expected service tags
	WarnPrivateLinkPublic    = "privatelink_public"    // a private endpoint's name answered with its public address
	WarnPrivateEndpoint      = "private_endpoint"      // a private address: open the firewall to it, not to the tags
	WarnResolverDisagreement = "resolver_disagreement" // resolvers answered the same name differently
	WarnDNSPartial           = "dns_partial"           // one address family answered, the other failed
	WarnIPv6Fallback         = "ipv6_fallback"         // IPv6 fails where IPv4 works: the agent waits or fails on IPv6
	WarnHostsOverride        = "hosts_override"        // with --resolver: this machine's hosts file maps the name elsewhere
	WarnLoopbackAnswer       = "loopback_answer"       // a name other than localhost resolved to loopback: redirected to this host
	// WarnRevocationUnreachable: a revocation server (OCSP, CRL) of the
	// catalog failed, or none of the OCSP or CRL URLs of one certificate of
	// a result's chain answered (the trust path): Windows does without the
	// check (probe.RevocationUnreachable).
	WarnRevocationUnreachable = string(probe.RevocationUnreachable)
)

// DNS is the local resolution of the host.
type DNS struct {
	Status  probe.Outcome `json:"status"` // "" for an IP literal
	CNAMEs  []string      `json:"cnames"` // the chain from host to the name holding the address
	Addrs   []string      `json:"addrs"`
	Private bool          `json:"private"` // private address in no service-tag prefix: a private-endpoint answer
	TTL     uint32        `json:"ttl"`
	MS      float64       `json:"ms"`
}

// Timing is a step that has nothing to report but how long it took.
type Timing struct {
	MS float64 `json:"ms"`
}

// Connect is the proxy CONNECT step.
type Connect struct {
	StatusCode int     `json:"status_code"`
	ProxyAddr  string  `json:"proxy_addr"`
	MS         float64 `json:"ms"`
}

// TLS is the handshake; null when none was attempted.
type TLS struct {
	Version       string    `json:"version"`
	Cipher        string    `json:"cipher"`
	ALPN          string    `json:"alpn,omitempty"`
	Issuer        string    `json:"issuer"`
	Subject       string    `json:"subject"`
	SANs          []string  `json:"sans"`
	NotAfter      time.Time `json:"not_after"`
	Verified      bool      `json:"verified"`
	InterceptedBy string    `json:"intercepted_by"`
	// MSSRetry is the handshake retried with a clamped segment size after it
	// stalled (direct paths, Linux); null when there was none.
	MSSRetry *probe.MSSRetry `json:"mss_retry"`
	MS       float64         `json:"ms"`
}

// HTTP is the request made after the connection (NCSI, or to read Date), or
// a trust-path fetch's.
type HTTP struct {
	StatusCode int    `json:"status_code"`
	Location   string `json:"location,omitempty"`
	BodyMatch  bool   `json:"body_match"`
	// ContentType of an answer judged by its content (the certificate
	// authorities' hosts): what a block page or a relabelled file came as.
	ContentType string  `json:"content_type,omitempty"`
	Bytes       int     `json:"bytes,omitempty"` // a trust-path fetch: the answer's size, headers included
	MS          float64 `json:"ms"`
}

// TagMatch is one service tag whose prefix contains the result's IP.
type TagMatch struct {
	Tag           string `json:"tag"`
	Region        string `json:"region"`
	SystemService string `json:"system_service"`
	Prefix        string `json:"prefix"`
}

// Provider is the CDN, WAF or cloud that owns the IP (cdncheck).
type Provider struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // cdn, waf, cloud
}

// Summary counts results overall and per family.
type Summary struct {
	Total   int `json:"total"`
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"` // not tried, neither ok nor failed: IPv6 addresses on a host without IPv6
	// Info counts results that are neither either: privatelink_absent, an
	// expected NXDOMAIN for a vault without a private endpoint. They do not
	// fail a run.
	Info int `json:"info"`
	// SoftFailed counts failed results that do not fail the run: revocation
	// servers (OCSP, CRL) this server cannot reach, which Windows waits for
	// and then does without (warning revocation_unreachable).
	SoftFailed int                   `json:"soft_failed"`
	Warnings   int                   `json:"warnings"`
	ByStatus   map[probe.Outcome]int `json:"by_status"`
	// Verdict is set when every result failed at the same step: the cause is
	// then this server's own network, and the verdict says what to check.
	Verdict  string          `json:"verdict,omitempty"`
	Families []FamilySummary `json:"families"`
	// TrustPath counts the trust path's rows; its failures fail the run.
	TrustPath TrustPathSummary `json:"trust_path"`
}

// FamilySummary is one family's line in the summary.
type FamilySummary struct {
	Family  string `json:"family"`
	Total   int    `json:"total"`
	OK      int    `json:"ok"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	Info    int    `json:"info"` // neither ok nor failed (privatelink_absent)
	// SoftFailed: failed without failing the run (Summary.SoftFailed).
	SoftFailed int `json:"soft_failed"`
	// Works names the paths that worked for at least one host of the family
	// (direct, proxy): with --path both this is the answer for the ticket.
	Works []probe.Path `json:"works"`
}

// The hops an Action fixes.
const (
	HopDNS           = "dns"
	HopFirewall      = "firewall"
	HopProxy         = "proxy"
	HopTLSInspection = "tls-inspection"
	HopClock         = "clock"
	HopPathMTU       = "path-mtu" // a link with a small MTU whose ICMP is dropped (a tunnel, a VPN)
	HopHost          = "host"     // this server itself (out of ports), not the network
	HopServer        = "server"   // the remote server's own set-up (a chain it sends incomplete), not this network
	HopOther         = "other"    // an outcome no rule above knows
)

// Action is one line of the "what to open" list: the firewall or proxy change
// that would fix a group of failures.
type Action struct {
	Hop    string   `json:"hop"` // one of the Hop* names
	Change string   `json:"change"`
	Hosts  []string `json:"hosts"`
	IPs    []string `json:"ips,omitempty"`
	Tags   []string `json:"tags,omitempty"`
}
