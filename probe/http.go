package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"egressprobe/internal/quote"
	"egressprobe/proxy"
)

// MaxHTTPRead caps the bytes HTTPGet reads from one answer, headers and body
// together: enough for any NCSI answer or portal page's first screen, and a
// bound on what a hostile server can make a probe buffer.
const MaxHTTPRead = 64 << 10

// HTTPRequest is one minimal HTTP/1.1 request: a GET, or a POST with a body.
type HTTPRequest struct {
	Method string // "GET" (default) or "POST" (an OCSP request that does not fit a URL)
	Scheme string // "http" or "https" (default "http"); used in the proxy's absolute-form URL
	Host   string // Host header: "host" or "host:port"
	Path   string // default "/"
	// ExpectBody, when set, is what the answer must be: a 200 whose body,
	// trimmed of surrounding white space, equals it (NCSI). Anything else is
	// http_unexpected. When empty, any HTTP answer is ok (an HTTPS GET made to
	// read the server's Date).
	ExpectBody string
	// Expect, when set, is what the answer must carry instead (a certificate
	// authority's file or answer, Windows' root list): see Content.
	Expect Content
	// Proxy, when set, means conn goes to this HTTP proxy: the request is sent in
	// absolute form ("GET http://host/path") with the proxy's Basic credentials.
	// It holds a password: it is never printed.
	Proxy     *url.URL
	UserAgent string // default "Microsoft NCSI", as Windows sends it
	// Body and ContentType are a POST's payload.
	Body        []byte
	ContentType string
	// MaxBody, when > 0, keeps the body of a 200 answer, up to MaxBody bytes,
	// in HTTPResult.Content for the caller to judge (a CRL, an OCSP answer,
	// a certificate): the cap on the answer grows by MaxBody.
	MaxBody int
}

// HTTPResult is the outcome of HTTPGet.
type HTTPResult struct {
	Step                 // ok | http_unexpected | http_timeout | http_error | proxy_auth_required
	URL        string    `json:"url"`                // the URL asked for (never holds credentials)
	StatusCode int       `json:"status_code"`        // 0 when no status line was read
	Location   string    `json:"location,omitempty"` // the redirect target, when the answer was a 3xx
	BodyMatch  bool      `json:"body_match"`         // the body was ExpectBody
	Body       string    `json:"body,omitempty"`     // the first bytes of the body when it did not match (for the report)
	Date       time.Time `json:"date"`               // the server's Date header (zero when absent): clock-skew detection
	BytesRead  int       `json:"bytes_read"`         // headers and body, at most MaxHTTPRead (+ MaxBody)
	// ContentType and ContentLength are the answer's headers (-1: no
	// Content-Length), kept when the request judged the content (Expect)
	// or kept it (MaxBody).
	ContentType   string `json:"content_type,omitempty"`
	ContentLength int64  `json:"content_length,omitempty"`
	// Content is the body when the request asked to keep it (MaxBody) and
	// the status was 200; Truncated that it was longer than MaxBody
	// (Content holds MaxBody bytes).
	Content   []byte `json:"-"`
	Truncated bool   `json:"truncated,omitempty"`
}

// bodyExcerpt caps how much of an unexpected body the result keeps.
const bodyExcerpt = 120

// HTTPGet sends one request (a GET, unless req.Method says POST) over conn, an established connection to the server
// (plain, or the *tls.Conn from HandshakeTLS), or to the HTTP proxy named by
// req.Proxy. ctx's deadline is pushed down to conn, and cancelling ctx
// interrupts a blocked read. The caller owns conn and closes it.
func HTTPGet(ctx context.Context, conn net.Conn, req HTTPRequest) HTTPResult {
	res := HTTPResult{Step: Step{Start: time.Now()}, URL: req.url()}
	where := req.where(conn)
	stop := pushDeadline(ctx, conn)
	defer stop()

	_, err := io.WriteString(conn, req.wire())
	if err == nil {
		err = res.read(io.LimitReader(conn, int64(MaxHTTPRead+req.MaxBody)), req)
	}
	res.Duration = time.Since(res.Start)
	switch {
	case err == nil:
	case stopped(ctx, err):
		res.Outcome = Cancelled
		res.Error = fmt.Sprintf("%s %s via %s: cancelled before a complete answer", req.method(), res.URL, where)
	case timedOut(err):
		res.Outcome = HTTPTimeout
		res.Error = fmt.Sprintf("%s %s via %s: no complete HTTP answer within %s (%v): the server or a middlebox accepted the connection but stalled; check the firewall/proxy logs for this host",
			req.method(), res.URL, where, res.Duration.Round(time.Millisecond), err)
	default:
		res.Outcome = HTTPError
		res.Error = fmt.Sprintf("%s %s via %s: %v", req.method(), res.URL, where, err)
	}
	return res
}

