//go:build unix

package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// deployMany deploys n Micro VMs in the Basic zone through the API, with a
// few clients at once.
func deployMany(b *testing.B, cs http.Handler, n int) {
	s := adminAPI(b, cs)
	ctx := context.Background()
	var zones struct {
		Zones []zone `json:"zone"`
	}
	var offerings struct {
		Offerings []serviceOffering `json:"serviceoffering"`
	}
	var templates struct {
		Templates []vmTemplate `json:"template"`
	}
	if err := s.Do(ctx, "listZones", url.Values{"name": {"Sandbox-simulator-basic"}}, &zones); err != nil || len(zones.Zones) == 0 {
		b.Fatalf("basic zone: %v", err)
	}
	if err := s.Do(ctx, "listServiceOfferings", url.Values{"name": {"Micro"}}, &offerings); err != nil || len(offerings.Offerings) == 0 {
		b.Fatalf("Micro offering: %v", err)
	}
	if err := s.Do(ctx, "listTemplates", url.Values{"templatefilter": {"executable"}, "zoneid": {zones.Zones[0].ID}}, &templates); err != nil || len(templates.Templates) == 0 {
		b.Fatalf("template: %v", err)
	}
	p := url.Values{"zoneid": {zones.Zones[0].ID}, "serviceofferingid": {offerings.Offerings[0].ID}, "templateid": {templates.Templates[0].ID}}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				q := url.Values{"name": {"vm-" + strconv.FormatInt(i, 10)}}
				for k, v := range p {
					q[k] = v
				}
				if _, err := s.Raw(ctx, "deployVirtualMachine", q); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("deploy: %v", err)
	}
}

// BenchmarkPages10kVMs renders dashboard pages over a simulator holding
// 10,000 VMs, through the CloudStack API as the admin (who sees them all).
func BenchmarkPages10kVMs(b *testing.B) {
	const vms = 10_000
	st := newStore(b)
	cs := newRealCloud(b, st, nil)
	deployMany(b, cs, vms)
	site := newSite(b, cs, nil)
	br := site.browser(b)
	br.login("admin", "password")
	cookie := br.hc.Jar.Cookies(mustURL(b, site.srv.URL+"/client/"))
	h := site.d.Handler()
	for _, path := range []string{"/client/vms", "/client/vms?page=100", "/client/vms?state=Running&page=200", "/client/"} {
		b.Run(strings.TrimPrefix(path, "/client/"), func(b *testing.B) {
			cpu0 := processCPU(b)
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				for _, c := range cookie {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "10000") {
					b.Fatalf("status %d:\n%.2000s", rec.Code, rec.Body.String())
				}
			}
			// CPU time says what a page costs even on a busy machine,
			// where wall time mostly measures waiting for a core.
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustURL(b *testing.B, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	return u
}
