package servicetags

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

func TestCompactFormRoundTrip(t *testing.T) {
	for _, name := range []string{"ServiceTags_Public_20250908.json", "ServiceTags_China_20260720.json"} {
		t.Run(name, func(t *testing.T) {
			data := testnet.MicrosoftFeed(t, name)
			f := mustParse(t, name, data)
			k := keyOf(data)
			bin := encodeBinary(f, k)
			g, pl, err := decodeBinary(bin, k)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f, g) {
				t.Fatal("decoded compact form differs from the parsed JSON")
			}
			// The index built from the kept plan is the one NewIndex builds.
			want, got := NewIndex(f), newIndex(g, pl)
			if want.Prefixes() != got.Prefixes() {
				t.Fatalf("index from the compact form has %d prefixes, want %d", got.Prefixes(), want.Prefixes())
			}
			for _, a := range sampleAddrs(f, 5000) {
				if w, g := want.Lookup(a), got.Lookup(a); !reflect.DeepEqual(w, g) {
					t.Fatalf("Lookup(%v) from the compact form = %v, want %v", a, g, w)
				}
			}
			if _, _, err := decodeBinary(bin, keyOf(append(bytes.Clone(data), ' '))); !errors.Is(err, errStale) {
				t.Errorf("a form for other JSON: err = %v, want errStale", err)
			}
			t.Logf("JSON %d bytes, compact form %d bytes", len(data), len(bin))
		})
	}
}

func TestCompactFormCorrupt(t *testing.T) {
	data := fixture(t, "small_old.json")
	k := keyOf(data)
	bin := encodeBinary(mustParse(t, "small_old.json", data), k)
	// Every single-byte flip and every truncation is detected, never a panic or a wrong feed.
	for i := range bin {
		b := bytes.Clone(bin)
		b[i] ^= 0x5a
		if _, _, err := decodeBinary(b, k); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
		if _, _, err := decodeBinary(bin[:i], k); err == nil {
			t.Fatalf("truncating to %d bytes went unnoticed", i)
		}
	}
}

func FuzzDecodeBinary(f *testing.F) {
	data := fixture(f, "small_old.json")
	k := keyOf(data)
	f.Add(encodeBinary(mustParse(f, "small_old.json", data), k))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Fix up the checksum so the fuzzer reaches the decoder proper.
		if len(b) >= 4 {
			b = seal(b[: len(b)-4 : len(b)-4])
		}
		feed, pl, err := decodeBinary(b, k)
		if err == nil && len(feed.Tags) > 0 {
			_ = NewIndex(feed)
			_ = newIndex(feed, pl)
		}
	})
}

