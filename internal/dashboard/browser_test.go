package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// chrome drives a headless Chromium against a test site and keeps
// screenshots as test artifacts (under $STRATUS_ARTIFACTS, or the test's
// temporary directory).
type chrome struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	n    int
}

// startBrowser starts one headless Chromium for a test and its subtests.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.LookPath(t, "chromium", "apt-get install chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to sandbox as root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser; it must not carry a timeout.
	t0 := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Logf("chromium started in %v", time.Since(t0).Round(time.Millisecond))
	return ctx
}

// newChrome opens a tab of the browser for a subtest against site.
func newChrome(t *testing.T, browser context.Context, site *testSite) *chrome {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	dir := t.TempDir()
	if root := os.Getenv("STRATUS_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, "dashboard", t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return &chrome{t: t, ctx: ctx, base: site.srv.URL, dir: dir}
}

// do runs steps within a deadline; on failure it keeps a screenshot.
func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.shot("failed " + what)
		c.t.Fatalf("%s: %v", what, err)
	}
	c.t.Logf("%s: %v", what, time.Since(t0).Round(time.Millisecond))
}

// eval returns a JavaScript expression's value.
func eval[T any](c *chrome, expr string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate on every DOM change.
func waitFor(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(15*time.Second))
}

// clickLive clicks the first element matching sel, once it exists, in one
// JavaScript step. Rows of live tables are re-rendered by pushed updates, so
// chromedp.Click's query-then-click can meet a node that was just replaced.
func clickLive(sel string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(sel)
	return waitFor(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.click(); return true; })()`, q))
}

// shot saves a full-page PNG named after the step.
func (c *chrome) shot(name string) {
	c.n++
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	t0 := time.Now()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
		return
	}
	c.t.Logf("screenshot %s: %v", name, time.Since(t0).Round(time.Millisecond))
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "-"), "-")
	file := filepath.Join(c.dir, strings.Join([]string{twoDigits(c.n), slug}, "-")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		c.t.Errorf("save screenshot: %v", err)
	}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10%10), byte('0' + n%10)}) }

// login opens path, which sends the browser to the login form, and fills it.
func (c *chrome) login(path, user, password string) {
	c.do("log in",
		chromedp.Navigate(c.base+path),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", user),
		chromedp.SendKeys("#password", password),
		chromedp.Click("#login"),
		chromedp.WaitVisible("#whoami"),
	)
}

// markPage tags the current document; reloadedSince says whether the
// browser has loaded a new document since.
func (c *chrome) markPage() { eval[bool](c, "window.__stratusMark = true") }

func (c *chrome) reloadedSince() bool { return !eval[bool](c, "window.__stratusMark === true") }

// TestBrowser drives the dashboard in headless Chromium: one browser, a tab
// per subtest.
func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	t.Run("VirtualMachines", func(t *testing.T) { testBrowserVirtualMachines(t, browser) })
	t.Run("Kubernetes", func(t *testing.T) { testBrowserKubernetes(t, browser) })
	t.Run("KubernetesFake", func(t *testing.T) { testBrowserKubernetesFake(t, browser) })
}

func testBrowserVirtualMachines(t *testing.T, browser context.Context) {
	st := newStore(t)
	dc, err := cloud.LoadDatacenter("")
	if err != nil {
		t.Fatal(err)
	}
	// Slow the life cycle a little, so the page shows the VM on its way.
	dc.Simulator.Timings.Start = cloud.Duration{Duration: 600 * time.Millisecond}
	dc.Simulator.Timings.Stop = cloud.Duration{Duration: 300 * time.Millisecond}
	site := newSite(t, newRealCloud(t, st, dc), nil)
	c := newChrome(t, browser, site)

	c.do("open the dashboard", chromedp.Navigate(c.base+"/client/vms"), chromedp.WaitVisible("#username"))
	c.shot("login page")
	c.login("/client/vms", "admin", "password")
	c.do("reach the VM page after login", chromedp.WaitVisible("#deploy"), waitFor(`document.querySelector("#live-status.on")`))
	c.markPage()

	// Bad input: a clear message, nothing deployed.
	c.do("deploy with a bad name",
		chromedp.SetValue("#deploy-name", "-bad-"),
		chromedp.Click("#deploy-submit"),
		waitFor(`document.querySelector("#flash.error")`),
	)
	if msg := eval[string](c, `document.querySelector("#flash").textContent`); !strings.Contains(msg, "A VM name starts with a letter") {
		t.Errorf("bad name message %q", msg)
	}
	if n := eval[string](c, `document.querySelector("#vm-count").textContent`); !strings.HasPrefix(n, "0 virtual machines") {
		t.Errorf("after a bad deploy: %q", n)
	}

	// Deploy from the form and watch it reach Running, without a reload.
	c.do("deploy from the form",
		chromedp.SetValue("#deploy-name", "browser-vm"),
		chromedp.Click("#deploy-submit"),
		waitFor(`(document.querySelector("#flash:not(.error)")||{}).textContent?.startsWith("Deploying browser-vm")`),
		waitFor(`document.querySelector('tr[data-name="browser-vm"] .state-Starting')`),
	)
	c.do("watch it reach Running", waitFor(`document.querySelector('tr[data-name="browser-vm"] .state-Running')`))
	if c.reloadedSince() {
		t.Fatal("the page reloaded")
	}
	c.shot("vm running")

	c.do("stop it",
		clickLive(`tr[data-name="browser-vm"] button.act-stop`),
		waitFor(`document.querySelector('tr[data-name="browser-vm"] .state-Stopped')`),
	)
	if c.reloadedSince() {
		t.Fatal("the page reloaded")
	}
	c.shot("vm stopped")

	c.do("overview", chromedp.Navigate(c.base+"/client/"), chromedp.WaitVisible("#hosts"), chromedp.WaitVisible("svg.chart"))
	if got := eval[string](c, `document.querySelector("#count-vms").textContent`); got != "1" {
		t.Errorf("overview counts %s VMs", got)
	}
	c.shot("overview")
	for _, page := range []string{"network", "faults", "jobs"} {
		c.do(page, chromedp.Navigate(c.base+"/client/"+page), chromedp.WaitVisible("#live"))
	}
	c.shot("jobs and events")
	c.do("log out", chromedp.Click("#logout"), chromedp.WaitVisible("#username"))
}

// testBrowserKubernetes runs against stratus's own API server, controllers
// and a node agent: scaling a deployment makes real (simulated) pods.
func testBrowserKubernetes(t *testing.T, browser context.Context) {
	st := newStore(t)
	kube := newRealKube(t, st)
	site := newSite(t, newFakeCS(t), kube)
	createDeployment(t, kube, "web", 1)
	c := newChrome(t, browser, site)
	c.login("/client/kube", "admin", "password")
	c.do("open the Kubernetes view",
		chromedp.WaitVisible("#deployments"),
		waitFor(`document.querySelector("#live-status.on")`),
		waitFor(`document.querySelectorAll("tr.pod .state-Running").length === 1`),
	)
	c.markPage()
	scaleDeployment(t, kube, "web", 5)
	c.do("see the scaled deployment's pods appear",
		waitFor(`document.querySelectorAll("tr.pod .state-Running").length === 5`),
		waitFor(`document.querySelector('#deployments tr[data-name="web"] .ready').textContent === "5"`),
	)
	if c.reloadedSince() {
		t.Fatal("the page reloaded")
	}
	if href := eval[string](c, `document.querySelector("a.nodeport").getAttribute("href")`); !strings.HasPrefix(href, "http://127.0.0.1:3") {
		t.Errorf("node port link %q", href)
	}
	c.shot("kubernetes scaled")
	c.do("overview with the cluster", chromedp.Navigate(c.base+"/client/"), waitFor(`document.querySelector("#count-pods").textContent === "5"`))
	c.shot("overview with kubernetes")
}

// testBrowserKubernetesFake runs the same story against client-go's fake
// clientset, the test playing the controllers.
func testBrowserKubernetesFake(t *testing.T, browser context.Context) {
	cluster := newFakeCluster(t)
	site := newSite(t, newFakeCS(t), cluster.cs)
	cluster.scale(context.Background(), 1)
	c := newChrome(t, browser, site)
	c.login("/client/", "admin", "password")
	c.do("open the Kubernetes view",
		chromedp.Navigate(c.base+"/client/kube"),
		chromedp.WaitVisible("#deployments"),
		waitFor(`document.querySelector("#live-status.on")`),
	)
	c.markPage()
	if n := eval[int](c, `document.querySelectorAll("tr.pod").length`); n != 1 {
		t.Fatalf("%d pods before scaling", n)
	}
	cluster.scale(context.Background(), 5)
	c.do("see the scaled deployment's pods appear",
		waitFor(`document.querySelectorAll("tr.pod").length === 5`),
		waitFor(`document.querySelector('#deployments tr[data-name="web"] .desired').textContent === "5"`),
	)
	if c.reloadedSince() {
		t.Fatal("the page reloaded")
	}
	if href := eval[string](c, `document.querySelector("a.nodeport").getAttribute("href")`); href != "http://127.0.0.1:30080/" {
		t.Errorf("node port link %q", href)
	}
	c.shot("kubernetes scaled")
}
