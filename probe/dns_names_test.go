package probe

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestIsPrivateLinkName(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"x.privatelink.blob.core.windows.net":  true,
		"x.PrivateLink.blob.core.windows.net.": true,
		"privatelink.vaultcore.azure.net":      true,
		"x.privatelinks.blob.core.windows.net": false,
		"notprivatelink.example":               false,
		"":                                     false,
	} {
		if got := IsPrivateLinkName(s); got != want {
			t.Errorf("IsPrivateLinkName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckHostname(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	for name, errHas := range map[string]string{
		"login.microsoftonline.com": "",
		"a.test.":                   "",
		"_dmarc.x-y.test":           "",
		long + ".test":              "",
		strings.Repeat(long+".", 3) + strings.Repeat("a", 61): "",
		strings.Repeat(long+".", 3) + strings.Repeat("a", 62): "at most 253",
		"":              "empty",
		".":             "empty",
		"a..b":          "empty label",
		".a":            "empty label",
		long + "a.test": "longer than 63",
		"-a.test":       "starts or ends with '-'",
		"a-.test":       "starts or ends with '-'",
		"a b.test":      "not allowed",
		"a/b":           "not allowed",
		"bücher.test":   "xn--",
		"*.test":        "wildcard",
	} {
		err := CheckHostname(name)
		switch {
		case errHas == "" && err != nil:
			t.Errorf("CheckHostname(%q) = %v, want nil", name, err)
		case errHas != "" && (err == nil || !strings.Contains(err.Error(), errHas)):
			t.Errorf("CheckHostname(%q) = %v, want an error containing %q", name, err, errHas)
		}
	}
}

func TestParseResolver(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"10.0.0.53:53":      "10.0.0.53:53",
		"10.0.0.53":         "10.0.0.53:53",
		"[fd00::53]:5353":   "[fd00::53]:5353",
		"fd00::53":          "[fd00::53]:53",
		"[fe80::1%eth0]:53": "[fe80::1%eth0]:53",
		"[fd00::53]":        "[fd00::53]:53",
		"10.0.0.53:0":       "",
		"dns.example:53":    "",
		"10.0.0.53:99999":   "",
		"":                  "",
	} {
		ap, err := ParseResolver(in)
		if want == "" {
			if err == nil || !strings.Contains(err.Error(), "IP:PORT") {
				t.Errorf("ParseResolver(%q) = %v, %v; want an error asking for IP:PORT", in, ap, err)
			}
			continue
		}
		if err != nil || ap.String() != want {
			t.Errorf("ParseResolver(%q) = %v, %v; want %s", in, ap, err, want)
		}
	}
}

// ResolveDNS's input checks: no panic, IP literals come back unqueried, and
// a name CheckHostname accepts is one miekg/dns accepts too.
func FuzzResolveDNSHost(f *testing.F) {
	for _, s := range []string{"a.test", "192.0.2.1", "[::1]", "fe80::1%eth0", "a..b", "*.x", "xn--bcher-kva.test", "-", "a.", strings.Repeat("a.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		// An invalid server keeps any name that passes the checks off the network.
		res := ResolveDNS(context.Background(), DNSQuery{Host: host, Server: "invalid"})
		if res.Outcome == OK {
			if len(res.Addrs) != 1 {
				t.Fatalf("%q: ok with %v", host, res.Addrs)
			}
			return
		}
		if res.Outcome != DNSError || res.Error == "" {
			t.Fatalf("%q: %s %q", host, res.Outcome, res.Error)
		}
		if CheckHostname(host) == nil {
			if _, ok := dns.IsDomainName(host); !ok || len(dns.Fqdn(host)) > 254 {
				t.Fatalf("%q passes CheckHostname but is no domain name", host)
			}
		}
	})
}

func FuzzParseResolver(f *testing.F) {
	for _, s := range []string{"10.0.0.1:53", "[fe80::1%eth0]:53", "fd00::1", "x:1", "[::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ap, err := ParseResolver(s)
		if err == nil && (!ap.IsValid() || ap.Port() == 0) {
			t.Fatalf("%q: %v accepted", s, ap)
		}
	})
}
