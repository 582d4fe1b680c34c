package testnet

import (
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
)

// Cabinet is a Microsoft cabinet of size bytes (at least its 36-byte header):
// the magic "MSCF" and its own size in cbCabinet (bytes 8-11), zeros after,
// as a root list authrootstl.cab starts.
func Cabinet(size int) []byte {
	b := make([]byte, max(size, 36))
	copy(b, "MSCF")
	binary.LittleEndian.PutUint32(b[8:12], uint32(len(b)))
	return b
}

// Authorities answers as certificate authorities' hosts and Windows' root
// list do on port 80: a .crt or .crl path gets der (a DER certificate or CRL,
// application/pkix-cert or pkix-crl), a .cab path cab
// (application/vnd.ms-cab-compressed), anything else 400, as an OCSP
// responder asked for its base URL with no request in it.
func Authorities(der, cab []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch {
		case strings.HasSuffix(r.URL.Path, ".crt"):
			w.Header().Set("Content-Type", "application/pkix-cert")
			body = der
		case strings.HasSuffix(r.URL.Path, ".crl"):
			w.Header().Set("Content-Type", "application/pkix-crl")
			body = der
		case strings.HasSuffix(r.URL.Path, ".cab"):
			w.Header().Set("Content-Type", "application/vnd.ms-cab-compressed")
			body = cab
		default:
			http.Error(w, "no OCSP request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// BlockPage answers every GET with 200 and an HTML page, as a web filter
// does for a URL its policy blocks.
func BlockPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><html><body><h1>Access denied</h1><p>This site is blocked by your organisation's web policy (category: Uncategorized).</p></body></html>"))
	})
}
