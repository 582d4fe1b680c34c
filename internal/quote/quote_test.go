package quote

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQCutsLongInput(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	q := Q(long)
	if n := utf8.RuneCountInString(q); n != MaxRunes+2 {
		t.Errorf("Q of 1 MB is %d runes, want %d (80 and two quotes)", n, MaxRunes+2)
	}
	if !strings.HasSuffix(q, "…\"") {
		t.Errorf("Q of a long input = %.20s…, want it to end in an ellipsis", q)
	}
	if got := Q("short"); got != `"short"` {
		t.Errorf("Q(short) = %s", got)
	}
	exact := strings.Repeat("é", MaxRunes)
	if got := Cut(exact); got != exact {
		t.Errorf("Cut of exactly MaxRunes runes changed it: %q", got)
	}
	if got := Q("a\x00b"); got != `"a\x00b"` {
		t.Errorf("Q escapes control bytes: got %s", got)
	}
}

func TestSuggest(t *testing.T) {
	regions := []string{"westeurope", "northeurope", "westus", "westus2", "eastus"}
	tests := []struct {
		in         string
		candidates []string
		want       string
	}{
		{"regoin", []string{"region", "resolver", "member"}, "region"},
		{"westeurpoe", regions, "westeurope"},
		{"WestEurpoe", regions, "westeurope"},
		{"pubic", []string{"public", "china", "usgov"}, "public"},
		{"jsn", []string{"table", "json", "jsonl", "csv"}, "json"},
		{"chekc", []string{"check", "targets", "servicetags", "version"}, "check"},
		{"xml", []string{"table", "json", "html"}, ""},
		{"mars", regions, ""},
		{strings.Repeat("a", 1000), regions, ""},
		{"", regions, ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.in, tt.candidates); got != tt.want {
			t.Errorf("Suggest(%.20q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSuggest(f *testing.F) {
	f.Add("westeurpoe")
	f.Fuzz(func(t *testing.T, s string) {
		got := Suggest(s, []string{"westeurope", "json"})
		if got != "" && got != "westeurope" && got != "json" {
			t.Fatalf("Suggest returned %q, not a candidate", got)
		}
		if n := utf8.RuneCountInString(Cut(s)); n > MaxRunes {
			t.Fatalf("Cut left %d runes", n)
		}
	})
}
