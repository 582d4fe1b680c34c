package report

import (
	"slices"
	"strings"
	"testing"

	"egressprobe/probe"
	"egressprobe/targets"
)

// TestAuthoritiesWhatToOpen: the certificate authorities' hosts closed on
// port 80 share one firewall line, which says when Windows needs them; a
// revocation server's failure warns without failing the run; a block page
// and a transparent proxy's 407 blame the web filter and the proxy.
func TestAuthoritiesWhatToOpen(t *testing.T) {
	cat, err := targets.Catalog(targets.CloudPublic, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	byHost := map[string]targets.Endpoint{}
	for _, e := range cat {
		if e.Family == targets.FamilyAuthorities {
			byHost[e.Host] = e
		}
	}
	var eps []targets.Endpoint
	var observed []probe.Observation
	add := func(host, ip string, out probe.Outcome) {
		eps = append(eps, byHost[host])
		observed = append(observed, obs(len(eps)-1, dnsOK(host, "10.0.0.53:53", ip), ip, out))
	}
	add("cacerts.geotrust.com", "192.0.2.10", probe.TCPTimeout)
	add("crl3.digicert.com", "192.0.2.11", probe.TCPTimeout)
	add("oneocsp.microsoft.com", "192.0.2.12", probe.TCPTimeout)
	add("ctldl.windowsupdate.com", "192.0.2.13", probe.HTTPBlockPage)
	add("crl4.digicert.com", "192.0.2.14", probe.ProxyAuthRequired)
	add("cacerts.digicert.com", "192.0.2.15", probe.OK)

	rep := Build(Input{Endpoints: eps, Observations: observed})

	if s := rep.Summary; s.OK != 1 || s.Failed != 2 || s.SoftFailed != 3 || s.Families[0].SoftFailed != 3 {
		t.Errorf("summary %+v, want 1 ok, 2 failed (issuer, root list), 3 soft-failed (revocation)", s)
	}
	for _, r := range rep.Results {
		warned := hasWarning(r, WarnRevocationUnreachable)
		if want := targets.Revocation(r.Role) && r.Status != probe.OK; warned != want {
			t.Errorf("%s (%s, %s): revocation warning %v, want %v", r.Host, r.Role, r.Status, warned, want)
		}
	}
	var port80 []Action
	for _, a := range rep.Open {
		if a.Hop == HopFirewall && strings.Contains(a.Change, "TCP 80") {
			port80 = append(port80, a)
		}
	}
	if len(port80) != 1 || !slices.Equal(port80[0].Hosts, []string{"cacerts.geotrust.com", "crl3.digicert.com", "oneocsp.microsoft.com"}) ||
		!slices.Equal(port80[0].IPs, []string{"192.0.2.10", "192.0.2.11", "192.0.2.12"}) {
		t.Fatalf("port-80 firewall lines %+v, want one for the three dropped hosts", port80)
	}
	for _, s := range []string{"does not send the whole chain", "root store lacks the root", "goes on without it", "certutil -verify -urlfetch"} {
		if !strings.Contains(port80[0].Change, s) {
			t.Errorf("port-80 change %q does not say %q", port80[0].Change, s)
		}
	}
	find := func(hop, text string) *Action {
		for i, a := range rep.Open {
			if a.Hop == hop && strings.Contains(a.Change, text) {
				return &rep.Open[i]
			}
		}
		return nil
	}
	if a := find(HopFirewall, "block page"); a == nil || !slices.Equal(a.Hosts, []string{"ctldl.windowsupdate.com"}) || !strings.Contains(a.Change, "port 80") {
		t.Errorf("block page: %+v in %+v", a, rep.Open)
	}
	if a := find(HopProxy, "transparent proxy"); a == nil || !slices.Equal(a.Hosts, []string{"crl4.digicert.com"}) || strings.Contains(a.Change, "%!") {
		t.Errorf("transparent proxy's 407: %+v in %+v", a, rep.Open)
	}
	if len(rep.Open) != 3 {
		t.Errorf("%d actions, want 3: %+v", len(rep.Open), rep.Open)
	}
}

// Only a catalog revocation server soft-fails: the same outcome on a
// CA-issuers host, or on a user's host named "crl", fails the run.
func TestSoftFailedOnlyRevocation(t *testing.T) {
	for _, tc := range []struct {
		family, role string
		status       probe.Outcome
		want         bool
	}{
		{targets.FamilyAuthorities, targets.RoleCRL, probe.TCPTimeout, true},
		{targets.FamilyAuthorities, targets.RoleOCSP, probe.DNSNXDomain, true},
		{targets.FamilyAuthorities, targets.RoleOCSP, probe.OK, false},
		{targets.FamilyAuthorities, targets.RoleCAIssuers, probe.TCPTimeout, false},
		{targets.FamilyAuthorities, targets.RoleRootList, probe.HTTPBlockPage, false},
		{targets.FamilyCustom, targets.RoleCRL, probe.TCPTimeout, false},
		{targets.FamilyAuthorities, targets.RoleCRL, probe.Cancelled, false},
	} {
		r := Result{Family: tc.family, Role: tc.role, Status: tc.status}
		if got := softFailed(&r); got != tc.want {
			t.Errorf("%s %s %s: soft-failed %v, want %v", tc.family, tc.role, tc.status, got, tc.want)
		}
	}
}
