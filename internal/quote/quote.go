// Package quote is how error messages show what the user typed: quoted, cut
// to a readable length (a 1 MB line in a targets file must not land on
// stderr), and, for a name that is not one of a known set, the closest one
// ("did you mean").
package quote

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxRunes is how much of an input a message quotes before cutting it.
const MaxRunes = 80

// Cut returns s shortened to MaxRunes runes, ending in "…" when it was longer.
// Invalid UTF-8 is kept as it is; Q escapes it.
func Cut(s string) string {
	if utf8.RuneCountInString(s) <= MaxRunes {
		return s
	}
	i, n := 0, 0
	for n < MaxRunes-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + "…"
}

// Q quotes s as %q does, cut first: the one way a message quotes input.
func Q(s string) string { return strconv.Quote(Cut(s)) }

// Suggest returns the candidate closest to s, ignoring case, when it is close
// enough to be a slip of the fingers (a transposed, missing, extra or wrong
// letter or two), else "".
func Suggest(s string, candidates []string) string {
	in := strings.ToLower(s)
	best, bestD := "", -1
	for _, c := range candidates {
		d := distance(in, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 {
		return ""
	}
	// Two edits in a long word, one in a short one: "jsn" → "json", but not
	// "xml" → "html".
	limit := 1
	if utf8.RuneCountInString(in) >= 5 {
		limit = 2
	}
	if utf8.RuneCountInString(in) >= 10 {
		limit = 3
	}
	if bestD > limit {
		return ""
	}
	return best
}

// DidYouMean is "; did you mean X?" for the closest candidate, or "".
func DidYouMean(s string, candidates []string) string {
	if c := Suggest(s, candidates); c != "" {
		return "; did you mean " + c + "?"
	}
	return ""
}

// distance is the optimal-string-alignment edit distance: insertions,
// deletions, substitutions and transpositions of adjacent letters each cost 1
// ("regoin" is one edit from "region").
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 30 // not a slip of the fingers; and no quadratic work on a huge input
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// OneOf is the hint after a value that is not one of a short list of valid
// names: "; did you mean X?" for a slip of the fingers, else "; use one of A,
// B, C".
func OneOf(value string, valid []string) string {
	if s := DidYouMean(strings.TrimSpace(value), valid); s != "" {
		return s
	}
	return "; use one of " + strings.Join(valid, ", ")
}