func TestCacheLoadUsesCompactForm(t *testing.T) {
	c := Cache{Dir: testenv.TempDir(t)}
	cl, _ := ParseCloud("public")
	if _, _, err := c.Load(cl); !errors.Is(err, ErrNotCached) {
		t.Fatalf("empty cache: err = %v, want ErrNotCached", err)
	}
	data := fixture(t, "small_old.json")
	if err := os.WriteFile(c.JSONPath(cl), data, 0o644); err != nil {
		t.Fatal(err)
	}
	f1, info, err := c.Load(cl)
	if err != nil || info.Compact {
		t.Fatalf("first load: compact=%v err=%v, want JSON parse", info.Compact, err)
	}
	f2, info, err := c.Load(cl)
	if err != nil || !info.Compact {
		t.Fatalf("second load: compact=%v err=%v, want the compact form", info.Compact, err)
	}
	if !reflect.DeepEqual(f1, f2) {
		t.Error("compact load differs from JSON load")
	}
	// A changed JSON invalidates the compact form.
	newer := fixture(t, "small_new.json")
	if err := os.WriteFile(c.JSONPath(cl), newer, 0o644); err != nil {
		t.Fatal(err)
	}
	f3, info, err := c.Load(cl)
	if err != nil || info.Compact || f3.ChangeNumber != 8 {
		t.Fatalf("after the JSON changed: compact=%v changeNumber=%v err=%v", info.Compact, f3.ChangeNumber, err)
	}
	// A damaged compact form falls back to the JSON.
	if err := os.WriteFile(c.binPath(cl), []byte("EPST\x01garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, info, err := c.Load(cl); err != nil || info.Compact {
		t.Fatalf("damaged compact form: compact=%v err=%v", info.Compact, err)
	}
	if left, _ := filepath.Glob(filepath.Join(c.Dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temp files left behind: %v", left)
	}
}

// LoadIndex answers the same from the JSON (first run) and from the compact
// form (later runs) as NewIndex over the parsed feed.
func TestCacheLoadIndex(t *testing.T) {
	c := Cache{Dir: testenv.TempDir(t)}
	cl, _ := ParseCloud("public")
	data := testnet.MicrosoftFeed(t, "ServiceTags_Public_20250908.json")
	if err := os.WriteFile(c.JSONPath(cl), data, 0o644); err != nil {
		t.Fatal(err)
	}
	f := mustParse(t, "Public", data)
	want := NewIndex(f)
	addrs := sampleAddrs(f, 2000)
	for _, compact := range []bool{false, true} {
		ix, info, err := c.LoadIndex(cl)
		if err != nil || info.Compact != compact {
			t.Fatalf("LoadIndex: compact=%v err=%v, want compact=%v", info.Compact, err, compact)
		}
		if !reflect.DeepEqual(ix.Feed(), f) || ix.Prefixes() != want.Prefixes() {
			t.Fatalf("LoadIndex (compact=%v): feed differs or %d prefixes, want %d", compact, ix.Prefixes(), want.Prefixes())
		}
		for _, a := range addrs {
			if g, w := ix.Lookup(a), want.Lookup(a); !slices.EqualFunc(g, w, sameMatch) {
				t.Fatalf("LoadIndex (compact=%v): Lookup(%v) = %v, want %v", compact, a, g, w)
			}
		}
	}
}

func TestLoadCachedHonoursXDG(t *testing.T) {
	if os.PathSeparator == '\\' {
		t.Skip("os.UserCacheDir ignores XDG_CACHE_HOME on Windows")
	}
	dir := testenv.TempDir(t)
	t.Setenv("XDG_CACHE_HOME", dir)
	c := Cache{Dir: filepath.Join(dir, "egressprobe", "servicetags")}
	cl, _ := ParseCloud("public")
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.JSONPath(cl), fixture(t, "small_old.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, info, err := LoadCached("AzureCloud") // any name of the cloud
	if err != nil {
		t.Fatal(err)
	}
	if info.Path != c.JSONPath(cl) || ix.Prefixes() == 0 || info.Modified.IsZero() {
		t.Errorf("LoadCached: path %s, %d prefixes, modified %v", info.Path, ix.Prefixes(), info.Modified)
	}
	if _, _, err := LoadCached("mars"); err == nil {
		t.Error("LoadCached accepted an unknown cloud")
	}
	// The Public file copied where China's belongs is refused, not used.
	china, _ := ParseCloud("china")
	if err := os.WriteFile(c.JSONPath(china), fixture(t, "small_old.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCached("mooncake"); !errors.Is(err, ErrWrongCloud) || !strings.Contains(err.Error(), "update --cloud china") {
		t.Errorf("LoadCached(mooncake) of the Public file: err = %v, want ErrWrongCloud and the fix", err)
	}
}

func TestFeedDate(t *testing.T) {
	for in, want := range map[string]string{
		"ServiceTags_Public_20250908.json":                                              "2025-09-08",
		"https://download.microsoft.com/download/7/1/d/ServiceTags_China_20260720.json": "2026-07-20",
		`C:\Users\me\Downloads\ServiceTags_AzureGovernment_20260720.json`:               "2026-07-20",
		"./feeds/ServiceTags_Public_20250901.json":                                      "2025-09-01",
		"ServiceTags_Public.json":                                                       "",
		"ServiceTags_Public_20251399.json":                                              "", // no such date
		"myServiceTags_Public_20250908.json":                                            "", // not Microsoft's name
		"ServiceTags_Public_20250908.json.bak":                                          "",
		"":                                                                              "",
	} {
		d, ok := FeedDate(in)
		if got := d.Format(time.DateOnly); ok != (want != "") || ok && got != want {
			t.Errorf("FeedDate(%q) = %s, %v; want %q", in, got, ok, want)
		}
	}
	// A meta written before the date was kept still dates the feed by its source.
	if got := (Meta{Source: "https://download.microsoft.com/x/ServiceTags_Public_20250901.json"}).published(); got.Format(time.DateOnly) != "2025-09-01" {
		t.Errorf("published from the source = %v", got)
	}
}

// feedFile is the path of a fixture, for Update's --source.
func feedFile(name string) string { return filepath.Join("..", "testdata", "servicetags", name) }

// openCachedFeed caches small_old.json in a new cache and opens the cached
// JSON, as a reader does; the caller closes it.
func openCachedFeed(t *testing.T) (*Updater, *os.File) {
	t.Helper()
	u := &Updater{Cache: Cache{Dir: testenv.TempDir(t)}}
	if _, err := u.Update(context.Background(), public, feedFile("small_old.json")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(u.Cache.JSONPath(public))
	if err != nil {
		t.Fatal(err)
	}
	return u, f
}

// TestCacheReplaceWhileRead replaces a cached feed that a reader has open and
// lets go of a moment later, as a concurrent egressprobe or a virus scanner
// does. POSIX renames over an open file; Windows refuses until the reader
// closes it, so the update waits for that instead of failing.
func TestCacheReplaceWhileRead(t *testing.T) {
	u, f := openCachedFeed(t)
	c := u.Cache
	done := make(chan struct{})
	time.AfterFunc(200*time.Millisecond, func() { f.Close(); close(done) })
	res, err := u.Update(context.Background(), public, feedFile("small_new.json"))
	<-done
	if err != nil || res.Status != Updated {
		t.Fatalf("update while the cached feed was read: %+v, %v", res, err)
	}
	if cached, err := os.ReadFile(c.JSONPath(public)); err != nil || !bytes.Equal(cached, fixture(t, "small_new.json")) {
		t.Errorf("cache after the update: %v; want the new feed", err)
	}
}
