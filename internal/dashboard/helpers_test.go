package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// testSite is a dashboard mounted the way stratus up mounts it, next to a
// CloudStack API, on a local test server.
type testSite struct {
	d   *Dashboard
	srv *httptest.Server
}

// testCloud is a CloudStack API and its change feed (the simulator's, or
// the fake's).
type testCloud interface {
	http.Handler
	Changed() <-chan struct{}
}

func newStore(t testing.TB) store.Store {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newSite starts a dashboard over the CloudStack handler cs.
func newSite(t testing.TB, cs testCloud, kube kubernetes.Interface) *testSite {
	t.Helper()
	return newSiteWith(t, cs, Options{Kube: kube})
}

// newSiteWith starts a dashboard with opts over the CloudStack handler cs.
func newSiteWith(t testing.TB, cs testCloud, opts Options) *testSite {
	t.Helper()
	opts.CloudStack, opts.CloudChanges, opts.Log = cs, cs.Changed, testenv.Logger()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/client/api", cs)
	mux.Handle("/client/", d.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		srv.Close()
	})
	return &testSite{d: d, srv: srv}
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t    testing.TB
	site *testSite
	hc   *http.Client
}

func (s *testSite) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, site: s, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Get(b.site.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.PostForm(b.site.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var (
	tokenRE = regexp.MustCompile(`name="token" value="([^"]+)"`)
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

func match(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, body)
	}
	return m[1]
}

// login logs the browser in and returns the session's CSRF token.
func (b *browser) login(user, password string) string {
	b.t.Helper()
	_, body := b.get("/client/login")
	resp, body := b.post("/client/login", url.Values{"token": {match(b.t, tokenRE, body)}, "username": {user}, "password": {password}, "domain": {"/"}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d\n%s", user, resp.StatusCode, body)
	}
	_, body = b.get("/client/")
	return match(b.t, csrfRE, body)
}

// flashOf follows to a page and returns its flash message.
func (b *browser) flashOf(path string) string {
	b.t.Helper()
	_, body := b.get(path)
	m := regexp.MustCompile(`<p id="flash" class="flash( error)?" role="status">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1] + " " + m[2])
}