// read parses the answer from r into res and judges it against req; the error
// is for a broken or unreadable answer only (res.Outcome is set otherwise).
func (res *HTTPResult) read(r io.Reader, req HTTPRequest) error {
	counted := &countReader{r: r}
	br := bufio.NewReader(counted)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		res.BytesRead = counted.n
		if counted.err != nil && !errors.Is(counted.err, io.EOF) {
			// The socket failed mid-line (a deadline, a reset): that is the
			// cause, not the partial line the parser complains about.
			return fmt.Errorf("after %d bytes of the answer: %w", counted.n, counted.err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("connection closed before a complete HTTP header (%d bytes read; the cap is %d): %w", counted.n, MaxHTTPRead, err)
		}
		return fmt.Errorf("not an HTTP answer: %w", err)
	}
	defer resp.Body.Close()
	res.StatusCode = resp.StatusCode
	res.Location = resp.Header.Get("Location")
	if d, derr := http.ParseTime(resp.Header.Get("Date")); derr == nil {
		res.Date = d
	}
	var body []byte
	switch {
	case req.Expect != "":
		// The start of the body is enough to tell a file from a page.
		body, err = io.ReadAll(io.LimitReader(resp.Body, contentPeek))
	case req.MaxBody > 0 && resp.StatusCode == http.StatusOK:
		res.ContentType = resp.Header.Get("Content-Type")
		body, err = io.ReadAll(io.LimitReader(resp.Body, int64(req.MaxBody)+1))
		res.Truncated = len(body) > req.MaxBody
		res.Content = body[:min(len(body), req.MaxBody)]
	case req.ExpectBody != "" && resp.StatusCode == http.StatusOK:
		body, err = io.ReadAll(resp.Body)
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		res.BytesRead = counted.n
		return fmt.Errorf("reading the body: %w", err)
	}
	res.BytesRead = counted.n
	res.judge(body, resp.Header, req)
	return nil
}

// judge sets the outcome of a complete answer.
func (res *HTTPResult) judge(body []byte, h http.Header, req HTTPRequest) {
	code := res.StatusCode
	sign, who := "", ""
	switch {
	case req.Proxy != nil:
		sign, who = proxyOwnAnswer(code, h), "the proxy "+req.Proxy.Redacted()
	case req.Expect != "":
		// Port 80 is where transparent proxies sit: on the direct path an
		// answer that bears a proxy's mark is that proxy's, not the server's.
		sign, who = interceptorsAnswer(code, h), "an intercepting proxy on the direct path"
	}
	switch {
	case code == http.StatusProxyAuthRequired && req.Proxy != nil:
		res.Outcome = ProxyAuthRequired
		res.Error = fmt.Sprintf("%s %s: the proxy answered 407: give it credentials (--proxy http://user:password@host:port)", req.method(), res.URL)
	case code == http.StatusProxyAuthRequired && req.Expect != "":
		res.Outcome = ProxyAuthRequired
		res.Error = fmt.Sprintf("GET %s: answered 407 on the direct path: a transparent proxy intercepts port 80 and wants credentials that Windows' certificate fetches do not give", res.URL)
	case sign != "" && code < 500:
		res.Outcome = ProxyDenied
		res.Error = fmt.Sprintf("%s %s: %s refused it itself (%d %s; %s): its policy denies this host", req.method(), res.URL, who, code, http.StatusText(code), sign)
	case sign != "":
		res.Outcome = ProxyError
		res.Error = fmt.Sprintf("%s %s: %s answered %d %s itself (%s): it could not fetch the page", req.method(), res.URL, who, code, http.StatusText(code), sign)
	case req.Expect != "":
		res.judgeContent(body, h, req.Expect)
	case req.ExpectBody == "":
		res.Outcome = OK
	case code >= 300 && code < 400:
		res.Outcome = HTTPUnexpected
		res.Error = fmt.Sprintf("GET %s: captive portal or intercepting proxy: %d to %s", res.URL, code, res.Location)
	case code != http.StatusOK:
		res.Outcome = HTTPUnexpected
		res.Error = fmt.Sprintf("GET %s: captive portal or intercepting proxy: %d %s instead of 200", res.URL, code, http.StatusText(code))
	case strings.TrimSpace(string(body)) == req.ExpectBody:
		res.Outcome = OK
		res.BodyMatch = true
	default:
		res.Outcome = HTTPUnexpected
		res.Body = excerpt(body)
		res.Error = fmt.Sprintf("GET %s: captive portal or intercepting proxy: 200 with another body (%d bytes, %q) instead of %q",
			res.URL, len(body), res.Body, req.ExpectBody)
	}
}

