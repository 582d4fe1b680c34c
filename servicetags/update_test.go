package servicetags

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"egressprobe/internal/testenv"
)

// msServer stands in for Microsoft: a confirmation page linking the feed, and
// the download host serving it, both on one loopback HTTPS server.
type msServer struct {
	*httptest.Server
	mu       sync.Mutex
	page     string            // confirmation page body; %s is replaced by the server's base URL
	files    map[string][]byte // path → body
	etag     string
	fail     int // answer this many requests with 500 first
	requests []*http.Request
}

func newMSServer(t *testing.T) *msServer {
	t.Helper()
	s := &msServer{files: map[string][]byte{}, etag: `"v1"`}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *msServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	if s.fail > 0 {
		s.fail--
		http.Error(w, "busy", http.StatusInternalServerError)
		return
	}
	if r.URL.Path == "/en-us/download/confirmation.aspx" {
		fmt.Fprint(w, strings.ReplaceAll(s.page, "%s", s.URL))
		return
	}
	if target, ok := strings.CutPrefix(r.URL.Path, "/redirect"); ok {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	body, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("If-None-Match") == s.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Write(body)
}

func (s *msServer) set(page string, files map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.page, s.files, s.requests = page, files, nil
}

func (s *msServer) lastRequest() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return nil
	}
	return s.requests[len(s.requests)-1]
}

func (s *msServer) updater(t *testing.T) *Updater {
	return &Updater{
		Cache:           Cache{Dir: filepath.Join(testenv.TempDir(t), "cache")},
		HTTPClient:      s.Client(),
		ConfirmationURL: s.URL + "/en-us/download/confirmation.aspx",
		DownloadHosts:   []string{s.Listener.Addr().String()},
		Tries:           3,
		RetryWait:       time.Millisecond,
	}
}

const feedPath = "/download/7/1/d/71d86715-5596-4529-9b13-da13a5de5b63/ServiceTags_Public_20250908.json"

// pageLinking is a confirmation page with an older and the current link, like Microsoft's.
func pageLinking(link string) string {
	return `<html><a href="%s/download/0/0/0/ServiceTags_Public_20250901.json">old</a>
<a href="` + link + `" class="mscom-link failoverLink">click here to download manually</a></html>`
}

var public = Clouds()[0]

