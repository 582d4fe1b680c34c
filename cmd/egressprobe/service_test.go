package main

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"egressprobe/proxy"
)

// TestServiceProxyNote: what install and status say about the proxy a
// LocalSystem service sees, from the settings the console's user has.
func TestServiceProxyNote(t *testing.T) {
	winhttp := &proxy.Settings{Manual: true, Server: "proxy.corp:3128", Bypass: "<local>"}
	ie := &proxy.Settings{Manual: true, Server: "http=alice:S3cret@userproxy:8080"}
	for _, c := range []struct {
		name      string
		sys       proxy.System
		err       error
		want, not []string
	}{
		{"nothing set", proxy.System{}, nil, []string{"LocalSystem", "WinHTTP", "none set, so the service connects directly"}, []string{"Internet Settings"}},
		{"WinHTTP only", proxy.System{WinHTTP: winhttp}, nil, []string{"proxy http://proxy.corp:3128", "bypass <local>"}, []string{"NOT what the service sees"}},
		{"the user's proxy differs", proxy.System{IE: ie}, nil, []string{"none set", "Your Internet Settings", "NOT what the service sees", "netsh winhttp set proxy"}, []string{"S3cret"}},
		{"unreadable", proxy.System{}, errors.New(`HKLM\...\WinHttpSettings: access denied`), []string{"reading the proxy settings: HKLM"}, nil},
	} {
		got := serviceProxyNote(c.sys, c.err)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q has %q", c.name, got, n)
			}
		}
	}
}

func TestServiceElsewhereIsUsageError(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the service commands work on Windows: TestWindowsService")
	}
	if code, _, stderr := runCLI(t, "", "service", "status"); code != 2 || !strings.Contains(stderr, "systemd unit") {
		t.Errorf("service status off Windows: exit %d, %q; want 2 pointing at the systemd unit", code, stderr)
	}
}
