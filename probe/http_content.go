package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Content is what a plain-HTTP answer must carry when a body equal to a
// fixed text (ExpectBody) is not the test: the files and answers Windows
// fetches on port 80 to build and check certificate chains.
type Content string

const (
	// ContentDER: a certificate or CRL file (a CA-issuers or CRL URL): a 200
	// whose body is DER, an ASN.1 SEQUENCE (0x30).
	ContentDER Content = "der"
	// ContentAnswer: any answer of the server's own (an OCSP responder asked
	// for its base URL with no request in it answers 200, 400, 404 or 405 by
	// its make): it proves the port-80 path. An HTML page with a 2xx status
	// is a web filter's block page, a redirect to another site a captive
	// portal's.
	ContentAnswer Content = "answer"
	// ContentCab: a Microsoft cabinet (Windows' root list, authrootstl.cab):
	// a 200 with the magic "MSCF" and a plausible size.
	ContentCab Content = "cab"
)

// contentPeek is how much of the body is read to judge it: the magic of a
// file, or the start of an HTML page.
const contentPeek = 512

// The sizes a root list cabinet may have: authrootstl.cab holds a few hundred
// roots' hashes and properties (tens of KiB); far less is a cut answer, far
// more not the list.
const (
	minCab = 8 << 10
	maxCab = 16 << 20
)

// cabTypes are the content types servers give a cabinet file, named when an
// answer is neither.
var cabTypes = []string{"application/vnd.ms-cab-compressed", "application/octet-stream"}

// judgeContent sets the outcome of an origin's answer (not a proxy's own)
// against want; body is its first bytes.
func (res *HTTPResult) judgeContent(body []byte, h http.Header, want Content) {
	res.ContentType = h.Get("Content-Type")
	res.ContentLength = -1
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		res.ContentLength = n
	}
	code := res.StatusCode
	switch {
	case code >= 200 && code < 300 && isHTML(res.ContentType, body):
		res.Outcome = HTTPBlockPage
		res.Body = excerpt(body)
		res.Error = fmt.Sprintf("GET %s: %d with an HTML page (%s) instead of the server's %s: a web filter's block page", res.URL, code, typeOr(res.ContentType), want.what())
	case want == ContentAnswer && code >= 300 && code < 400 && !sameSite(res.URL, res.Location):
		res.Outcome = HTTPUnexpected
		res.Error = fmt.Sprintf("GET %s: %d to another site (%s): a captive portal or web filter redirects plain HTTP", res.URL, code, res.Location)
	case want == ContentAnswer:
		res.Outcome = OK
	case code != http.StatusOK:
		res.Outcome = HTTPUnexpected
		res.Error = fmt.Sprintf("GET %s: %d %s instead of the %s: the server answered, so port 80 is open to it, but the file is gone or something on the way rewrites the request", res.URL, code, http.StatusText(code), want.what())
	case want == ContentDER && (len(body) == 0 || body[0] != 0x30):
		res.Outcome = HTTPUnexpected
		res.Body = excerpt(body)
		res.Error = fmt.Sprintf("GET %s: 200 with %s, not a DER certificate or CRL (which starts with 0x30)", res.URL, typeOr(res.ContentType))
	case want == ContentCab:
		res.judgeCab(body)
	default:
		res.Outcome = OK
	}
}

// judgeCab checks a 200's body is a cabinet of a plausible size, by its
// header: the magic "MSCF" and the cabinet's own size (cbCabinet, bytes 8-11),
// which must agree with Content-Length when there is one.
func (res *HTTPResult) judgeCab(body []byte) {
	if len(body) < 12 || !bytes.HasPrefix(body, []byte("MSCF")) {
		res.Outcome = HTTPUnexpected
		res.Body = excerpt(body)
		want := ""
		if !typeIn(res.ContentType, cabTypes) {
			want = " (a cabinet comes as " + strings.Join(cabTypes, " or ") + ")"
		}
		res.Error = fmt.Sprintf("GET %s: 200 with %s%s and no cabinet magic \"MSCF\": not Windows' root list", res.URL, typeOr(res.ContentType), want)
		return
	}
	size := int64(binary.LittleEndian.Uint32(body[8:12]))
	switch {
	case size < minCab || size > maxCab:
		res.Outcome = HTTPUnexpected
		res.Error = fmt.Sprintf("GET %s: a cabinet of %d bytes: not a plausible root list (%d KiB to %d MiB)", res.URL, size, minCab>>10, maxCab>>20)
	case res.ContentLength >= 0 && res.ContentLength != size:
		res.Outcome = HTTPUnexpected
		res.Error = fmt.Sprintf("GET %s: Content-Length %d but the cabinet says %d bytes: something on the way altered the file", res.URL, res.ContentLength, size)
	default:
		// The bytes decide, not the label: a proxy that relabels the list
		// does no harm to it.
		res.Outcome = OK
	}
}

func (c Content) what() string {
	switch c {
	case ContentDER:
		return "certificate or CRL file"
	case ContentCab:
		return "root list cabinet"
	}
	return "own answer"
}

// isHTML tells an HTML page by its content type, or, when the type is missing
// or generic, by how the body starts.
func isHTML(contentType string, body []byte) bool {
	if typeIn(contentType, []string{"text/html", "application/xhtml+xml"}) {
		return true
	}
	start := strings.ToLower(string(bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), " \t\r\n")))
	return strings.HasPrefix(start, "<!doctype html") || strings.HasPrefix(start, "<html")
}

func typeIn(contentType string, types []string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	for _, t := range types {
		if mt == t {
			return true
		}
	}
	return false
}

func typeOr(contentType string) string {
	if contentType == "" {
		return "no content type"
	}
	return "content type " + contentType
}

// sameSite reports whether a redirect from rawURL to location stays on the
// same site: a relative location, the same host, or one that shares its last
// two labels (http://www.microsoft.com to https://www.microsoft.com/en-us/,
// crl3.digicert.com to www.digicert.com).
func sameSite(rawURL, location string) bool {
	from, err1 := url.Parse(rawURL)
	to, err2 := url.Parse(location)
	if err1 != nil || err2 != nil {
		return false
	}
	if to.Host == "" {
		return true
	}
	return site(from.Hostname()) == site(to.Hostname())
}

// site is a host's last two labels, lower case.
func site(host string) string {
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	if len(labels) > 2 {
		labels = labels[len(labels)-2:]
	}
	return strings.Join(labels, ".")
}
