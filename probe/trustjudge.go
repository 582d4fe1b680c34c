package probe

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"

	"egressprobe/internal/quote"
	"egressprobe/proxy"
)

// judgeTrust judges the answer in f.HTTP to a fetch of ref: the status, then
// whether it is what the URL must serve (a certificate, an OCSP answer for
// the certificate, a CRL). Retry: another request might get a usable answer
// (an OCSP GET that got an HTTP error or bytes that are not OCSP).
func judgeTrust(f *TrustFetch, ref trustRef, method string, now time.Time) (retry bool) {
	h := f.HTTP
	where := f.where()
	f.Error = ""
	switch {
	case h.Outcome != OK:
		// The exchange's own error names the method and URL.
		f.Outcome, f.Error = h.Outcome, f.Kind+": "+h.Error
		return false
	case h.StatusCode != http.StatusOK:
		f.Outcome = badAnswer(f.Kind)
		f.Error = fmt.Sprintf("%s: %s answered %d %s instead of %s", where, method, h.StatusCode, http.StatusText(h.StatusCode), wanted(f.Kind))
		return true
	case looksHTML(h.Content, h.ContentType):
		f.Outcome = HTTPBlockPage
		f.Error = fmt.Sprintf("%s: 200 with an HTML page (%s, %d bytes, %q) instead of %s: a web filter's or proxy's block page",
			where, h.ContentType, len(h.Content), excerpt(h.Content), wanted(f.Kind))
		return false
	case h.Truncated:
		f.Outcome = badAnswer(f.Kind)
		f.Error = fmt.Sprintf("%s: the answer is over the cap of %d bytes: not %s", where, len(h.Content), wanted(f.Kind))
		return false
	}
	switch f.Kind {
	case TrustOCSP:
		return judgeOCSP(f, ref, method, now)
	case TrustCRL:
		judgeCRL(f, ref, now)
	default:
		judgeCAIssuers(f, ref)
	}
	return false
}

func badAnswer(kind string) Outcome {
	switch kind {
	case TrustOCSP:
		return OCSPBadResponse
	case TrustCRL:
		return CRLBadResponse
	}
	return AIABadResponse
}

func wanted(kind string) string {
	switch kind {
	case TrustOCSP:
		return "an OCSP answer"
	case TrustCRL:
		return "a CRL"
	}
	return "the issuer's certificate"
}

// looksHTML: the answer is a page for people, not the binary a CA serves.
func looksHTML(body []byte, contentType string) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	return bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n\ufeff"), []byte("<"))
}

// judgeOCSP parses the responder's answer for ref's certificate, signed for
// its issuer.
func judgeOCSP(f *TrustFetch, ref trustRef, method string, now time.Time) (retry bool) {
	where, subject := f.where(), ref.cert.Subject.String()
	resp, err := ocsp.ParseResponseForCert(f.HTTP.Content, ref.cert, ref.issuer)
	var re ocsp.ResponseError
	switch {
	case errors.As(err, &re):
		f.OCSP = &OCSPAnswer{Method: method, Status: re.Status.String()}
		f.Outcome = OCSPBadResponse
		f.Error = fmt.Sprintf("%s: the responder answered %q for %q instead of its status: Windows reads that as revocation unknown", where, re.Status.String(), subject)
		return false
	case err != nil:
		f.Outcome = OCSPBadResponse
		f.Error = fmt.Sprintf("%s: the %s answer (%d bytes) is not an OCSP response for %q: %v", where, method, len(f.HTTP.Content), subject, err)
		return true
	}
	a := &OCSPAnswer{Method: method, ProducedAt: resp.ProducedAt.UTC(), NextUpdate: resp.NextUpdate.UTC(), RevokedAt: resp.RevokedAt.UTC()}
	f.OCSP = a
	switch resp.Status {
	case ocsp.Good:
		a.Status = "good"
		if !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate) {
			f.Outcome = OCSPBadResponse
			f.Error = fmt.Sprintf("%s: the answer for %q is stale: its next update %s has passed (a cache between this server and the responder?)", where, subject, a.NextUpdate.Format(time.RFC3339))
			return false
		}
		f.Outcome = OK
	case ocsp.Revoked:
		a.Status = "revoked"
		f.Outcome = Revoked
		f.Error = fmt.Sprintf("%s: the responder says %q was revoked on %s: the server must replace it", where, subject, a.RevokedAt.Format(time.RFC3339))
	default:
		a.Status = "unknown"
		f.Outcome = OCSPBadResponse
		f.Error = fmt.Sprintf("%s: the responder does not know %q (status unknown): Windows reads that as revocation unknown", where, subject)
	}
	return false
}

