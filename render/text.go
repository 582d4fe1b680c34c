package render

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Plain-text helpers every format shares: cutting and making printable.

// shorten cuts s to at most max runes (max 0: not at all), at a word
// boundary when one is near, marking the cut with "...".
func shorten(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	cut := max - 3
	for i := cut; i > cut*2/3; i-- {
		if unicode.IsSpace(runes[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(runes[:cut]), func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == ':' || r == ';'
	}) + "..."
}

// printable replaces control characters (ANSI escapes, newlines, NUL) that a
// hostile name or server answer could carry, so that they cannot repaint the
// terminal or break a table's lines.
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '?'
		}
		return r
	}, s)
}

func isControl(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }
