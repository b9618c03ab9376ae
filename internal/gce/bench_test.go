package gce

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"

	"github.com/stratus-cloud/stratus/internal/cloudstack"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// timedTransport serves CloudStack calls in process, as `stratus up`
// does, and adds up the time they take.
type timedTransport struct {
	h    http.Handler
	ns   atomic.Int64
	hits atomic.Int64
}

func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t0 := time.Now()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	t.ns.Add(int64(time.Since(t0)))
	t.hits.Add(1)
	return rec.Result(), nil
}

// benchGateway is a gateway wired to the real simulator in process.
func benchGateway(b *testing.B) (*Gateway, *timedTransport, string, string) {
	cs := cstest.Start(b, cstest.Options{})
	tr := &timedTransport{h: cloudstack.NewHandler(cloudstack.Options{Cloud: cs.Sim, Log: testenv.Logger()})}
	st := memory.New(memory.Options{})
	b.Cleanup(func() { st.Close() })
	gw, err := New(Options{CloudStack: CloudStackConfig{URL: "http://cs/client/api", APIKey: cs.APIKey, SecretKey: cs.SecretKey,
		HTTPClient: &http.Client{Transport: tr}}, Store: st, BaseURL: "http://gce", Log: testenv.Logger()})
	if err != nil {
		b.Fatal(err)
	}
	tok, project, err := gw.AdminToken(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return gw, tr, tok, project
}

// benchCall measures one GCE call and reports the gateway's own time:
// the whole call minus the CloudStack calls it made.
func benchCall(b *testing.B, gw *Gateway, tr *timedTransport, method, path, tok string) {
	h := gw.Handler()
	req := func() *http.Request {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req())
	if rec.Code != 200 {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	tr.ns.Store(0)
	tr.hits.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req())
	}
	total := time.Since(t0)
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(total.Nanoseconds()-tr.ns.Load())/n, "gateway-ns/op")
	b.ReportMetric(float64(tr.ns.Load())/n, "cloudstack-ns/op")
	b.ReportMetric(float64(tr.hits.Load())/n, "cloudstack-calls/op")
}

func BenchmarkGatewayListZones(b *testing.B) {
	gw, tr, tok, p := benchGateway(b)
	benchCall(b, gw, tr, "GET", "/compute/v1/projects/"+p+"/zones", tok)
}

func BenchmarkGatewayGetInstance(b *testing.B) {
	gw, tr, tok, p := benchGateway(b)
	srv := httptest.NewServer(gw.Handler())
	defer srv.Close()
	e := &testEnv{gw: gw, srv: srv, token: tok, project: p}
	svc := e.service(b, tok)
	op, err := svc.Instances.Insert(p, "sandbox-simulator-a", &compute.Instance{Name: "bench", MachineType: "zones/sandbox-simulator-a/machineTypes/micro",
		Disks: []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/debian-12"}}}}).Do()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ZoneOperations.Wait(p, "sandbox-simulator-a", op.Name).Do(); err != nil {
		b.Fatal(err)
	}
	benchCall(b, gw, tr, "GET", "/compute/v1/projects/"+p+"/zones/sandbox-simulator-a/instances/bench", tok)
}

func BenchmarkGatewayListImages(b *testing.B) {
	gw, tr, tok, _ := benchGateway(b)
	benchCall(b, gw, tr, "GET", "/compute/v1/projects/debian-cloud/global/images", tok)
}

func BenchmarkGatewayAggregatedMachineTypes(b *testing.B) {
	gw, tr, tok, p := benchGateway(b)
	benchCall(b, gw, tr, "GET", "/compute/v1/projects/"+p+"/aggregated/machineTypes", tok)
}

func BenchmarkFilter(b *testing.B) {
	f, err := parseFilter(`(name eq ".*\bweb\b.*")(status eq RUNNING)`)
	if err != nil {
		b.Fatal(err)
	}
	inst := &Instance{Name: "my-web-1", Status: "RUNNING", Labels: map[string]string{"a": "b"}}
	b.ReportAllocs()
	for b.Loop() {
		matchEntry(f, inst)
	}
}
