package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestPagesNeedLogin(t *testing.T) {
	site := newSite(t, newFakeCS(t), nil)
	b := site.browser(t)
	for _, tc := range []struct {
		method, path string
		want         int
		location     string
	}{
		{"GET", "/client/", http.StatusSeeOther, "/client/login?next=%2Fclient%2F"},
		{"GET", "/client/vms?page=2", http.StatusSeeOther, "/client/login?next=%2Fclient%2Fvms%3Fpage%3D2"},
		{"GET", "/client/kube", http.StatusSeeOther, "/client/login?next=%2Fclient%2Fkube"},
		{"GET", "/client/nope", http.StatusSeeOther, "/client/login?next=%2Fclient%2Fnope"},
		{"GET", "/client/live?view=vms", http.StatusUnauthorized, ""},
		{"POST", "/client/vms", http.StatusForbidden, ""},
		{"POST", "/client/vms/x/stop", http.StatusForbidden, ""},
		{"POST", "/client/logout", http.StatusForbidden, ""},
		{"GET", "/client/login", http.StatusOK, ""},
		{"GET", "/client/static/app.js", http.StatusOK, ""},
		{"GET", "/client/static/style.css", http.StatusOK, ""},
		{"GET", "/client/static/missing.js", http.StatusNotFound, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var resp *http.Response
			if tc.method == "GET" {
				resp, _ = b.get(tc.path)
			} else {
				resp, _ = b.post(tc.path, url.Values{"csrf": {"x"}})
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	cs := newFakeCS(t)
	site := newSite(t, cs, nil)
	for _, tc := range []struct {
		name      string
		form      url.Values
		withToken bool
		want      int
		wantText  string
	}{
		{"wrong password", url.Values{"username": {"admin"}, "password": {"nope"}}, true, http.StatusUnauthorized, "Login failed: Failed to authenticate user admin"},
		{"no password", url.Values{"username": {"admin"}}, true, http.StatusBadRequest, "Enter a user name and password."},
		{"no form token", url.Values{"username": {"admin"}, "password": {"password"}}, false, http.StatusForbidden, "The login form expired"},
		{"good, next kept", url.Values{"username": {"admin"}, "password": {"password"}, "next": {"/client/vms?page=2"}}, true, http.StatusSeeOther, ""},
		{"good, foreign next dropped", url.Values{"username": {"alice"}, "password": {"wonderland"}, "next": {"//evil.example/"}}, true, http.StatusSeeOther, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := site.browser(t)
			_, body := b.get("/client/login")
			if tc.withToken {
				tc.form.Set("token", match(t, tokenRE, body))
			}
			tc.form.Set("domain", "/")
			resp, body := b.post("/client/login", tc.form)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.want, body)
			}
			if !strings.Contains(html.UnescapeString(body), tc.wantText) {
				t.Errorf("page lacks %q:\n%s", tc.wantText, body)
			}
			if tc.want != http.StatusSeeOther {
				if r, _ := b.get("/client/"); r.StatusCode != http.StatusSeeOther {
					t.Errorf("failed login still let the browser in: %d", r.StatusCode)
				}
				return
			}
			var sc *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == sessionCookie {
					sc = c
				}
			}
			if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/client/" || len(sc.Value) < 40 {
				t.Fatalf("session cookie %+v", sc)
			}
			wantLoc := "/client/"
			if n := tc.form.Get("next"); strings.HasPrefix(n, "/client/") {
				wantLoc = n
			}
			if loc := resp.Header.Get("Location"); loc != wantLoc {
				t.Errorf("redirect to %q, want %q", loc, wantLoc)
			}
			if strings.Contains(body, "sessionkey") {
				t.Error("the page shows the CloudStack session key")
			}
		})
	}
}

