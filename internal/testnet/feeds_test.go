package testnet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMicrosoftFeedsDocumented: every gzipped feed decompresses to the bytes
// its README row gives (size and SHA-256), so a copy cannot drift unnoticed.
func TestMicrosoftFeedsDocumented(t *testing.T) {
	dir := filepath.Join(ModuleRoot(t), "testdata", "servicetags", "microsoft")
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	if len(gz) == 0 {
		t.Fatal("no feeds in " + dir)
	}
	for _, p := range gz {
		name := strings.TrimSuffix(filepath.Base(p), ".gz")
		data := MicrosoftFeed(t, name)
		sum := sha256.Sum256(data)
		row := "| " + name + " |"
		i := bytes.Index(readme, []byte(row))
		if i < 0 {
			t.Errorf("%s has no row in the README", name)
			continue
		}
		line, _, _ := strings.Cut(string(readme[i:]), "\n")
		if !strings.Contains(line, hex.EncodeToString(sum[:])) {
			t.Errorf("%s: SHA-256 %x is not the README's: %s", name, sum, line)
		}
	}
}

// TestMicrosoftFeedsMatchShared is an extra check, never a requirement: when
// the shared data folder sits beside the clone, the copies kept here are the
// files there. Without it the test skips, in CI too.
func TestMicrosoftFeedsMatchShared(t *testing.T) {
	shared := filepath.Join(ModuleRoot(t), "..", "shared", "data", "servicetags")
	files, err := os.ReadDir(shared)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is not beside the clone: nothing to compare (optional)", shared)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".json") {
			continue
		}
		want, err := os.ReadFile(filepath.Join(shared, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(ModuleRoot(t), "testdata", "servicetags", "microsoft", f.Name()+".gz")); err != nil {
			t.Logf("%s is in the shared folder only (not used by the tests)", f.Name())
			continue
		}
		if !bytes.Equal(MicrosoftFeed(t, f.Name()), want) {
			t.Errorf("%s differs from %s", f.Name(), filepath.Join(shared, f.Name()))
		}
	}
}
