package dashboard

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestBrowserNewcomerFixes walks, in Chromium, the dashboard items a
// newcomer tripped over (#14): the favicon loads, each template is offered
// once, the count reads "1 virtual machine", a stop whose job fails is
// answered in red with the failure, a spent one-shot fault shows 0 left,
// a Pending pod says why, and node memory reads in GiB.
func TestBrowserNewcomerFixes(t *testing.T) {
	browser := startBrowser(t)
	t.Run("VirtualMachines", func(t *testing.T) {
		st := newStore(t)
		cs := newRealCloud(t, st, nil)
		s := adminAPI(t, cs)
		site := newSite(t, cs, nil)
		c := newChrome(t, browser, site)
		c.login("/client/vms", "admin", "password")
		c.do("reach the VM page", chromedp.WaitVisible("#deploy"), waitFor(`document.querySelector("#live-status.on")`))

		if got := eval[int](c, `(() => { const x = new XMLHttpRequest(); x.open("GET", document.querySelector('link[rel="icon"]').href, false); x.send(); return x.status })()`); got != 200 {
			t.Errorf("favicon answered %d", got)
		}
		if dup := eval[string](c, `(() => { const seen = {}; for (const o of document.querySelectorAll("#deploy-template option")) { if (seen[o.value]) return o.value; seen[o.value] = true } return "" })()`); dup != "" {
			t.Errorf("template %s offered twice", dup)
		}

		c.do("deploy one VM",
			chromedp.SetValue("#deploy-name", "victim"),
			chromedp.Click("#deploy-submit"),
			waitFor(`document.querySelector('tr[data-name="victim"] .state-Running')`),
			waitFor(`document.querySelector("#vm-count").textContent.startsWith("1 virtual machine,")`),
		)
		c.shot("one vm")

		if _, err := s.Raw(context.Background(), "configureSimulator", url.Values{"name": {"StopCommand"}, "value": {"result:fail"}, "count": {"1"}}); err != nil {
			t.Fatal(err)
		}
		c.do("a stop that fails is answered in red",
			clickLive(`tr[data-name="victim"] button.act-stop`),
			waitFor(`(document.querySelector("#flash.error") || {}).textContent?.startsWith("Stop failed")`),
		)
		c.shot("failed stop")
		c.do("the spent fault shows none left",
			chromedp.Navigate(c.base+"/client/faults"), chromedp.WaitVisible("#faults"),
			waitFor(`document.querySelector("#faults").textContent.includes("0 (used up)")`),
		)
		if strings.Contains(eval[string](c, `document.querySelector("#faults").textContent`), "unlimited") {
			t.Error("the spent one-shot fault still reads unlimited")
		}
		c.do("the next stop works",
			chromedp.Navigate(c.base+"/client/vms"), chromedp.WaitVisible("#deploy"),
			clickLive(`tr[data-name="victim"] button.act-stop`),
			waitFor(`(document.querySelector("#flash:not(.error)") || {}).textContent?.startsWith("Stop done")`),
			waitFor(`document.querySelector('tr[data-name="victim"] .state-Stopped')`),
		)
	})
	t.Run("Kubernetes", func(t *testing.T) {
		st := newStore(t)
		kube := newRealKube(t, st)
		site := newSite(t, newFakeCS(t), kube)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "stuck"},
			Spec: corev1.PodSpec{
				NodeSelector: map[string]string{"disk": "none-such"},
				Containers:   []corev1.Container{{Name: "c", Image: "nginx"}},
			},
		}
		if _, err := kube.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		c := newChrome(t, browser, site)
		c.login("/client/kube", "admin", "password")
		c.do("a Pending pod says why",
			chromedp.WaitVisible("#pods"),
			waitFor(`(document.querySelector('tr.pod[data-name="stuck"] .pod-reason') || {}).textContent?.startsWith("Unschedulable")`),
		)
		mem := eval[string](c, `document.querySelector("#nodes tbody tr td:nth-child(4)").textContent`)
		if !strings.HasSuffix(mem, "GiB") {
			t.Errorf("node memory reads %q, want GiB", mem)
		}
		c.shot("pending pod")
	})
}
