package testenv

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/windows/registry"
)

const testKey = `Software\egressprobe-testenv`

// TestRegistryRestore: inside a subtest values are set and deleted; after it
// the keys it created are gone and the values it changed are back.
func TestRegistryRestore(t *testing.T) {
	SetRegistryValue(t, registry.CURRENT_USER, testKey, "Kept", "before")
	SetRegistryValue(t, registry.CURRENT_USER, testKey, "Deleted", uint32(7))
	t.Run("change", func(t *testing.T) {
		SetRegistryValue(t, registry.CURRENT_USER, testKey, "Kept", []byte{1, 2})
		DeleteRegistryValue(t, registry.CURRENT_USER, testKey, "Deleted")
		SetRegistryValue(t, registry.CURRENT_USER, testKey+`\new\deeper`, "V", "x")
		k := open(t, testKey)
		if b, _, err := k.GetBinaryValue("Kept"); err != nil || !bytes.Equal(b, []byte{1, 2}) {
			t.Errorf("Kept = %v, %v; want [1 2]", b, err)
		}
		if _, _, err := k.GetIntegerValue("Deleted"); !errors.Is(err, registry.ErrNotExist) {
			t.Errorf("Deleted still there: %v", err)
		}
	})
	k := open(t, testKey)
	if s, _, err := k.GetStringValue("Kept"); err != nil || s != "before" {
		t.Errorf("Kept after the subtest = %q, %v; want %q", s, err, "before")
	}
	if v, _, err := k.GetIntegerValue("Deleted"); err != nil || v != 7 {
		t.Errorf("Deleted after the subtest = %d, %v; want 7", v, err)
	}
	if _, err := registry.OpenKey(registry.CURRENT_USER, testKey+`\new`, registry.QUERY_VALUE); !errors.Is(err, registry.ErrNotExist) {
		t.Errorf("key made by the subtest still there: %v", err)
	}
}

func open(t *testing.T, path string) registry.Key {
	t.Helper()
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return k
}
