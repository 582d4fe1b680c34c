// Package testenv adapts tests to the system they run on, so that one test
// runs unchanged on Linux, on Windows and on Windows under Wine (.ci/wine).
package testenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TempDir is t.TempDir for tests that write files. On Windows the directory
// is removed one entry at a time with os.Remove: t.TempDir's clean-up,
// os.RemoveAll, deletes through FileDispositionInformationEx, which Wine 8
// does not implement ("unlinkat …: Invalid function"), so under Wine every
// test that wrote a file would fail in its clean-up.
func TempDir(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", dirPattern(t.Name()))
	if err != nil {
		t.Fatalf("testenv: temp dir: %v", err)
	}
	t.Cleanup(func() {
		if err := RemoveTree(dir); err != nil {
			t.Errorf("testenv: removing temp dir: %v", err)
		}
	})
	return dir
}

// RemoveTree removes dir and everything in it with os.Remove, deepest
// entries first: os.RemoveAll without its FileDispositionInformationEx path.
func RemoveTree(dir string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// WalkDir visits a directory before its entries: backwards, every entry
	// goes before the directory holding it.
	var errs []error
	for _, p := range slices.Backward(paths) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dirPattern makes a temp-dir pattern from a test name, as t.TempDir does:
// the name's letters and digits, at most 64 of them.
func dirPattern(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, name)
	if len(name) > 64 {
		name = name[:64]
	}
	return name + "*"
}
