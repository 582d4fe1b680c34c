package targets

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRandomLabel(t *testing.T) {
	got, err := RandomLabel("*.blob.core.windows.net", bytes.NewReader([]byte{0, 1, 2, 3, 4, 5, 6, 0xff}))
	if err != nil || got != "egressprobe-wildcard-00010203040506ff.blob.core.windows.net" {
		t.Errorf("got %q, %v", got, err)
	}
	a, _ := RandomLabel("*.windows.net", rand.Reader)
	b, _ := RandomLabel("*.windows.net", rand.Reader)
	if a == b || !strings.HasSuffix(a, ".windows.net") {
		t.Errorf("two random labels %q %q", a, b)
	}
	if _, err := ParseHost(a); err != nil {
		t.Errorf("random label %q is not a valid host: %v", a, err)
	}
	// The label is directly under the zone, so the family matches it.
	if f, ok := FamilyOf(CloudPublic, a); !ok || f.Pattern != "*.windows.net" {
		t.Errorf("FamilyOf(%s) = %v %v", a, f.Pattern, ok)
	}
}

func TestRandomLabelErrors(t *testing.T) {
	for _, fam := range []string{"www.msftncsi.com", "*.", "", "custom"} {
		if _, err := RandomLabel(fam, rand.Reader); err == nil || !strings.Contains(err.Error(), "not a wildcard") {
			t.Errorf("%q: error %v", fam, err)
		}
	}
	if _, err := RandomLabel("*.windows.net", iotest.ErrReader(iotest.ErrTimeout)); err == nil || !strings.Contains(err.Error(), "*.windows.net") {
		t.Errorf("reader failure: %v", err)
	}
}

// Every wildcard family of every cloud yields a valid random host.
func TestRandomLabelAllFamilies(t *testing.T) {
	for _, c := range CloudNames() {
		fams, _ := Families(c)
		for _, f := range fams {
			h, err := RandomLabel(f.Pattern, rand.Reader)
			if f.Wildcard() != (err == nil) {
				t.Errorf("%s: wildcard %v, err %v", f.Pattern, f.Wildcard(), err)
			}
			if err == nil && !f.Matches(h) {
				t.Errorf("%s does not match its random label %s", f.Pattern, h)
			}
		}
	}
}
