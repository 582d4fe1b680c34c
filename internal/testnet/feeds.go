package testnet

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"egressprobe/internal/testenv"
)

// MicrosoftFeed returns one of Microsoft's real service-tag files, by its
// file name (ServiceTags_Public_20250908.json), from the gzipped copies kept
// in the repository's testdata/servicetags/microsoft/: tests need nothing
// beside the clone.
func MicrosoftFeed(tb testing.TB, name string) []byte {
	tb.Helper()
	path := filepath.Join(ModuleRoot(tb), "testdata", "servicetags", "microsoft", name+".gz")
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("real service-tag file: %v (the repository keeps it; is the clone complete?)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, zr); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return buf.Bytes()
}

// MicrosoftFeedFile writes MicrosoftFeed(name) into a temporary folder under
// its own name and returns the path, for commands that take a file.
func MicrosoftFeedFile(tb testing.TB, name string) string {
	tb.Helper()
	path := filepath.Join(testenv.TempDir(tb), name)
	if err := os.WriteFile(path, MicrosoftFeed(tb, name), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// ModuleRoot is the folder holding go.mod, found upwards from the test's
// working directory (its package's folder).
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			tb.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}
