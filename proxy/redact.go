package proxy

import (
	"regexp"
	"strings"
)

// redacted replaces a password wherever this package prints one; the same
// marker as (*url.URL).Redacted.
const redacted = "xxxxx"

var (
	// schemeUserinfoRE finds "scheme://userinfo@". The userinfo is greedy up to
	// the last '@' before a space or quote, as url.Parse splits an authority,
	// so a raw '@' or '/' inside a password is still covered.
	schemeUserinfoRE = regexp.MustCompile(`(?i)([a-z][a-z0-9+.\-]*://)([^\s"'<>]*)@`)
	// bareUserinfoRE finds "user:password@" without a scheme ("alice:pw@proxy:3128",
	// as curl accepts it), at the start of the string or after a separator. The
	// password may not start with '/', which keeps "http://" out of it.
	bareUserinfoRE = regexp.MustCompile(`(^|[\s"'(<=,;\[])([^\s/?#"'<>,;\[\]:@]+):([^\s/"'<>][^\s"'<>]*)@`)
)

// Redact returns s with the password of every URL-like credential in it
// replaced by "xxxxx" ("http://alice:s3cret@proxy:3128" becomes
// "http://alice:xxxxx@proxy:3128"). It is the one helper every string that may
// carry a proxy URL goes through: errors, details, logs.
func Redact(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	s = schemeUserinfoRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := schemeUserinfoRE.FindStringSubmatch(m)
		user, _, hasPassword := strings.Cut(sub[2], ":")
		if !hasPassword {
			return m // a bare user name, as (*url.URL).Redacted keeps it
		}
		return sub[1] + user + ":" + redacted + "@"
	})
	return bareUserinfoRE.ReplaceAllString(s, "${1}${2}:"+redacted+"@")
}
