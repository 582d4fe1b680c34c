package servicetags

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

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
