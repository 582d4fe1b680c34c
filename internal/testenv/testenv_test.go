package testenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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

// TestTestsUseTempDir keeps every test of the module on TempDir: a test that
// writes a file into the testing package's own temp dir fails under Wine
// (.ci/wine) in its clean-up, so the Linux run says so first, with the fix.
var testingTempDir = regexp.MustCompile(`\b(t|b|f|tb)\.TempDir\(\)`)

func TestTestsUseTempDir(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .git, .ci
		}
		if d.IsDir() && d.Name() == "testenv" {
			return filepath.SkipDir // TempDir itself
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if testingTempDir.MatchString(line) {
				t.Errorf("%s:%d: use testenv.TempDir instead of the testing package's, which Wine cannot clean up (see .ci/wine/README.md)", p, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
