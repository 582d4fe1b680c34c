package servicetags

import (
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// decodeFast decodes the common case of a well-formed feed, several times
// faster than encoding/json's reflection: scanFeed for a feed exactly as
// Microsoft writes it, else gjson. It only accepts input whose
// every field has exactly the expected JSON type; anything else (null where a
// string belongs, a fractional number, invalid UTF-8, ...) returns ok=false and
// Parse falls back to encoding/json, which decides and explains. Like
// encoding/json, keys match case-insensitively and the last duplicate wins.
func decodeFast(data []byte) (raw rawFeed, ok bool) {
	if !utf8.Valid(data) {
		return raw, false
	}
	if raw, ok = scanFeed(data); ok {
		return raw, true
	}
	if !gjson.ValidBytes(data) {
		return rawFeed{}, false
	}
	raw = rawFeed{}
	// gjson.ParseBytes would copy the whole file into a string (~4 MB for
	// Public, a good part of the parse). The view is read only while data
	// is, during this call: every string kept in the feed is cloned (str,
	// strs with keep), the address prefixes are parsed and dropped.
	root := gjson.Parse(unsafe.String(unsafe.SliceData(data), len(data)))
	if !root.IsObject() {
		return raw, false
	}
	ok = true
	root.ForEach(func(k, v gjson.Result) bool {
		switch {
		case strings.EqualFold(k.Str, "changeNumber"):
			n, good := integer(v)
			raw.ChangeNumber, ok = &n, good
		case strings.EqualFold(k.Str, "cloud"):
			if v.Type != gjson.String {
				ok = false
			}
			s := strings.Clone(v.Str)
			raw.Cloud = &s
		case strings.EqualFold(k.Str, "values"):
			raw.Values, ok = fastTags(v)
		}
		return ok
	})
	return raw, ok
}

func fastTags(v gjson.Result) ([]rawTag, bool) {
	if !v.IsArray() {
		return nil, false
	}
	tags := make([]rawTag, 0, 4096)
	ok := true
	v.ForEach(func(_, tv gjson.Result) bool {
		var t rawTag
		if !tv.IsObject() {
			ok = false
			return false
		}
		tv.ForEach(func(k, fv gjson.Result) bool {
			switch {
			case strings.EqualFold(k.Str, "name"):
				t.Name, ok = str(fv)
			case strings.EqualFold(k.Str, "id"):
				t.ID, ok = str(fv)
			case strings.EqualFold(k.Str, "properties"):
				ok = fastProperties(fv, &t)
			}
			return ok
		})
		tags = append(tags, t)
		return ok
	})
	return tags, ok
}

func fastProperties(v gjson.Result, t *rawTag) bool {
	if !v.IsObject() {
		return false
	}
	p := &t.Properties
	ok := true
	v.ForEach(func(k, fv gjson.Result) bool {
		switch {
		case strings.EqualFold(k.Str, "changeNumber"):
			p.ChangeNumber, ok = integer(fv)
		case strings.EqualFold(k.Str, "region"):
			p.Region, ok = str(fv)
		case strings.EqualFold(k.Str, "regionId"):
			p.RegionID, ok = integer(fv)
		case strings.EqualFold(k.Str, "platform"):
			p.Platform, ok = str(fv)
		case strings.EqualFold(k.Str, "systemService"):
			p.SystemService, ok = str(fv)
		case strings.EqualFold(k.Str, "addressPrefixes"):
			ok = strs(&p.AddressPrefixes, fv, false)
		case strings.EqualFold(k.Str, "networkFeatures"):
			ok = strs(&p.NetworkFeatures, fv, true)
		}
		return ok
	})
	return ok
}

// str reads a string that the feed keeps, so a copy: not a view of the input.
func str(v gjson.Result) (string, bool) { return strings.Clone(v.Str), v.Type == gjson.String }

// integer accepts what encoding/json accepts for an int64: an integer literal in range.
func integer(v gjson.Result) (int64, bool) {
	if v.Type != gjson.Number {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	return n, err == nil
}

// strs reads an array of strings into *dst; null sets it to nil, as
// encoding/json does. keep copies the strings; without it they are views of
// the input, valid only during decodeFast.
func strs(dst *[]string, v gjson.Result, keep bool) bool {
	if v.Type == gjson.Null {
		*dst = nil
		return true
	}
	if !v.IsArray() {
		return false
	}
	out := make([]string, 0, 16)
	ok := true
	v.ForEach(func(_, e gjson.Result) bool {
		s := e.Str
		if keep {
			s = strings.Clone(s)
		}
		ok = e.Type == gjson.String
		out = append(out, s)
		return ok
	})
	*dst = out
	return ok
}

// scanFeed decodes a feed as Microsoft publishes it in one pass over the
// bytes, several times faster than gjson, which scans each value again for
// every level it is nested in. It accepts only that shape: every key spelled
// as in the schema and at most once, no other key, strings without escapes,
// plain integers. Anything else returns ok=false and decodeFast goes on with
// gjson. What it accepts is valid JSON that encoding/json decodes the same.
func scanFeed(data []byte) (raw rawFeed, ok bool) {
	sc := &scanner{s: unsafe.String(unsafe.SliceData(data), len(data)), views: make([]string, 0, len(data)/32+16)}
	var seen uint8
	ok = sc.object(func(key string) bool {
		switch key {
		case "changeNumber":
			n, good := sc.int()
			raw.ChangeNumber = &n
			return once(&seen, 1) && good
		case "cloud":
			s, good := sc.str()
			s = strings.Clone(s)
			raw.Cloud = &s
			return once(&seen, 2) && good
		case "values":
			raw.Values = make([]rawTag, 0, 4096)
			return once(&seen, 4) && sc.array(func() bool {
				raw.Values = append(raw.Values, rawTag{})
				return sc.tag(&raw.Values[len(raw.Values)-1])
			})
		}
		return false
	})
	sc.space()
	return raw, ok && sc.i == len(sc.s)
}

// scanner reads the JSON in s from offset i. Strings it returns are views of
// s, except those the feed keeps, which it clones.
type scanner struct {
	s     string
	i     int
	views []string // the address prefixes of all tags, each tag's a sub-slice
}

// once records key bit in *seen and reports whether it was new.
func once(seen *uint8, bit uint8) bool {
	isNew := *seen&bit == 0
	*seen |= bit
	return isNew
}

func (sc *scanner) tag(t *rawTag) bool {
	var seen uint8
	return sc.object(func(key string) bool {
		var good bool
		switch key {
		case "name":
			t.Name, good = sc.str()
			t.Name = strings.Clone(t.Name)
			return once(&seen, 1) && good
		case "id":
			t.ID, good = sc.str()
			t.ID = strings.Clone(t.ID)
			return once(&seen, 2) && good
		case "properties":
			return once(&seen, 4) && sc.properties(t)
		}
		return false
	})
}

func (sc *scanner) properties(t *rawTag) bool {
	p := &t.Properties
	var seen uint8
	return sc.object(func(key string) bool {
		var good bool
		switch key {
		case "changeNumber":
			p.ChangeNumber, good = sc.int()
			return once(&seen, 1) && good
		case "region":
			p.Region, good = sc.str()
			p.Region = strings.Clone(p.Region)
			return once(&seen, 2) && good
		case "regionId":
			p.RegionID, good = sc.int()
			return once(&seen, 4) && good
		case "platform":
			p.Platform, good = sc.str()
			p.Platform = strings.Clone(p.Platform)
			return once(&seen, 8) && good
		case "systemService":
			p.SystemService, good = sc.str()
			p.SystemService = strings.Clone(p.SystemService)
			return once(&seen, 16) && good
		case "addressPrefixes":
			return once(&seen, 32) && sc.prefixes(&p.AddressPrefixes)
		case "networkFeatures":
			return once(&seen, 64) && sc.features(&p.NetworkFeatures)
		}
		return false
	})
}

// prefixes reads an array of strings into *dst as views, for validate to
// parse and drop; null is nil, as with encoding/json.
func (sc *scanner) prefixes(dst *[]string) bool {
	if sc.null() {
		return true
	}
	start := len(sc.views)
	ok := sc.array(func() bool {
		s, good := sc.str()
		sc.views = append(sc.views, s)
		return good
	})
	*dst = sc.views[start:len(sc.views):len(sc.views)]
	return ok
}

// features reads an array of strings the feed keeps; null is nil.
func (sc *scanner) features(dst *[]string) bool {
	if sc.null() {
		return true
	}
	out := []string{}
	ok := sc.array(func() bool {
		s, good := sc.str()
		out = append(out, strings.Clone(s))
		return good
	})
	*dst = out
	return ok
}

func (sc *scanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// next consumes c, after white space, if it comes next.
func (sc *scanner) next(c byte) bool {
	sc.space()
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

func (sc *scanner) null() bool {
	sc.space()
	if strings.HasPrefix(sc.s[sc.i:], "null") {
		sc.i += len("null")
		return true
	}
	return false
}

// str reads a string without escapes (and so without control characters,
// which JSON allows only escaped). The input is valid UTF-8, checked once.
func (sc *scanner) str() (string, bool) {
	if !sc.next('"') {
		return "", false
	}
	for j := sc.i; j < len(sc.s); j++ {
		switch c := sc.s[j]; {
		case c == '"':
			s := sc.s[sc.i:j]
			sc.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// int reads an integer literal: an optional minus, then 0 or digits not
// starting with 0. A fraction or exponent fails on the next character.
func (sc *scanner) int() (int64, bool) {
	sc.space()
	j := sc.i
	if j < len(sc.s) && sc.s[j] == '-' {
		j++
	}
	d := j
	for j < len(sc.s) && '0' <= sc.s[j] && sc.s[j] <= '9' {
		j++
	}
	if j == d || sc.s[d] == '0' && j-d > 1 {
		return 0, false
	}
	n, err := strconv.ParseInt(sc.s[sc.i:j], 10, 64)
	sc.i = j
	return n, err == nil
}

// object reads an object, calling member after each key to read its value.
func (sc *scanner) object(member func(key string) bool) bool {
	if !sc.next('{') {
		return false
	}
	if sc.next('}') {
		return true
	}
	for {
		k, ok := sc.str()
		if !ok || !sc.next(':') || !member(k) {
			return false
		}
		if !sc.next(',') {
			return sc.next('}')
		}
	}
}

// array reads an array, calling elem to read each element.
func (sc *scanner) array(elem func() bool) bool {
	if !sc.next('[') {
		return false
	}
	if sc.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if !sc.next(',') {
			return sc.next(']')
		}
	}
}
