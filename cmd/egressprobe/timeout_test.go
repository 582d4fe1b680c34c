package main

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/report"
)

// slack is what a run may take beyond its timeout: starting the process,
// building the catalog and writing the report. Generous, since CI machines
// are busy; the point is that nothing waits for a stalled peer.
const slack = 3 * time.Second

// TestCheckTimeoutPerStep stalls each step in turn under --timeout 1s: every
// result carries its own *_timeout after about a second, and the process
// ends long before a stalled peer would let it.
func TestCheckTimeoutPerStep(t *testing.T) {
	binary(t) // built before any clock starts
	l := newLab(t)
	blackhole := testnet.TCPBlackhole(t, "127.0.94.1")
	silent := testnet.TCPSilent(t, "127.0.94.2")
	dribble := testnet.TCPDribble(t, "127.0.94.3", []byte{0x16}, time.Second/2)
	httpStall := testnet.HTTPStall(t, "127.0.94.4")
	l.zone["drop.lab.test"] = testnet.DNSName{A: a("127.0.94.1")}
	l.zone["mute.lab.test"] = testnet.DNSName{A: a("127.0.94.2")}
	l.zone["slow.lab.test"] = testnet.DNSName{A: a("127.0.94.3")}
	l.zone["stall.lab.test"] = testnet.DNSName{A: a("127.0.94.4")}
	l.zone["late.lab.test"] = testnet.DNSName{Fault: testnet.DNSSilent}
	resolver := l.start(t)

	want := map[string]string{
		"late.lab.test":  "dns_timeout",
		"drop.lab.test":  "tcp_timeout",
		"mute.lab.test":  "tls_timeout",
		"slow.lab.test":  "tls_timeout",
		"stall.lab.test": "http_timeout",
	}
	start := time.Now()
	r := runBinary(t, nil, "check", "--resolver", resolver, "--proxy", "none", "--timeout", "1s", "-o", "json",
		"late.lab.test",
		fmt.Sprintf("drop.lab.test:%d", blackhole.Port()),
		fmt.Sprintf("mute.lab.test:%d", silent.Port()),
		fmt.Sprintf("slow.lab.test:%d", dribble.Port()),
		fmt.Sprintf("http://stall.lab.test:%d/connecttest.txt", httpStall.Port()))
	took := time.Since(start)
	rep := decodeReport(t, r.stdout)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, res := range rep.Results {
		if string(res.Status) != want[res.Host] {
			t.Errorf("%s: %s (%s), want %s", res.Host, res.Status, res.Error, want[res.Host])
		}
		if res.ElapsedMS > float64((time.Second + 250*time.Millisecond).Milliseconds()) {
			t.Errorf("%s took %.0f ms, over --timeout 1s", res.Host, res.ElapsedMS)
		}
	}
	if len(rep.Results) != len(want) {
		t.Errorf("%d results, want %d", len(rep.Results), len(want))
	}
	if took > time.Second+slack {
		t.Errorf("run took %v, want under 1s + %v", took, slack)
	}

	t.Run("proxy that never answers CONNECT", func(t *testing.T) {
		p := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxySilent})
		start := time.Now()
		r := runBinary(t, nil, "check", "--resolver", resolver, "--proxy", p.URL.String(), "--path", "proxy", "--timeout", "1s", "-o", "json", "mute.lab.test:443")
		took := time.Since(start)
		rep := decodeReport(t, r.stdout)
		if len(rep.Results) != 1 || rep.Results[0].Status != "proxy_timeout" {
			t.Fatalf("results %+v, want one proxy_timeout", rep.Results)
		}
		if took > time.Second+slack {
			t.Errorf("run took %v, want under 1s + %v", took, slack)
		}
	})
}

// TestCheckTimeoutBoundsTheRun: 20 stalled endpoints at --concurrency 20 end
// within one timeout, not twenty.
func TestCheckTimeoutBoundsTheRun(t *testing.T) {
	binary(t) // built before any clock starts
	l := newLab(t)
	args := append([]string{"check", "--proxy", "none", "--timeout", "1s", "--concurrency", "20", "-o", "json"}, l.silentTargets(t, 95, 20)...)
	args = append(args, "--resolver", l.start(t))
	start := time.Now()
	r := runBinary(t, nil, args...)
	took := time.Since(start)
	rep := decodeReport(t, r.stdout)
	statuses := map[string]int{}
	for _, res := range rep.Results {
		statuses[string(res.Status)]++
	}
	if statuses["tls_timeout"] != 20 {
		t.Errorf("statuses %v, want 20 tls_timeout", statuses)
	}
	if took > time.Second+slack {
		t.Errorf("20 stalled endpoints at concurrency 20 took %v, want under 1s + %v", took, slack)
	}
	if i := slices.IndexFunc(rep.Results, func(r report.Result) bool { return r.ElapsedMS < 900 }); i >= 0 {
		t.Errorf("%s gave up after %.0f ms, before its 1s timeout", rep.Results[i].Host, rep.Results[i].ElapsedMS)
	}
}
