package stratustest_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/testenv"
	"github.com/stratus-cloud/stratus/stratustest"
)

// TestBrowserFaultsOfAnInstance: in Chromium, the dashboard of a whole
// instance lists the faults its fault API holds, wired as `stratus up`
// wires them, and the remove button takes one away: the Kubernetes API
// stops answering 429 at once.
func TestBrowserFaultsOfAnInstance(t *testing.T) {
	path := testenv.LookPath(t, "chromium", "apt-get install chromium")
	s := stratustest.Start(t, stratustest.WithFaults(
		stratustest.Fault{Kind: "kube-api", Verb: "list", Resource: "configmaps", Status: http.StatusTooManyRequests, RetryAfter: 1},
		stratustest.Fault{Kind: "pod-crash", Namespace: "default", Name: "web", ExitCode: 3},
	))
	hc, err := rest.HTTPClientFor(s.KubeConfig)
	if err != nil {
		t.Fatal(err)
	}
	listCode := func() int {
		resp, err := hc.Get(s.KubeConfig.Host + "/api/v1/namespaces/default/configmaps")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := listCode(); c != http.StatusTooManyRequests {
		t.Fatalf("list configmaps under the fault: %d", c)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(20*time.Second))
	}
	do("log in", chromedp.Navigate(s.HTTPURL+"/client/faults"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", "password"),
		chromedp.Click("#login"), chromedp.WaitVisible("#fault-api"))
	rows, err := chromedp.Run(browser, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#fault-api tbody tr")).map(r => Array.from(r.cells).map(c => c.textContent.trim()).join(" | "))`))
	if err != nil {
		t.Fatal(err)
	}
	page := strings.Join(rows, "\n")
	for _, want := range []string{"| kube-api | verb list, resource configmaps | 429 Too Many Requests; Retry-After 1s |",
		"| pod-crash | namespace default, name web | exit code 3 (CrashLoopBackOff) |"} {
		if !strings.Contains(page, want) {
			t.Errorf("the faults page lacks %q:\n%s", want, page)
		}
	}
	do("remove the kube-api fault",
		poll(`(window.confirm = () => true, true)`),
		poll(`(() => { const b = document.querySelector('tr[data-fault^="kube-api-"] button.act-remove'); if (!b) return false; b.click(); return true; })()`),
		poll(`(document.querySelector("#flash:not(.error)") || {}).textContent?.includes("removed")`),
		poll(`!document.querySelector('tr[data-fault^="kube-api-"]') && !!document.querySelector('tr[data-fault^="pod-crash-"]')`),
	)
	if c := listCode(); c != http.StatusOK {
		t.Errorf("list configmaps after the fault's removal: %d", c)
	}
}
