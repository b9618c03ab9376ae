package fault

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

func TestParseKube(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		want        kubeRequest
		ok          bool
	}{
		{"GET", "/api/v1/namespaces/d/pods", kubeRequest{"list", "pods", "d", ""}, true},
		{"GET", "/api/v1/namespaces/d/pods?watch=true", kubeRequest{"watch", "pods", "d", ""}, true},
		{"GET", "/api/v1/namespaces/d/pods?watch=True", kubeRequest{"watch", "pods", "d", ""}, true},
		{"GET", "/api/v1/namespaces/d/pods/p/log", kubeRequest{"get", "pods/log", "d", "p"}, true},
		{"GET", "/apis/apps/v1", kubeRequest{}, false},
		{"GET", "/api/v1/watch/namespaces/d/pods", kubeRequest{"watch", "pods", "d", ""}, true},
		{"GET", "/api/v1/namespaces/d/pods/p", kubeRequest{"get", "pods", "d", "p"}, true},
		{"PUT", "/api/v1/namespaces/d/pods/p/status", kubeRequest{"update", "pods/status", "d", "p"}, true},
		{"GET", "/api/v1/namespaces/d", kubeRequest{"get", "namespaces", "d", "d"}, true},
		{"GET", "/api/v1/nodes", kubeRequest{"list", "nodes", "", ""}, true},
		{"POST", "/apis/apps/v1/namespaces/d/deployments", kubeRequest{"create", "deployments", "d", ""}, true},
		{"PATCH", "/apis/apps/v1/namespaces/d/deployments/x/scale", kubeRequest{"patch", "deployments/scale", "d", "x"}, true},
		{"DELETE", "/api/v1/namespaces/d/configmaps", kubeRequest{"deletecollection", "configmaps", "d", ""}, true},
		{"GET", "/apis", kubeRequest{}, false},
		{"GET", "/version", kubeRequest{}, false},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		got, ok := parseKube(r)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s %s: %+v %v, want %+v %v", tc.method, tc.url, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLimits(t *testing.T) {
	clock := testingclock.NewFakePassiveClock(time.Unix(1000, 0))
	dice := 0.0
	s := &Set{Clock: clock, Rand: func() float64 { return dice }}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := s.Kube(ok)
	code := func(url string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", url, nil))
		return w.Code
	}
	if _, err := s.Add(Rule{Kind: KindKube, Verb: "get", Resource: "pods", Status: 429, RetryAfter: 1, Count: 2}); err != nil {
		t.Fatal(err)
	}
	if c := code("/api/v1/namespaces/d/pods"); c != 200 {
		t.Errorf("a list hit a get fault: %d", c)
	}
	for i, want := range []int{429, 429, 200} {
		if c := code("/api/v1/namespaces/d/pods/p"); c != want {
			t.Errorf("get %d: %d, want %d", i, c, want)
		}
	}
	r, _ := s.Add(Rule{Kind: KindKube, Status: 500, Probability: 0.5, Duration: Duration(time.Minute)})
	dice = 0.7
	if c := code("/api/v1/nodes"); c != 200 {
		t.Errorf("a roll above the probability hit: %d", c)
	}
	dice = 0.2
	if c := code("/api/v1/nodes"); c != 500 {
		t.Errorf("a roll below the probability missed: %d", c)
	}
	clock.SetTime(clock.Now().Add(time.Minute))
	if c := code("/api/v1/nodes"); c != 200 || len(s.List()) != 0 {
		t.Errorf("an expired fault hit: %d, %v", c, s.List())
	}
	if err := s.Remove(r.ID); err == nil {
		t.Error("removed an expired fault twice")
	}
	for _, bad := range []Rule{{Kind: "x", Status: 500}, {Kind: KindKube}, {Kind: KindKube, Status: 200}, {Kind: KindKube, Verb: "frob", Status: 500},
		{Kind: KindGCE, Resource: "pods", Status: 500}, {Kind: KindKube, Status: 500, Probability: 2}} {
		if _, err := s.Add(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// TestRestoreAndHits: rules listed (hits and all) and restored into a new
// set act as before, keep their ids and counts, and each hit is reported.
func TestRestoreAndHits(t *testing.T) {
	a := &Set{Clock: testingclock.NewFakePassiveClock(time.Unix(1000, 0))}
	hits := 0
	a.Hit = func() { hits++ }
	r, err := a.Add(Rule{Kind: KindKube, Verb: "get", Status: 500, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	get := func(s *Set) int {
		w := httptest.NewRecorder()
		s.Kube(ok).ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/namespaces/d/pods/p", nil))
		return w.Code
	}
	if c := get(a); c != 500 || hits != 1 {
		t.Fatalf("first get: %d, %d hits reported", c, hits)
	}
	b := &Set{Clock: a.Clock}
	if err := b.Restore(a.List()); err != nil {
		t.Fatal(err)
	}
	if l := b.List(); len(l) != 1 || l[0].ID != r.ID || l[0].Hits != 1 || !l[0].Created.Equal(r.Created) {
		t.Fatalf("restored: %+v", l)
	}
	for i, want := range []int{500, 500, 200} {
		if c := get(b); c != want {
			t.Errorf("restored get %d: %d, want %d", i, c, want)
		}
	}
	for _, bad := range [][]Rule{{{ID: "x", Kind: KindKube}}, {{Kind: KindKube, Status: 500}}} {
		if err := (&Set{}).Restore(bad); err == nil {
			t.Errorf("restored %+v", bad)
		}
	}
}

func TestGCEProject(t *testing.T) {
	s := &Set{}
	if _, err := s.Add(Rule{Kind: KindGCE, Project: "alice", Status: 503}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(Rule{Kind: KindKube, Project: "alice", Status: 503}); err == nil {
		t.Error("a kube-api rule took a project")
	}
	h := s.GCE(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/compute/v1/projects/alice/zones/z/instances", 503},
		{"/compute/v1/projects/alice", 503},
		{"/compute/v1/projects/alicex/zones", 200},
		{"/compute/v1/projects/bob/zones", 200},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.path, w.Code, tc.want)
		}
	}
}