func TestUpdateDiscoversDownloadsAndCaches(t *testing.T) {
	s := newMSServer(t)
	newer, older := fixture(t, "small_new.json"), fixture(t, "small_old.json")
	s.set(pageLinking("%s"+feedPath), map[string][]byte{feedPath: newer, "/download/0/0/0/ServiceTags_Public_20250901.json": older})
	u := s.updater(t)
	ctx := context.Background()

	res, err := u.Update(ctx, public, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Updated || res.ChangeNumber != 8 || res.Source != s.URL+feedPath {
		t.Fatalf("first update: %+v", res)
	}
	if got, _ := os.ReadFile(u.Cache.JSONPath(public)); !bytes.Equal(got, newer) {
		t.Fatal("cache does not hold the downloaded feed")
	}
	if q := s.requests[0].URL.RawQuery; q != "id=56519" {
		t.Errorf("confirmation page asked with %q, want id=56519", q)
	}
	f, info, err := u.Cache.Load(public)
	if err != nil || !info.Compact || f.ChangeNumber != 8 || info.Meta.ETag != `"v1"` {
		t.Fatalf("load after update: compact=%v meta=%+v err=%v", info.Compact, info.Meta, err)
	}
	// The feed's own date, from Microsoft's file name, is kept for its age.
	if info.Meta.Published != "2025-09-08" || info.Published.Format(time.DateOnly) != "2025-09-08" {
		t.Errorf("published %q / %v, want 2025-09-08 from %s", info.Meta.Published, info.Published, feedPath)
	}

	// Again: the download is conditional and the server says 304.
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(u.Cache.JSONPath(public), old, old); err != nil {
		t.Fatal(err)
	}
	res, err = u.Update(ctx, public, "")
	if err != nil || res.Status != UpToDate {
		t.Fatalf("second update: %+v, %v", res, err)
	}
	if inm := s.lastRequest().Header.Get("If-None-Match"); inm != `"v1"` {
		t.Errorf("second download sent If-None-Match %q", inm)
	}
	if st, _ := u.Cache.Stat(public); time.Since(st.Modified) > time.Hour || st.Published.Format(time.DateOnly) != "2025-09-08" {
		t.Errorf("a 304 did not restart the cached copy's download time (%v) or lost its date (%v)", st.Modified, st.Published)
	}

	// A damaged cache is downloaded again unconditionally, not confirmed by a 304.
	if err := os.WriteFile(u.Cache.JSONPath(public), []byte("{trunc"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = u.Update(ctx, public, "")
	if err != nil || res.Status != Updated || s.lastRequest().Header.Get("If-None-Match") != "" {
		t.Fatalf("damaged cache: %+v, %v, If-None-Match %q", res, err, s.lastRequest().Header.Get("If-None-Match"))
	}
	assertCached(t, u, newer)
}

func TestUpdateRefusesOlderUnlessForced(t *testing.T) {
	s := newMSServer(t)
	s.set(pageLinking("%s"+feedPath), map[string][]byte{feedPath: fixture(t, "small_new.json")})
	u := s.updater(t)
	ctx := context.Background()
	if _, err := u.Update(ctx, public, ""); err != nil {
		t.Fatal(err)
	}
	s.etag = `"v0"`
	s.set(pageLinking("%s"+feedPath), map[string][]byte{feedPath: fixture(t, "small_old.json")})
	_, err := u.Update(ctx, public, "")
	if !errors.Is(err, ErrOlder) || !strings.Contains(err.Error(), "changeNumber 7, older than the cached 8") {
		t.Fatalf("older feed: err = %v", err)
	}
	assertCached(t, u, fixture(t, "small_new.json"))
	u.Force = true
	if res, err := u.Update(ctx, public, ""); err != nil || res.ChangeNumber != 7 || res.PreviousChangeNumber != 8 {
		t.Fatalf("forced: %+v, %v", res, err)
	}
}

func assertCached(t *testing.T, u *Updater, want []byte) {
	t.Helper()
	got, err := os.ReadFile(u.Cache.JSONPath(public))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("cached feed changed (err %v)", err)
	}
	if _, _, err := u.Cache.Load(public); err != nil {
		t.Fatalf("cache no longer loads: %v", err)
	}
}

func TestUpdateBadDownloadsKeepCache(t *testing.T) {
	good := fixture(t, "small_old.json")
	china := bytes.Replace(good, []byte(`"cloud": "Public"`), []byte(`"cloud": "China"`), 1)
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"truncated", good[:len(good)/3], "truncated"},
		{"html", []byte("<html><body>Blocked by policy</body></html>"), "HTML, not JSON"},
		{"bad cidr", bytes.Replace(good, []byte("20.4.3.0/24"), []byte("20.4.3.0/33"), 1), `tag "Storage": bad prefix "20.4.3.0/33"`},
		{"wrong types", bytes.Replace(good, []byte(`"regionId": 18`), []byte(`"regionId": "18"`), 1), `tag "AzureCloud.westeurope" (values[1])`},
		{"empty", nil, "empty"},
		{"wrong cloud", china, "is the China feed, not the Public feed of --cloud public"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMSServer(t)
			cached := fixture(t, "small_new.json")
			u := s.updater(t)
			if _, err := u.Update(context.Background(), public, filepath.Join("..", "testdata", "servicetags", "small_new.json")); err != nil {
				t.Fatal(err)
			}
			s.set(pageLinking("%s"+feedPath), map[string][]byte{feedPath: tt.body})
			_, err := u.Update(context.Background(), public, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "ServiceTags_Public_20250908.json") {
				t.Fatalf("err = %v, want it to name the file and contain %q", err, tt.want)
			}
			assertCached(t, u, cached)
		})
	}
}

