package servicetags

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
)

// TestCacheUnderLocalAppData: the default cache is
// %LocalAppData%\egressprobe\servicetags; an update from a file lands there
// and LoadCached reads it back; without LocalAppData the error names it.
func TestCacheUnderLocalAppData(t *testing.T) {
	dir := testenv.TempDir(t)
	t.Setenv("LocalAppData", dir)
	c, err := DefaultCache()
	if err != nil {
		t.Fatalf("DefaultCache: %v", err)
	}
	if want := filepath.Join(dir, "egressprobe", "servicetags"); c.Dir != want {
		t.Fatalf("DefaultCache().Dir = %s, want %s", c.Dir, want)
	}
	u := Updater{Cache: c}
	res, err := u.Update(context.Background(), public, feedFile("small_old.json"))
	if err != nil || res.Status != Updated {
		t.Fatalf("Update from a file: %+v, %v", res, err)
	}
	ix, info, err := LoadCached("public")
	if err != nil {
		t.Fatalf("LoadCached: %v", err)
	}
	if info.Path != filepath.Join(c.Dir, "ServiceTags_Public.json") || ix.Prefixes() == 0 {
		t.Errorf("LoadCached read %s (%d prefixes), want the feed under %s", info.Path, ix.Prefixes(), c.Dir)
	}

	t.Setenv("LocalAppData", "")
	if _, err := DefaultCache(); err == nil || !strings.Contains(err.Error(), "LocalAppData") {
		t.Errorf("DefaultCache without LocalAppData: %v, want an error naming LocalAppData", err)
	}
}

// TestCacheReplaceHeldOpen: when another process keeps the cached feed open
// for longer than the update waits, the update fails naming the cause, and
// the cache keeps the old feed with no temp file left beside it.
func TestCacheReplaceHeldOpen(t *testing.T) {
	u, f := openCachedFeed(t)
	defer f.Close()
	c := u.Cache
	_, err := u.Update(context.Background(), public, feedFile("small_new.json"))
	if err == nil || !strings.Contains(err.Error(), "another process kept") || !strings.Contains(err.Error(), c.JSONPath(public)) {
		t.Fatalf("update over a feed held open: %v; want an error naming the file and the other process", err)
	}
	if cached, err := os.ReadFile(c.JSONPath(public)); err != nil || !bytes.Equal(cached, fixture(t, "small_old.json")) {
		t.Errorf("cached feed after the failed update: %v; want the old feed intact", err)
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}
