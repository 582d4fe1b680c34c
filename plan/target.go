package plan

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"

	"egressprobe/internal/quote"
	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/targets"
)

// Target is the engine's view of one endpoint probed with one resolver along
// one route.
func Target(ep targets.Endpoint, resolver string, route proxy.Route, roots *x509.CertPool, opts *Options) probe.Target {
	t := probe.Target{
		Host: ep.Host, Port: uint16(ep.Port), URLPath: ep.Path, ExpectBody: ep.ExpectBody, Expect: expects[ep.Expect],
		DNSOnly:  ep.Scheme == targets.SchemeDNS,
		Resolver: resolver, Route: route, Timeout: opts.Timeout,
		TLS: probe.TLSOptions{ServerName: ep.Host, Roots: roots},
		// A GET after the handshake reads the Date header for the clock check
		// on catalog endpoints, and fetches a target's own URL path.
		HTTP: ep.Scheme == targets.SchemeHTTPS && (ep.FromCatalog() || ep.Path != ""),
	}
	// Catalog endpoints are Microsoft's: with the system roots, a chain to any
	// other CA is an inspection root installed on this machine.
	if opts.CAFile == "" && ep.FromCatalog() {
		t.TLS.ExpectPublicIssuer = true
	}
	if !t.DNSOnly {
		t.Scheme = ep.Scheme
	}
	if ep.Timeout > 0 {
		t.Timeout = ep.Timeout
	}
	if _, err := netip.ParseAddr(ep.Host); err == nil {
		t.TLS.ServerName = "" // an IP literal: verify the address, send no SNI
	}
	return t
}

// expects maps what a catalog endpoint's answer must carry to the probe's
// judgement of it ("" to "": none).
var expects = map[string]probe.Content{
	targets.ExpectDER:    probe.ContentDER,
	targets.ExpectAnswer: probe.ContentAnswer,
	targets.ExpectCab:    probe.ContentCab,
}

// Resolvers validates resolver values ("IP" means port 53), or asks system
// for the host's resolvers when none are given.
func Resolvers(given []string, system func() ([]string, error)) ([]string, error) {
	if len(given) == 0 {
		if system == nil {
			return nil, inputErrorf("no resolver: give --resolver IP[:PORT]")
		}
		rs, err := system()
		if err != nil {
			return nil, fmt.Errorf("finding the system's DNS resolvers: %w; give --resolver IP[:PORT]", err)
		}
		return rs, nil
	}
	out := make([]string, 0, len(given))
	for _, g := range given {
		ap, err := probe.ParseResolver(g)
		if err != nil {
			return nil, flagErrorf("--resolver", "%s is not IP or IP:PORT; give e.g. 10.0.0.53 or [fd00::53]:53", quote.Q(g))
		}
		out = append(out, ap.String())
	}
	return out, nil
}

// readHosts reads the hosts file given (which must exist), else this host's
// through system; nil when there is neither.
func readHosts(given string, system func() (*probe.Hosts, error)) (*probe.Hosts, error) {
	if given == "" {
		if system == nil {
			return nil, nil
		}
		return system()
	}
	data, err := os.ReadFile(given)
	if err != nil {
		return nil, inputErrorf("--hosts-file: %v", err)
	}
	return probe.ParseHosts(given, data), nil
}

// loadRoots loads the CA file; nil means the system roots, which Go loads
// once per process (x509.SystemCertPool would copy them).
func loadRoots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, flagErrorf("--ca-file", "%v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, flagErrorf("--ca-file", "no PEM certificate in %s; give a file of -----BEGIN CERTIFICATE----- blocks", caFile)
	}
	return pool, nil
}
