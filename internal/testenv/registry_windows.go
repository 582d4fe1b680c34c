package testenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// SetRegistryValue sets a registry value for the rest of the test: v is a
// uint32 (REG_DWORD), a string (REG_SZ) or a []byte (REG_BINARY). Missing keys
// are created. At clean-up the old value comes back, or the value and the
// keys made for it go. Under Wine every test binary has its own registry
// (.ci/wine/exec); on a real machine the restore is what keeps it clean.
func SetRegistryValue(t testing.TB, root registry.Key, path, name string, v any) {
	t.Helper()
	k := openForTest(t, root, path)
	keep(t, k, path, name)
	var err error
	switch v := v.(type) {
	case uint32:
		err = k.SetDWordValue(name, v)
	case string:
		err = k.SetStringValue(name, v)
	case []byte:
		err = k.SetBinaryValue(name, v)
	default:
		err = fmt.Errorf("unsupported type %T", v)
	}
	if err != nil {
		t.Fatalf(`testenv: setting registry value %s\%s: %v`, path, name, err)
	}
}

// DeleteRegistryValue removes a registry value, if there, for the rest of the
// test; clean-up puts it back.
func DeleteRegistryValue(t testing.TB, root registry.Key, path, name string) {
	t.Helper()
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatalf(`testenv: opening registry key %s: %v`, path, err)
	}
	t.Cleanup(func() { _ = k.Close() })
	keep(t, k, path, name)
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		t.Fatalf(`testenv: deleting registry value %s\%s: %v`, path, name, err)
	}
}

// openForTest opens path under root for writing, creating the missing keys,
// and registers the clean-up that deletes those keys; the value's own restore
// runs before it (clean-ups run last registered first).
func openForTest(t testing.TB, root registry.Key, path string) registry.Key {
	t.Helper()
	parts := strings.Split(path, `\`)
	firstMissing := len(parts)
	for i := range parts {
		k, err := registry.OpenKey(root, strings.Join(parts[:i+1], `\`), registry.QUERY_VALUE)
		if err != nil {
			firstMissing = i
			break
		}
		_ = k.Close()
	}
	k, _, err := registry.CreateKey(root, path, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		t.Fatalf(`testenv: creating registry key %s: %v`, path, err)
	}
	t.Cleanup(func() {
		for i := len(parts); i > firstMissing; i-- {
			if err := registry.DeleteKey(root, strings.Join(parts[:i], `\`)); err != nil {
				t.Errorf(`testenv: deleting registry key %s made by the test: %v`, strings.Join(parts[:i], `\`), err)
			}
		}
	})
	t.Cleanup(func() { _ = k.Close() })
	return k
}

// keep registers the clean-up that puts name's current value back, or
// deletes name when it has none now.
func keep(t testing.TB, k registry.Key, path, name string) {
	t.Helper()
	_, typ, err := k.GetValue(name, nil)
	if errors.Is(err, registry.ErrNotExist) {
		t.Cleanup(func() {
			if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
				t.Errorf(`testenv: deleting registry value %s\%s set by the test: %v`, path, name, err)
			}
		})
		return
	}
	if err != nil {
		t.Fatalf(`testenv: reading registry value %s\%s: %v`, path, name, err)
	}
	var set func() error
	switch typ {
	case registry.DWORD:
		v, _, err := k.GetIntegerValue(name)
		if err != nil {
			t.Fatalf(`testenv: reading registry value %s\%s: %v`, path, name, err)
		}
		set = func() error { return k.SetDWordValue(name, uint32(v)) }
	case registry.SZ, registry.EXPAND_SZ:
		v, _, err := k.GetStringValue(name)
		if err != nil {
			t.Fatalf(`testenv: reading registry value %s\%s: %v`, path, name, err)
		}
		set = func() error {
			if typ == registry.EXPAND_SZ {
				return k.SetExpandStringValue(name, v)
			}
			return k.SetStringValue(name, v)
		}
	case registry.BINARY:
		v, _, err := k.GetBinaryValue(name)
		if err != nil {
			t.Fatalf(`testenv: reading registry value %s\%s: %v`, path, name, err)
		}
		set = func() error { return k.SetBinaryValue(name, v) }
	default:
		t.Fatalf(`testenv: registry value %s\%s has type %d, which the test cannot restore`, path, name, typ)
	}
	t.Cleanup(func() {
		if err := set(); err != nil {
			t.Errorf(`testenv: restoring registry value %s\%s: %v`, path, name, err)
		}
	})
}
