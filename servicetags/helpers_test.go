package servicetags

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// realFile reads one of Microsoft's real feeds from ../shared/data/servicetags/
// beside the repository. They are not copied into the repo; without them the test
// skips, except in CI, where it fails.
func realFile(tb testing.TB, name string) []byte {
	tb.Helper()
	path := filepath.Join("..", "..", "shared", "data", "servicetags", name)
	data, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real service-tag file missing in CI: %v", err)
		}
		tb.Skipf("real service-tag file not available (%v); place Microsoft's feeds in ../shared/data/servicetags/", err)
	}
	return data
}

func mustParse(tb testing.TB, name string, data []byte) *Feed {
	tb.Helper()
	f, err := Parse(name, data)
	if err != nil {
		tb.Fatalf("Parse(%s): %v", name, err)
	}
	return f
}

// fixture reads a small hand-made file from the repository's testdata/servicetags.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "servicetags", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