func TestUpdateFollowsOnlyDownloadHosts(t *testing.T) {
	s := newMSServer(t)
	ctx := context.Background()
	tests := []struct {
		name, page, want string
	}{
		{"other host", pageLinking("https://download.example.net" + feedPath), "not https on 127.0.0.1"},
		{"plain http", pageLinking("http://" + s.Listener.Addr().String() + feedPath), "not https on"},
		{"no link", "<html>nothing here</html>", "no ServiceTags_Public_<date>.json link"},
		{"redirect elsewhere", pageLinking("%s/redirect" + "https://download.example.net" + feedPath), "refusing redirect to https://download.example.net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.set(tt.page, map[string][]byte{feedPath: fixture(t, "small_new.json")})
			u := s.updater(t)
			_, err := u.Update(ctx, public, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(u.Cache.JSONPath(public)); err == nil {
				t.Error("a refused feed was cached")
			}
		})
	}
	// The default policy admits only download.microsoft.com: the test host is
	// allowed above by the explicit DownloadHosts option alone.
	u := &Updater{}
	if err := u.downloadHostCheck(mustURL(t, s.URL+feedPath)); err == nil {
		t.Error("the default policy follows a link to the test host")
	}
	if err := u.downloadHostCheck(mustURL(t, "https://download.microsoft.com"+feedPath)); err != nil {
		t.Errorf("the default policy refuses Microsoft's download host: %v", err)
	}
}

func TestUpdateSourceOverrides(t *testing.T) {
	s := newMSServer(t)
	s.set("", map[string][]byte{"/mirror/tags.json": fixture(t, "small_new.json")})
	u := s.updater(t)
	u.DownloadHosts = []string{"download.microsoft.com"} // --source needs no allow-listing
	res, err := u.Update(context.Background(), public, s.URL+"/mirror/tags.json")
	if err != nil || res.Status != Updated || res.ChangeNumber != 8 {
		t.Fatalf("--source URL: %+v, %v", res, err)
	}
	res, err = u.Update(context.Background(), public, filepath.Join("..", "testdata", "servicetags", "small_new.json"))
	if err != nil || res.Status != UpToDate {
		t.Fatalf("--source FILE with the same content: %+v, %v", res, err)
	}
	if _, err := u.Update(context.Background(), public, filepath.Join(testenv.TempDir(t), "missing.json")); err == nil {
		t.Fatal("--source of a missing file succeeded")
	}
}

func TestUpdateRetriesAndOfflineError(t *testing.T) {
	s := newMSServer(t)
	s.set(pageLinking("%s"+feedPath), map[string][]byte{feedPath: fixture(t, "small_new.json")})
	u := s.updater(t)
	s.fail = 2 // two 500s, then the page: within three tries
	if _, err := u.Update(context.Background(), public, ""); err != nil {
		t.Fatalf("retries did not cover two failures: %v", err)
	}
	if n := len(s.requests); n != 4 {
		t.Errorf("%d requests, want 2 failed + page + feed", n)
	}

	s.fail = 10
	s.set(pageLinking("%s"+feedPath), map[string][]byte{feedPath: fixture(t, "small_new.json")})
	_, err := u.Update(context.Background(), public, "")
	if err == nil || !strings.Contains(err.Error(), "500") || len(s.requests) != 3 {
		t.Fatalf("persistent 500: err = %v after %d requests, want an error after 3", err, len(s.requests))
	}

	// Nothing listening: a one-line error, within the deadline.
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = u.Update(ctx, public, "")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "confirmation.aspx?id=56519") {
		t.Fatalf("offline: err = %q, want one line naming the URL", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("offline update took %v", time.Since(start))
	}
	assertCached(t, u, fixture(t, "small_new.json"))
}
