package testenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoveTree removes nested files and directories, read-only ones too,
// and leaves the directory beside it alone.
func TestRemoveTree(t *testing.T) {
	parent := TempDir(t)
	dir := filepath.Join(parent, "tree")
	keep := filepath.Join(parent, "keep")
	for _, d := range []string{filepath.Join(dir, "a", "b"), filepath.Join(dir, "c"), keep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(dir, "top"), filepath.Join(dir, "a", "b", "deep"), filepath.Join(dir, "c", "ro"), filepath.Join(keep, "f")} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "c", "ro"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := RemoveTree(dir); err != nil {
		t.Fatalf("RemoveTree: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still there after RemoveTree: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(keep, "f")); err != nil {
		t.Errorf("RemoveTree touched the directory beside it: %v", err)
	}
	if err := RemoveTree(dir); err != nil {
		t.Errorf("RemoveTree of a missing directory: %v, want nil", err)
	}
}

func TestDirPattern(t *testing.T) {
	if got, want := dirPattern("TestX/sub_case-1 ü"), "TestXsubcase1*"; got != want {
		t.Errorf("dirPattern = %q, want %q", got, want)
	}
	if long := dirPattern(strings.Repeat("a", 100)); long != strings.Repeat("a", 64)+"*" {
		t.Errorf("dirPattern of a long name = %q, want its first 64 bytes and *", long)
	}
}
