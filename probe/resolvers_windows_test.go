package probe

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
)

// TestSystemResolversFromAdapters reads the adapters' DNS servers through
// GetAdaptersAddresses: under .ci/wine/exec they are the nameservers of the
// namespace's own resolv.conf, which Wine reports on its adapters, so the
// expected list is known.
func TestSystemResolversFromAdapters(t *testing.T) {
	ns := testenv.WineNetns(t)
	var want []string
	for _, s := range strings.Split(ns["resolvers"], ",") {
		want = append(want, netip.AddrPortFrom(netip.MustParseAddr(s), 53).String())
	}
	got, err := SystemResolvers()
	if err != nil {
		t.Fatalf("SystemResolvers: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("SystemResolvers() = %v, want %v", got, want)
	}
}