// proxyOwnAnswer tells whether an error answer to a GET sent to a proxy is the
// proxy's own rather than the origin's, and by what sign; "" when it is the
// origin's (or not an error). A gateway status (502, 504) is the proxy's by
// definition; others only with a mark the proxy sets (interceptorsAnswer).
func proxyOwnAnswer(code int, h http.Header) string {
	if sign := interceptorsAnswer(code, h); sign != "" {
		return sign
	}
	if code == http.StatusBadGateway || code == http.StatusGatewayTimeout {
		return "a gateway error"
	}
	return ""
}

// interceptorsAnswer finds the mark a proxy sets on an error answer of its
// own: squid's X-Squid-Error, RFC 9209's Proxy-Status, or a Server header
// naming proxy software, as tinyproxy's "500 Unable to connect" page has. On
// the direct path a bare 502 or 504 is no such mark: the server's own CDN
// sends them too.
func interceptorsAnswer(code int, h http.Header) string {
	if code < 400 || code == http.StatusProxyAuthRequired {
		return ""
	}
	if v := h.Get("X-Squid-Error"); v != "" {
		return "X-Squid-Error: " + quote.Q(v)
	}
	if v := h.Get("Proxy-Status"); v != "" {
		return "Proxy-Status: " + quote.Q(v)
	}
	if v := strings.ToLower(h.Get("Server")); strings.Contains(v, "tinyproxy") || strings.Contains(v, "squid") {
		return "Server: " + quote.Q(h.Get("Server"))
	}
	return ""
}

// excerpt keeps the start of b, valid UTF-8 or not, for a report.
func excerpt(b []byte) string {
	if len(b) > bodyExcerpt {
		b = b[:bodyExcerpt]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func (req HTTPRequest) path() string {
	if req.Path == "" {
		return "/"
	}
	return req.Path
}

func (req HTTPRequest) method() string {
	if req.Method == "" {
		return http.MethodGet
	}
	return req.Method
}

func (req HTTPRequest) url() string {
	scheme := req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + req.Host + req.path()
}

// where names the hop for error messages: the proxy (redacted) or the peer.
func (req HTTPRequest) where(conn net.Conn) string {
	if req.Proxy != nil {
		return "proxy " + req.Proxy.Redacted()
	}
	if a := conn.RemoteAddr(); a != nil {
		return a.String()
	}
	return req.Host
}

// wire is the request as sent.
func (req HTTPRequest) wire() string {
	target := req.path()
	var auth string
	if req.Proxy != nil {
		target = req.url()
		auth = proxy.AuthorizationLine(req.Proxy)
	}
	ua := req.UserAgent
	if ua == "" {
		ua = "Microsoft NCSI"
	}
	var payload string
	if req.Body != nil {
		payload = "Content-Type: " + req.ContentType + "\r\nContent-Length: " + strconv.Itoa(len(req.Body)) + "\r\n"
	}
	return req.method() + " " + target + " HTTP/1.1\r\nHost: " + req.Host + "\r\nUser-Agent: " + ua +
		"\r\nAccept: */*\r\nConnection: close\r\n" + auth + payload + "\r\n" + string(req.Body)
}

// countReader counts the bytes read through it and keeps the last error.
type countReader struct {
	r   io.Reader
	n   int
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if err != nil {
		c.err = err
	}
	return n, err
}

// pushDeadline sets ctx's deadline on conn and makes cancelling ctx interrupt
// conn's blocked I/O; stop undoes both.
func pushDeadline(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	unhook := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		unhook()
		_ = conn.SetDeadline(time.Time{})
	}
}