func TestLogoutEndsBothSessions(t *testing.T) {
	cs := newFakeCS(t)
	site := newSite(t, cs, nil)
	b := site.browser(t)
	csrf := b.login("admin", "password")
	if r, _ := b.post("/client/logout", url.Values{"csrf": {"wrong"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a bad CSRF token: %d", r.StatusCode)
	}
	if r, _ := b.post("/client/logout", url.Values{"csrf": {csrf}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if r, _ := b.get("/client/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout the overview answers %d", r.StatusCode)
	}
	if cs.callCount("logout") != 1 {
		t.Errorf("CloudStack logout called %d times", cs.callCount("logout"))
	}
	cs.mu.Lock()
	n := len(cs.sessions)
	cs.mu.Unlock()
	if n != 0 {
		t.Errorf("%d CloudStack sessions left", n)
	}
}

func TestDeployForm(t *testing.T) {
	cs := newFakeCS(t)
	site := newSite(t, cs, nil)
	b := site.browser(t)
	csrf := b.login("alice", "wonderland")
	good := url.Values{"zoneid": {"zone-1"}, "serviceofferingid": {"so-1"}, "templateid": {"tpl-1"}, "name": {"web-1"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		csrf   string
		status int
		flash  string
		calls  int
	}{
		{"no csrf", good, "", http.StatusForbidden, "", 0},
		{"stale csrf", good, "not-the-token", http.StatusForbidden, "", 0},
		{"no zone", with("zoneid", ""), csrf, http.StatusSeeOther, "error Choose a zone.", 0},
		{"bad id", with("templateid", "../../etc"), csrf, http.StatusSeeOther, "error The form's templateid is not a valid id.", 0},
		{"bad name", with("name", "-web"), csrf, http.StatusSeeOther, "error A VM name starts with a letter", 0},
		{"long name", with("name", strings.Repeat("a", 64)), csrf, http.StatusSeeOther, "error A VM name starts with a letter", 0},
		{"bad keypair", with("keypair", "k<script>"), csrf, http.StatusSeeOther, "error The key pair name is not valid.", 0},
		{"unknown zone: the API's words", with("zoneid", "zone-9"), csrf, http.StatusSeeOther, "error Unable to execute API command deployvirtualmachine due to invalid value.", 1},
		{"good", good, csrf, http.StatusSeeOther, "Deploying web-1 (job job-", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range tc.form {
				f[k] = v
			}
			f.Set("csrf", tc.csrf)
			resp, _ := b.post("/client/vms", f)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusSeeOther {
				if got := html.UnescapeString(b.flashOf(resp.Header.Get("Location"))); !strings.HasPrefix(got, tc.flash) {
					t.Errorf("flash %q, want prefix %q", got, tc.flash)
				}
			}
			if got := cs.callCount("deployVirtualMachine"); got != tc.calls {
				t.Errorf("deployVirtualMachine called %d times, want %d", got, tc.calls)
			}
		})
	}
	cs.mu.Lock()
	n := len(cs.vms)
	cs.mu.Unlock()
	if n != 1 {
		t.Errorf("%d VMs exist, want only the good one", n)
	}
}

func TestIsolationIsTheAPIs(t *testing.T) {
	cs := newFakeCS(t)
	cs.addVMs("admin", 3, "Running")
	cs.addVMs("alice", 2, "Stopped")
	site := newSite(t, cs, nil)

	alice := site.browser(t)
	csrf := alice.login("alice", "wonderland")
	_, body := alice.get("/client/vms")
	if !strings.Contains(body, "2 virtual machines") || strings.Contains(body, ">admin<") {
		t.Errorf("alice's VM page:\n%s", body)
	}
	_, body = alice.get("/client/")
	if !strings.Contains(body, `id="hosts-hidden"`) || strings.Contains(body, "SimulatedAgent") {
		t.Errorf("alice sees hosts:\n%s", body)
	}
	if strings.Contains(body, `href="/client/kube"`) {
		t.Error("alice's navigation offers the Kubernetes view")
	}
	// Alice cannot act on admin's VM: the API refuses, the page says so.
	resp, _ := alice.post("/client/vms/00000000-0000-0000-0000-000000000001/stop", url.Values{"csrf": {csrf}})
	if f := alice.flashOf(resp.Header.Get("Location")); !strings.HasPrefix(f, "error Unable to execute API command stopvirtualmachine") {
		t.Errorf("flash %q", f)
	}

	admin := site.browser(t)
	admin.login("admin", "password")
	_, body = admin.get("/client/vms")
	if !strings.Contains(body, "5 virtual machines") {
		t.Errorf("admin's VM page:\n%s", body)
	}
	_, body = admin.get("/client/")
	if !strings.Contains(body, "SimulatedAgent.2") || !strings.Contains(body, `class="bar-crit"`) {
		t.Errorf("admin's overview lacks hosts and their capacity bars:\n%s", body)
	}
	// No Kubernetes client: the view says so.
	if r, body := admin.get("/client/kube"); r.StatusCode != http.StatusNotFound || !strings.Contains(body, "Kubernetes is not running") {
		t.Errorf("kube view without a client: %d", r.StatusCode)
	}
}

func TestPagingOverManyVMs(t *testing.T) {
	cs := newFakeCS(t)
	cs.addVMs("admin", 10_000, "Running")
	site := newSite(t, cs, nil)
	b := site.browser(t)
	b.login("admin", "password")
	for _, tc := range []struct {
		path       string
		first      string
		pageText   string
		prev, next bool
	}{
		{"/client/vms", "vm-1<", "page 1 of 200", false, true},
		{"/client/vms?page=2", "vm-51<", "page 2 of 200", true, true},
		{"/client/vms?page=200", "vm-9951<", "page 200 of 200", true, false},
		{"/client/vms?page=-3", "vm-1<", "page 1 of 200", false, true},
		{"/client/vms?page=x", "vm-1<", "page 1 of 200", false, true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			_, body := b.get(tc.path)
			if n := strings.Count(body, `<tr id="vm-`); n != vmPageSize {
				t.Errorf("%d rows, want %d", n, vmPageSize)
			}
			if !strings.Contains(body, tc.first) || !strings.Contains(body, tc.pageText) || !strings.Contains(body, "10000 virtual machines") {
				t.Errorf("page lacks %q or %q", tc.first, tc.pageText)
			}
			if strings.Contains(body, `id="prev"`) != tc.prev || strings.Contains(body, `id="next"`) != tc.next {
				t.Errorf("prev/next links wrong")
			}
		})
	}
}

// sseReader reads events from a live stream.
type sseReader struct {
	t  *testing.T
	sc *bufio.Scanner
}

// next returns the next event's name and data.
func (r *sseReader) next() (string, string) {
	r.t.Helper()
	var name string
	var data []string
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if name != "" || data != nil {
				return name, strings.Join(data, "\n")
			}
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
	r.t.Fatalf("stream ended: %v", r.sc.Err())
	return "", ""
}

func TestLiveStreamFollowsTheStore(t *testing.T) {
	cs := newFakeCS(t)
	site := newSite(t, cs, nil)
	b := site.browser(t)
	csrf := b.login("alice", "wonderland")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", site.srv.URL+"/client/live?view=vms", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	ev := &sseReader{t: t, sc: bufio.NewScanner(resp.Body)}
	ev.sc.Buffer(nil, 1<<20)
	if name, data := ev.next(); name != "fragment" || !strings.Contains(data, "0 virtual machines") {
		t.Fatalf("first event %q: %s", name, data)
	}
	b.post("/client/vms", url.Values{"csrf": {csrf}, "zoneid": {"zone-1"}, "serviceofferingid": {"so-1"}, "templateid": {"tpl-1"}, "name": {"live-1"}})
	seen := map[string]bool{}
	for !seen["Running"] {
		name, data := ev.next()
		if name != "fragment" || !strings.Contains(data, "live-1") {
			t.Fatalf("event %q: %s", name, data)
		}
		for _, s := range []string{"Starting", "Running"} {
			if strings.Contains(data, ">"+s+"<") {
				seen[s] = true
			}
		}
	}
	// Logging out ends the stream with "expired" at the next change.
	b.post("/client/logout", url.Values{"csrf": {csrf}})
	cs.touch("poke")
	if name, _ := ev.next(); name != "expired" {
		t.Fatalf("after logout: event %q", name)
	}
}

func TestStopEndsLiveStreams(t *testing.T) {
	cs := newFakeCS(t)
	site := newSite(t, cs, nil)
	b := site.browser(t)
	b.login("admin", "password")
	resp, err := b.hc.Get(site.srv.URL + "/client/live?view=overview")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ev := &sseReader{t: t, sc: bufio.NewScanner(resp.Body)}
	ev.sc.Buffer(nil, 1<<20)
	ev.next()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := site.d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for ev.sc.Scan() {
	}
}

func TestIdleSessionExpires(t *testing.T) {
	cs := newFakeCS(t)
	clock := testingclock.NewFakePassiveClock(time.Unix(1_800_000_000, 0))
	d, err := New(Options{CloudStack: cs, CloudChanges: cs.Changed, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	site := &testSite{d: d, srv: httptest.NewServer(d.Handler())}
	defer site.srv.Close()
	b := site.browser(t)
	b.login("alice", "wonderland")
	if r, _ := b.get("/client/vms"); r.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: %d", r.StatusCode)
	}
	clock.SetTime(clock.Now().Add(1799 * time.Second)) // the fake's timeout is 1800 s
	if r, _ := b.get("/client/vms"); r.StatusCode != http.StatusOK {
		t.Fatalf("active session: %d", r.StatusCode)
	}
	clock.SetTime(clock.Now().Add(1801 * time.Second))
	if r, _ := b.get("/client/vms"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("idle session still admitted: %d", r.StatusCode)
	}
	if gone := d.sessions.sweep(clock.Now()); len(gone) != 1 {
		t.Errorf("sweep removed %d sessions", len(gone))
	}
}

func TestFetchAnswers(t *testing.T) {
	cs := newFakeCS(t)
	site := newSite(t, cs, nil)
	b := site.browser(t)
	csrf := b.login("alice", "wonderland")
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		ok     bool
		msg    string
	}{
		{"bad form", url.Values{"csrf": {csrf}, "zoneid": {"zone-1"}}, http.StatusBadRequest, false, "Choose a service offering."},
		{"API refusal", url.Values{"csrf": {csrf}, "zoneid": {"zone-1"}, "serviceofferingid": {"so-9"}, "templateid": {"tpl-1"}}, http.StatusBadRequest, false, "Unable to execute API command deployvirtualmachine"},
		{"deployed", url.Values{"csrf": {csrf}, "zoneid": {"zone-1"}, "serviceofferingid": {"so-1"}, "templateid": {"tpl-1"}, "name": {"f1"}}, http.StatusOK, true, "Deploying f1 (job "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", site.srv.URL+"/client/vms", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(fetchHeader, "1")
			resp, err := b.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer struct {
				OK      bool   `json:"ok"`
				Message string `json:"message"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || answer.OK != tc.ok || !strings.HasPrefix(answer.Message, tc.msg) {
				t.Errorf("got %d %+v, want %d ok=%v %q", resp.StatusCode, answer, tc.status, tc.ok, tc.msg)
			}
		})
	}
	// A page's flash is not consumed by background posts.
	if f := b.flashOf("/client/vms"); f != "" {
		t.Errorf("flash %q left behind", f)
	}
}

func TestJobsShowsNewestFirst(t *testing.T) {
	cs := newFakeCS(t)
	cs.delay = time.Millisecond
	site := newSite(t, cs, nil)
	b := site.browser(t)
	csrf := b.login("alice", "wonderland")
	for i := range 120 {
		b.post("/client/vms", url.Values{"csrf": {csrf}, "zoneid": {"zone-1"}, "serviceofferingid": {"so-1"}, "templateid": {"tpl-1"}, "name": {fmt.Sprintf("j%d", i)}})
	}
	_, body := b.get("/client/jobs")
	rows := regexp.MustCompile(`<td class="when">2026-01-01T00:(\d\d:\d\d)`).FindAllStringSubmatch(body, -1)
	if len(rows) != listPageSize {
		t.Fatalf("%d job rows, want %d", len(rows), listPageSize)
	}
	// Seconds 1..120 were used; the newest (02:00) comes first, the 50th is 01:11.
	if rows[0][1] != "02:00" || rows[len(rows)-1][1] != "01:11" {
		t.Errorf("jobs from %s to %s", rows[0][1], rows[len(rows)-1][1])
	}
}

func TestVMActions(t *testing.T) {
	cs := newFakeCS(t)
	cs.delay = time.Millisecond
	cs.addVMs("alice", 1, "Stopped")
	site := newSite(t, cs, nil)
	b := site.browser(t)
	csrf := b.login("alice", "wonderland")
	const id = "00000000-0000-0000-0000-000000000001"
	for _, tc := range []struct {
		action, flash, cmd string
	}{
		{"start", "Start done (job ", "startVirtualMachine"},
		{"reboot", "Reboot done (job ", "rebootVirtualMachine"},
		{"stop", "Stop done (job ", "stopVirtualMachine"},
		{"destroy", "Destroy done (job ", "destroyVirtualMachine"},
		{"explode", "error Unknown action or VM.", ""},
	} {
		t.Run(tc.action, func(t *testing.T) {
			resp, _ := b.post("/client/vms/"+id+"/"+tc.action, url.Values{"csrf": {csrf}, "back": {"/client/vms?page=1"}})
			if loc := resp.Header.Get("Location"); loc != "/client/vms?page=1" {
				t.Errorf("back to %q", loc)
			}
			if f := b.flashOf("/client/vms"); !strings.HasPrefix(f, tc.flash) {
				t.Errorf("flash %q, want %q", f, tc.flash)
			}
			if tc.cmd != "" && cs.callCount(tc.cmd) != 1 {
				t.Errorf("%s called %d times", tc.cmd, cs.callCount(tc.cmd))
			}
		})
	}
}

// TestSessionGauges: /metrics counts the sessions kept and the live streams
// open, and both fall back when a browser logs out or leaves.
func TestSessionGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	site := newSiteWith(t, newFakeCS(t), Options{Metrics: reg})
	gauge := func(name string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no %s", name)
		return 0
	}
	a, b := site.browser(t), site.browser(t)
	a.login("alice", "wonderland")
	csrf := b.login("alice", "wonderland")
	if n := gauge("stratus_dashboard_sessions"); n != 2 {
		t.Errorf("sessions %v, want 2", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", site.srv.URL+"/client/live?view=vms", nil)
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ev := &sseReader{t: t, sc: bufio.NewScanner(resp.Body)}
	ev.sc.Buffer(nil, 1<<20)
	ev.next()
	if n := gauge("stratus_dashboard_streams"); n != 1 {
		t.Errorf("streams %v, want 1", n)
	}
	cancel()
	resp.Body.Close()
	testenv.Eventually(t, 5*time.Second, "the stream closed", func() bool { return gauge("stratus_dashboard_streams") == 0 })
	b.post("/client/logout", url.Values{"csrf": {csrf}})
	if n := gauge("stratus_dashboard_sessions"); n != 1 {
		t.Errorf("sessions after a logout %v, want 1", n)
	}
}
