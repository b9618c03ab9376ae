package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// fakeFaultAPI serves GET and DELETE /stratus/v1/faults as the instance
// does (its JSON shape, its bearer token, its error body), over a fixed
// list.
type fakeFaultAPI struct {
	mu     sync.Mutex
	faults []map[string]any
}

func (f *fakeFaultAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if v != nil {
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	if r.Header.Get("Authorization") != "Bearer the-token" {
		reply(http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch id, isOne := strings.CutPrefix(r.URL.Path, "/stratus/v1/faults/"); {
	case r.Method == http.MethodGet && r.URL.Path == "/stratus/v1/faults":
		reply(http.StatusOK, map[string]any{"faults": f.faults})
	case r.Method == http.MethodDelete && isOne:
		for i, x := range f.faults {
			if x["id"] == id {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
				reply(http.StatusNoContent, nil)
				return
			}
		}
		reply(http.StatusNotFound, map[string]string{"error": "no such fault: " + id})
	default:
		reply(http.StatusNotFound, map[string]string{"error": "not found"})
	}
}

// TestBrowserFaultAPI: the faults page lists every kind of fault the fault
// API has (kind, match, effect, limits, hits, remaining) beside the
// simulator's rules, and a fault's remove button removes it.
func TestBrowserFaultAPI(t *testing.T) {
	browser := startBrowser(t)
	api := &fakeFaultAPI{faults: []map[string]any{
		{"id": "kube-api-0a1b2c3d", "kind": "kube-api", "verb": "list", "resource": "configmaps", "status": 429, "retryAfter": 1,
			"count": 5, "created": "2026-12-07T18:00:00Z", "hits": 2, "remaining": 3},
		{"id": "gce-api-1b2c3d4e", "kind": "gce-api", "method": "POST", "project": "admin", "latency": "1.5s", "duration": "1m0s",
			"created": "2026-12-07T18:00:00Z", "hits": 0, "account": "admin"},
		{"id": "node-pressure-2c3d4e5f", "kind": "node-pressure", "created": "2026-12-07T18:00:00Z", "hits": 0,
			"selector": "pool=b", "conditions": []string{"MemoryPressure"}, "nodes": []string{"sim-node-1"}},
		{"id": "pod-crash-3d4e5f60", "kind": "pod-crash", "namespace": "default", "name": "web", "exitCode": 3,
			"created": "2026-12-07T18:00:00Z", "hits": 7},
		{"id": "5f4a0c1e-0000-4000-8000-000000000001", "kind": "vm-start-failure", "command": "StartCommand", "value": "result:fail",
			"account": "tester", "created": "0001-01-01T00:00:00Z", "hits": 0},
	}}
	st := newStore(t)
	cs := newRealCloud(t, st, nil)
	site := newSiteWith(t, cs, Options{Faults: &FaultAPI{Handler: api, Token: "the-token"}})
	c := newChrome(t, browser, site)
	c.login("/client/faults", "admin", "password")
	c.do("the fault API's faults are listed", chromedp.WaitVisible("#fault-api"), chromedp.WaitVisible("#faults"))
	c.shot("faults")
	rows := eval[[]string](c, `Array.from(document.querySelectorAll("#fault-api tbody tr")).map(r => Array.from(r.cells).map(c => c.textContent.trim()).join(" | "))`)
	want := []string{
		"kube-api-0a1b2c3d | kube-api | verb list, resource configmaps | 429 Too Many Requests; Retry-After 1s | 5 hits | 2 | 3 | remove",
		"gce-api-1b2c3d4e | gce-api | method POST, project admin, account admin | latency 1.5s | for 1m0s (until 18:01:00) | 0 | unlimited | remove",
		"node-pressure-2c3d4e5f | node-pressure | selector pool=b, nodes sim-node-1 | MemoryPressure True | none | 0 | unlimited | remove",
		"pod-crash-3d4e5f60 | pod-crash | namespace default, name web | exit code 3 (CrashLoopBackOff) | none | 7 | unlimited | remove",
		"5f4a0c1e-0000-4000-8000-000000000001 | vm-start-failure | command StartCommand, account tester | result:fail | none | 0 | unlimited | remove",
	}
	if len(rows) != len(want) {
		t.Fatalf("rows:\n%s", strings.Join(rows, "\n"))
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want[i])
		}
	}
	eval[bool](c, `(window.confirm = () => true, true)`)
	c.do("remove one",
		clickLive(`tr[data-fault="pod-crash-3d4e5f60"] button.act-remove`),
		waitFor(`(document.querySelector("#flash:not(.error)") || {}).textContent?.includes("pod-crash-3d4e5f60 removed")`),
		waitFor(`!document.querySelector('tr[data-fault="pod-crash-3d4e5f60"]')`),
	)
	api.mu.Lock()
	n := len(api.faults)
	api.mu.Unlock()
	if n != 4 {
		t.Errorf("the fault API has %d faults after the remove, want 4", n)
	}
	eval[bool](c, `(window.confirm = () => true, document.querySelector('tr[data-fault="kube-api-0a1b2c3d"] form').action = "/client/faults/kube-api-ffffffff/remove", true)`)
	c.do("removing one already gone says so",
		clickLive(`tr[data-fault="kube-api-0a1b2c3d"] button.act-remove`),
		waitFor(`(document.querySelector("#flash.error") || {}).textContent?.includes("no such fault: kube-api-ffffffff")`),
	)
}
