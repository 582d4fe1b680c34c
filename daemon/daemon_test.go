package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/plan"
)

// runDaemon runs a daemon on config (real clock, records to a buffer) until
// done says stop or the wait is over, and returns its records.
func runDaemon(t *testing.T, config string, done func([]Record) bool) []Record {
	t.Helper()
	dir := testenv.TempDir(t)
	file := filepath.Join(dir, "daemon.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	d, err := New(Deps{ConfigFile: file, Getenv: os.Getenv, PlanEnv: plan.SystemEnv(func(string) string { return "" }),
		Stdout: &out, Log: slog.New(slog.DiscardHandler), Hostname: "test", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for !done(parseRecords(t, out.String())) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	return parseRecords(t, out.String())
}

func parseRecords(t testing.TB, s string) []Record {
	var out []Record
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("a line that is not a record: %v", err)
		}
		out = append(out, r)
	}
	return out
}

func lifecycles(recs []Record, event string) []*Lifecycle {
	var out []*Lifecycle
	for _, r := range recs {
		if r.Type == TypeLifecycle && r.Lifecycle.Event == event {
			out = append(out, r.Lifecycle)
		}
	}
	return out
}

// TestOverrunsNeverOverlap: cycles of a 2 s probe timeout against a server
// that never answers, every 1 s: each cycle overruns, is counted and logged,
// and the next starts when it ends — never two at once.
func TestOverrunsNeverOverlap(t *testing.T) {
	silent := testnet.TCPSilent(t, "127.0.0.1")
	recs := runDaemon(t, fmt.Sprintf("version: 1\nschedule: {interval: 1s}\ntargets: [%q]\nresolvers: [127.0.0.1]\nproxy: none\ntimeout: 2s\nmetrics: {listen: 'off'}\n", silent.String()),
		func(r []Record) bool { return len(lifecycles(r, EventOverrun)) >= 2 })
	if n := len(lifecycles(recs, EventOverrun)); n < 2 {
		t.Fatalf("%d overrun records, want one per cycle", n)
	}
	// Results of a cycle all come before the next cycle's, and every
	// completed cycle's result is a timeout, not a probe cut short by another.
	var last uint64
	for _, r := range recs {
		if r.Type != TypeResult {
			continue
		}
		if r.Cycle < last {
			t.Errorf("cycle %d's result after cycle %d's", r.Cycle, last)
		}
		last = r.Cycle
		if r.Result.Status != "tls_timeout" && r.Result.Status != "cancelled" {
			t.Errorf("cycle %d: %s, want tls_timeout", r.Cycle, r.Result.Status)
		}
	}
	if o := lifecycles(recs, EventOverrun)[0]; o.Seconds <= 0 || !strings.Contains(o.Detail, "the next starts now") {
		t.Errorf("overrun record %+v", o)
	}
}

// TestFeedRefresh: the cached feed is refreshed from service_tags.source;
// a newer feed is taken (feed_refreshed with its change number), a broken
// one is refused and the feed in use stays.
func TestFeedRefresh(t *testing.T) {
	dir := testenv.TempDir(t)
	source := filepath.Join(dir, "ServiceTags_Public.json")
	copyFile(t, "../testdata/servicetags/small_old.json", source)
	closed := testnet.TCPClosed(t, "127.0.0.1")
	config := fmt.Sprintf("version: 1\nschedule: {interval: 1s}\ntargets: [%q]\nresolvers: [127.0.0.1]\nproxy: none\n"+
		"service_tags: {refresh: 1s, source: '%s', cache_dir: '%s'}\nmetrics: {listen: 'off'}\n", closed.String(), source, filepath.Join(dir, "cache"))
	broke := false
	recs := runDaemon(t, config, func(r []Record) bool {
		refreshed := lifecycles(r, EventFeedRefreshed)
		if len(refreshed) >= 1 && !broke {
			if err := os.WriteFile(source, []byte(`{"changeNumber": 9, "cloud": "Public", "values": [`), 0o600); err != nil {
				t.Error(err)
			}
			broke = true
		}
		for _, l := range lifecycles(r, EventFeedRefresh) {
			if l.OK != nil && !*l.OK {
				return true
			}
		}
		return false
	})
	refreshed := lifecycles(recs, EventFeedRefreshed)
	if len(refreshed) == 0 || refreshed[0].ChangeNumber != 7 {
		t.Fatalf("feed_refreshed records %+v, want change number 7", refreshed)
	}
	var failed *Lifecycle
	for _, l := range lifecycles(recs, EventFeedRefresh) {
		if l.OK != nil && !*l.OK {
			failed = l
		}
	}
	if failed == nil || failed.ChangeNumber != 7 || failed.Error == "" {
		t.Fatalf("failed refresh record %+v, want the error and change number 7 still in use", failed)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
