package servicetags

import (
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// decodeFast decodes the common case of a well-formed feed with gjson, several
// times faster than encoding/json's reflection. It only accepts input whose
// every field has exactly the expected JSON type; anything else (null where a
// string belongs, a fractional number, invalid UTF-8, ...) returns ok=false and
// Parse falls back to encoding/json, which decides and explains. Like
// encoding/json, keys match case-insensitively and the last duplicate wins.
func decodeFast(data []byte) (raw rawFeed, ok bool) {
	if !utf8.Valid(data) || !gjson.ValidBytes(data) {
		return raw, false
	}
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
