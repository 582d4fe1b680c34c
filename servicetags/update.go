package servicetags

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"egressprobe/internal/quote"
)

// Defaults of Updater's settable endpoints.
const (
	DefaultConfirmationURL = "https://www.microsoft.com/en-us/download/confirmation.aspx"
	DefaultDownloadHost    = "download.microsoft.com"
)

// Download size limits: the Public feed is ~4 MB, its page well under 1 MB.
const (
	maxFeedBytes = 64 << 20
	maxPageBytes = 4 << 20
)

// Updater refreshes the cached feed of a cloud. The zero value plus a Cache is
// ready to talk to Microsoft; tests point ConfirmationURL and DownloadHosts at a
// local HTTPS server and give HTTPClient its certificate pool.
type Updater struct {
	Cache           Cache
	HTTPClient      *http.Client // nil: a default client; its CheckRedirect is replaced
	ConfirmationURL string       // "" means DefaultConfirmationURL; "?id=N" is appended
	// DownloadHosts are the hosts (host or host:port) whose https links from the
	// confirmation page are followed; nil means only DefaultDownloadHost.
	DownloadHosts []string
	Tries         int           // attempts per request, 0 means 3
	RetryWait     time.Duration // first back-off, 0 means 1s (doubling, at most 8x)
	Force         bool          // accept a feed whose changeNumber is older than the cached one
	Now           func() time.Time
	Logger        *slog.Logger
}

// UpdateStatus says what an update did.
type UpdateStatus string

// Update outcomes.
const (
	Updated  UpdateStatus = "updated"
	UpToDate UpdateStatus = "up-to-date"
)

// UpdateResult describes a successful update.
type UpdateResult struct {
	Cloud                Cloud
	Status               UpdateStatus
	Source               string // the URL or file the feed came from
	Path                 string // the cached JSON
	ChangeNumber         int64
	PreviousChangeNumber int64 // 0 when nothing was cached
}

// ErrOlder is wrapped when the new feed's changeNumber is older than the cached one.
var ErrOlder = errors.New("feed is older than the cached one")

// Update fetches the current feed of cl, or source (an http(s) URL or a file)
// when given, validates it and replaces the cached copy atomically. On any error
// the cached copy is left as it was.
func (u *Updater) Update(ctx context.Context, cl Cloud, source string) (UpdateResult, error) {
	res := UpdateResult{Cloud: cl, Path: u.Cache.JSONPath(cl), Source: source}
	prev, _, err := u.Cache.Load(cl)
	switch {
	case err == nil:
		res.PreviousChangeNumber = prev.ChangeNumber
	case !errors.Is(err, ErrNotCached):
		u.log().Warn("cached service tags unreadable; replacing them", "cloud", cl.ID, "err", err)
	}
	// Validators are only worth sending when the copy they describe is intact:
	// a 304 for a damaged cache would keep it damaged.
	var meta Meta
	if prev != nil {
		meta = u.Cache.readMeta(cl)
	}

	var (
		data    []byte
		newMeta = Meta{Source: source}
	)
	switch {
	case source == "":
		if res.Source, err = u.discover(ctx, cl); err != nil {
			return res, err
		}
		data, newMeta, err = u.download(ctx, res.Source, nil, meta)
	case IsURL(source):
		// The user named this URL: any host, and redirects anywhere.
		data, newMeta, err = u.download(ctx, source, func(*url.URL) error { return nil }, meta)
	default:
		data, err = os.ReadFile(source)
	}
	if errors.Is(err, errNotModified) {
		res.Status, res.ChangeNumber = UpToDate, res.PreviousChangeNumber
		return res, u.touch(cl)
	}
	if err != nil {
		return res, err
	}
	if d, ok := FeedDate(res.Source); ok {
		newMeta.Published = d.Format(time.DateOnly)
	}
	f, err := Parse(sourceName(res.Source), data)
	if err != nil {
		return res, err
	}
	res.ChangeNumber = f.ChangeNumber
	if err := CheckCloud(sourceName(res.Source), f, cl); err != nil {
		return res, fmt.Errorf("%w; pick the matching --cloud or file", err)
	}
	if prev != nil && f.ChangeNumber < prev.ChangeNumber && !u.Force {
		return res, fmt.Errorf("%s has changeNumber %d, older than the cached %d: %w; pass --force to install it anyway",
			sourceName(res.Source), f.ChangeNumber, prev.ChangeNumber, ErrOlder)
	}
	if cached, err := os.ReadFile(res.Path); err == nil && bytes.Equal(cached, data) {
		res.Status = UpToDate
		if newMeta.Published == "" {
			newMeta.Published = meta.Published // the same feed, fetched under another name
		}
		return res, errors.Join(u.touch(cl), u.Cache.writeMeta(cl, newMeta))
	}
	if err := u.Cache.store(cl, data, f, newMeta); err != nil {
		return res, err
	}
	res.Status = Updated
	return res, nil
}

// sourceName is what errors call a downloaded or given file: its base name.
func sourceName(src string) string {
	if u, err := url.Parse(src); err == nil && u.Scheme != "" {
		return path.Base(u.Path)
	}
	return src
}

// touch records that the cached copy was confirmed current now: its age restarts.
func (u *Updater) touch(cl Cloud) error {
	now := u.now()
	if err := os.Chtimes(u.Cache.JSONPath(cl), now, now); err != nil {
		return fmt.Errorf("marking the cached feed current: %w", err)
	}
	return nil
}

func (u *Updater) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

