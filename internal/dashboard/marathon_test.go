package dashboard

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	"github.com/chromedp/chromedp"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
)

// marathonSite is a dashboard over a whole cluster behind the Marathon API
// (the real API server, controllers, sim nodes), with one app of two tasks
// created through Marathon's API.
func marathonSite(t *testing.T) (*testSite, *marathontest.Cluster) {
	t.Helper()
	c := marathontest.Start(t, marathontest.Options{Nodes: 2})
	site := newSiteWith(t, newFakeCS(t), Options{Kube: c.Kube,
		Marathon: &MarathonAPI{Handler: c.Server.Handler(), Username: c.Username, Password: c.Password}})
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/v2/apps", bytes.NewBufferString(`{"id":"/shop/web","cmd":"echo hello from the task; sleep 1000","instances":2,"cpus":0.1,"mem":32}`))
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the app: %d", resp.StatusCode)
	}
	return site, c
}

// TestMarathonView: root admins see Marathon's apps, tasks and the Mesos
// agents, and a task's output; users are refused; the view is hidden
// where Marathon does not run.
func TestMarathonView(t *testing.T) {
	site, _ := marathonSite(t)
	admin := site.browser(t)
	admin.login("admin", "password")
	testenv.Eventually(t, 30*time.Second, "two running tasks on the page", func() bool {
		_, body := admin.get("/client/marathon")
		return strings.Contains(body, `data-id="/shop/web"`) && strings.Count(body, "TASK_RUNNING") >= 2
	})
	_, body := admin.get("/client/marathon")
	for _, want := range []string{`id="agents"`, "marathon", `href="/client/task?id=shop_web.`, `>Marathon &amp; Mesos</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the Marathon page lacks %q", want)
		}
	}
	i := strings.Index(body, `href="/client/task?id=`)
	href := body[i+len(`href="`):]
	href = strings.ReplaceAll(href[:strings.IndexByte(href, '"')], "&amp;", "&")
	if r, body := admin.get(href); r.StatusCode != http.StatusOK || !strings.Contains(body, "sim: container task of pod marathon/shop.web-") {
		t.Errorf("task output page: %d\n%s", r.StatusCode, body)
	}
	if r, _ := admin.get("/client/task?id=nonesuch"); r.StatusCode != http.StatusOK {
		t.Errorf("an unknown task: %d", r.StatusCode)
	}

	alice := site.browser(t)
	alice.login("alice", "wonderland")
	if r, body := alice.get("/client/marathon"); r.StatusCode != http.StatusForbidden || strings.Contains(body, "/shop/web") {
		t.Errorf("a user's Marathon page: %d", r.StatusCode)
	}
	if _, body := alice.get("/client/vms"); strings.Contains(body, "Marathon &amp; Mesos") {
		t.Error("a user's navigation shows Marathon")
	}
}

// TestBrowserMarathon: in Chromium, scaling the app through Marathon's API
// shows on the open page without a reload, and a task's output page shows
// its stdout.
func TestBrowserMarathon(t *testing.T) {
	browser := startBrowser(t)
	site, c := marathonSite(t)
	ch := newChrome(t, browser, site)
	ch.login("/client/marathon", "admin", "password")
	ch.do("see the app's two tasks", chromedp.WaitVisible("#apps"),
		waitFor(`document.querySelector("#live-status.on")`),
		waitFor(`document.querySelectorAll("tr.task .state-TASK_RUNNING").length === 2`))
	ch.markPage()
	req, _ := http.NewRequest(http.MethodPut, c.URL+"/v2/apps/shop/web", bytes.NewBufferString(`{"instances":4}`))
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch.do("see the scaled app", waitFor(`document.querySelectorAll("tr.task .state-TASK_RUNNING").length === 4`),
		waitFor(`document.querySelector('#apps tr[data-id="/shop/web"] .instances').textContent === "4"`))
	if ch.reloadedSince() {
		t.Fatal("the page reloaded")
	}
	ch.shot("marathon scaled")
	ch.do("open a task's output", clickLive("a.task-output"), chromedp.WaitVisible("#stdout"),
		waitFor(`document.querySelector("#stdout").textContent.includes("sim: container task of pod marathon/shop.web-")`))
	ch.shot("task output")
}
