package probe

import (
	"strings"
	"testing"
	"unicode/utf8"

	"egressprobe/internal/quote"
)

// A trust-path URL comes from the server's certificate: its errors name it
// with any password redacted and the whole cut, like any other input.
func TestTrustFetchWhereRedactsAndCuts(t *testing.T) {
	f := TrustFetch{Kind: TrustCRL, URL: "http://user:s3cret@crl.example/" + strings.Repeat("a", 500) + ".crl"}
	w := f.where()
	if strings.Contains(w, "s3cret") || !strings.HasPrefix(w, "crl http://user:") {
		t.Errorf("where = %q: want the kind and the URL, its password redacted", w)
	}
	if n := utf8.RuneCountInString(strings.TrimPrefix(w, "crl ")); n > quote.MaxRunes {
		t.Errorf("where names a URL of %d runes, more than %d", n, quote.MaxRunes)
	}
}