func (u *Updater) log() *slog.Logger {
	if u.Logger != nil {
		return u.Logger
	}
	return slog.New(slog.DiscardHandler)
}

var (
	errNotModified = errors.New("not modified")
	errRefused     = errors.New("refusing redirect")
)

// discover reads Microsoft's confirmation page for cl and returns the newest
// feed link on it, refusing links that are not https to a download host.
func (u *Updater) discover(ctx context.Context, cl Cloud) (string, error) {
	base := cmp.Or(u.ConfirmationURL, DefaultConfirmationURL)
	pageURL := fmt.Sprintf("%s?id=%d", base, cl.ConfirmationID)
	pageHost := ""
	if pu, err := url.Parse(base); err == nil {
		pageHost = pu.Host
	}
	page, _, err := u.get(ctx, pageURL, maxPageBytes, func(to *url.URL) error {
		if to.Scheme != "https" || !strings.EqualFold(to.Host, pageHost) {
			return fmt.Errorf("%w to %s: only https on %s", errRefused, to.Redacted(), pageHost)
		}
		return nil
	}, nil)
	if err != nil {
		return "", err
	}
	link, err := feedLink(page, cl)
	if err != nil {
		return "", fmt.Errorf("%s: %w", pageURL, err)
	}
	lu, err := url.Parse(link)
	if err != nil || u.downloadHostCheck(lu) != nil {
		return "", fmt.Errorf("%s links %s, which is not https on %s; refusing it (pass --source URL to fetch from elsewhere)",
			pageURL, link, strings.Join(u.downloadHosts(), ", "))
	}
	return link, nil
}

// feedLink finds the newest ServiceTags_<Cloud>_<yyyymmdd>.json link on a page.
func feedLink(page []byte, cl Cloud) (string, error) {
	re := regexp.MustCompile(`https?://[A-Za-z0-9.:\-\[\]]+/[^"'<>\s]*?/ServiceTags_` + regexp.QuoteMeta(cl.FeedName) + `_(\d{8})\.json`)
	var best, bestDate string
	for _, m := range re.FindAllSubmatch(page, -1) {
		if string(m[1]) > bestDate {
			best, bestDate = string(m[0]), string(m[1])
		}
	}
	if best == "" {
		return "", fmt.Errorf("no ServiceTags_%s_<date>.json link on the page (has Microsoft changed it? pass --source URL|FILE)", cl.FeedName)
	}
	return best, nil
}

func (u *Updater) downloadHosts() []string {
	if u.DownloadHosts != nil {
		return u.DownloadHosts
	}
	return []string{DefaultDownloadHost}
}

func (u *Updater) downloadHostCheck(to *url.URL) error {
	if to.Scheme == "https" && slices.ContainsFunc(u.downloadHosts(), func(h string) bool { return strings.EqualFold(h, to.Host) }) {
		return nil
	}
	return fmt.Errorf("%w to %s: only https on %s is followed", errRefused, to.Redacted(), strings.Join(u.downloadHosts(), ", "))
}

// download fetches a feed, conditionally when meta has validators for this URL,
// and returns it with the validators of the response. redirect vets each
// redirect; nil means only https to download hosts.
func (u *Updater) download(ctx context.Context, src string, redirect func(*url.URL) error, meta Meta) ([]byte, Meta, error) {
	if redirect == nil {
		redirect = u.downloadHostCheck
	}
	var cond http.Header
	if meta.Source == src {
		cond = http.Header{}
		if meta.ETag != "" {
			cond.Set("If-None-Match", meta.ETag)
		}
		if meta.LastModified != "" {
			cond.Set("If-Modified-Since", meta.LastModified)
		}
	}
	data, h, err := u.get(ctx, src, maxFeedBytes, redirect, cond)
	return data, Meta{Source: src, ETag: h.Get("ETag"), LastModified: h.Get("Last-Modified")}, err
}

// get fetches rawURL with bounded retries (connection errors, 429 and 5xx) and
// returns the body of a 200, errNotModified for a 304, or a one-line error.
func (u *Updater) get(ctx context.Context, rawURL string, limit int64, redirect func(*url.URL) error, header http.Header) ([]byte, http.Header, error) {
	hc := &http.Client{}
	if u.HTTPClient != nil {
		c := *u.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("stopped after %d redirects", len(via))
		}
		return redirect(req.URL)
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = hc
	rc.RetryMax = cmp.Or(u.Tries, 3) - 1
	rc.RetryWaitMin = cmp.Or(u.RetryWait, time.Second)
	rc.RetryWaitMax = 8 * rc.RetryWaitMin
	rc.Logger = nil
	if u.Logger != nil {
		rc.Logger = u.Logger
	}
	// Give up with the last response or error rather than retryablehttp's
	// generic text, so the one-line error says what went wrong.
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if errors.Is(err, errRefused) {
			return false, err // a policy refusal will not change on retry
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}

	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("bad URL %s: %w", quote.Q(rawURL), err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := rc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", redactURL(rawURL), unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return nil, resp.Header, errNotModified
	default:
		return nil, resp.Header, fmt.Errorf("GET %s: HTTP %s", redactURL(rawURL), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: reading the body: %w", redactURL(rawURL), err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("GET %s: body larger than %d MiB; is this the right URL?", redactURL(rawURL), limit>>20)
	}
	return body, resp.Header, nil
}

// unwrapURLError drops *url.Error's own "Get URL:" prefix; we name the URL once.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactURL hides a password in a user-given URL.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// IsURL reports whether an update source is a URL to download rather than a
// file to read.
func IsURL(source string) bool {
	return strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "http://")
}