// judgeCRL parses the list, checks it is the issuer's and current, and looks
// for ref's certificate on it.
func judgeCRL(f *TrustFetch, ref trustRef, now time.Time) {
	where, subject := f.where(), ref.cert.Subject.String()
	der := f.HTTP.Content
	if b, _ := pem.Decode(der); b != nil {
		der = b.Bytes
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		f.Outcome = CRLBadResponse
		f.Error = fmt.Sprintf("%s: the answer (%d bytes) is not a CRL: %v", where, len(f.HTTP.Content), err)
		return
	}
	info := &CRLInfo{Issuer: crl.Issuer.String(), ThisUpdate: crl.ThisUpdate.UTC(), NextUpdate: crl.NextUpdate.UTC(), Entries: len(crl.RevokedCertificateEntries)}
	f.CRL = info
	switch {
	case !bytes.Equal(crl.RawIssuer, ref.cert.RawIssuer):
		f.Outcome = CRLBadResponse
		f.Error = fmt.Sprintf("%s: the CRL is %q's, not that of %q's issuer %q", where, info.Issuer, subject, ref.cert.Issuer.String())
		return
	case ref.issuer != nil:
		if err := crl.CheckSignatureFrom(ref.issuer); err != nil {
			f.Outcome = CRLBadResponse
			f.Error = fmt.Sprintf("%s: the CRL is not signed by %q, the issuer of %q: %v", where, ref.issuer.Subject.String(), subject, err)
			return
		}
		info.SignatureChecked = true
	}
	if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
		f.Outcome = CRLExpired
		f.Error = fmt.Sprintf("%s: the CRL's next update %s has passed: the CA stopped publishing it, or a cache serves an old copy; Windows reads that as revocation unknown",
			where, info.NextUpdate.Format(time.RFC3339))
		return
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(ref.cert.SerialNumber) == 0 {
			f.Outcome = Revoked
			f.Error = fmt.Sprintf("%s: %q (serial %s) is on its issuer's CRL, revoked on %s: the server must replace it",
				where, subject, ref.cert.SerialNumber, e.RevocationTime.UTC().Format(time.RFC3339))
			return
		}
	}
	f.Outcome = OK
}

// where names the fetch in its errors.
func (f *TrustFetch) where() string { return f.Kind + " " + shownURL(f.URL) }

// shownURL is a trust-path URL as errors show it: it comes from a
// certificate the server sent, so it is redacted and cut like any input.
func shownURL(u string) string { return quote.Cut(proxy.Redact(u)) }

// judgeCAIssuers checks the answer holds the certificate that issued ref's.
func judgeCAIssuers(f *TrustFetch, ref trustRef) {
	where, subject := f.where(), ref.cert.Subject.String()
	certs, err := ParseCAIssuers(f.HTTP.Content)
	if err != nil {
		f.Outcome = AIABadResponse
		f.Error = fmt.Sprintf("%s: the answer (%d bytes) is no certificate: %v", where, len(f.HTTP.Content), err)
		return
	}
	for _, c := range certs {
		if ref.cert.CheckSignatureFrom(c) == nil {
			f.Outcome, f.issuer, f.Issuer = OK, c, c.Subject.String()
			return
		}
	}
	f.Outcome = AIABadResponse
	f.Error = fmt.Sprintf("%s: the certificate got (%q) did not issue %q", where, certs[0].Subject.String(), subject)
}

// oidSignedData is PKCS#7's signedData content type (RFC 2315).
var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// ParseCAIssuers reads what a CA-issuers URL serves (RFC 5280 4.2.2.1): one
// DER certificate, or a PKCS#7 "certs-only" bundle; PEM is accepted too.
func ParseCAIssuers(b []byte) ([]*x509.Certificate, error) {
	if p, _ := pem.Decode(b); p != nil {
		b = p.Bytes
	}
	if c, err := x509.ParseCertificate(b); err == nil {
		return []*x509.Certificate{c}, nil
	}
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
	}
	if _, err := asn1.Unmarshal(b, &ci); err != nil {
		return nil, fmt.Errorf("neither a DER certificate nor PKCS#7: %w", err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("PKCS#7 content type %v, not signedData", ci.ContentType)
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      asn1.RawValue
		Certificates     asn1.RawValue `asn1:"optional,tag:0"`
		CRLs             asn1.RawValue `asn1:"optional,tag:1"`
		SignerInfos      asn1.RawValue
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("PKCS#7 signedData: %w", err)
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil {
		return nil, fmt.Errorf("PKCS#7 certificates: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("PKCS#7 without certificates")
	}
	return certs, nil
}
