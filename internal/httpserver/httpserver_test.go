package httpserver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	var ready atomic.Bool
	s := New(Options{Addr: "127.0.0.1:0", Registry: prometheus.NewRegistry(), Ready: func() (bool, []string) {
		if ready.Load() {
			return true, nil
		}
		return false, []string{"cloud", "kube-apiserver"}
	}})
	s.Handle("/hello", "hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	var shutdown atomic.Bool
	s.OnShutdown(func() { shutdown.Store(true) })
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, s.URL()+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "cloud, kube-apiserver") {
		t.Fatalf("/readyz before ready: %d %q", code, body)
	}
	ready.Store(true)
	if code, _ := get(t, s.URL()+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz when ready: %d", code)
	}
	if code, _ := get(t, s.URL()+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code, _ := get(t, s.URL()+"/hello"); code != http.StatusTeapot {
		t.Fatalf("/hello: %d", code)
	}
	_, metrics := get(t, s.URL()+"/metrics")
	for _, want := range []string{
		`stratus_http_requests_total{code="418",method="GET",route="hello"} 1`,
		`stratus_http_request_duration_seconds_count{route="hello"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// net/http runs shutdown hooks in goroutines of their own: one may
	// not have run yet when Stop returns.
	for deadline := time.Now().Add(5 * time.Second); !shutdown.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("OnShutdown hook not run")
		}
	}
}

func TestWantsJSON(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"application/json"}, true},
		{[]string{"application/json; charset=utf-8"}, true},
		{[]string{"*/*"}, false},
		{[]string{"text/plain;version=0.0.4;q=0.3,*/*;q=0.1"}, false},
		{[]string{"application/openmetrics-text;version=1.0.0,application/json"}, false},
		{[]string{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}, false},
		{[]string{"text/html", "application/json"}, true},
	} {
		if got := wantsJSON(tc.accept); got != tc.want {
			t.Errorf("wantsJSON(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestMetricsJSON(t *testing.T) {
	s := New(Options{Addr: "127.0.0.1:0", Registry: prometheus.NewRegistry()})
	s.SetMetricsJSON(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"gauges":{}}`)
	}))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Stop(context.Background()) }()
	for _, tc := range []struct{ accept, want string }{
		{"application/json", `{"gauges":{}}`},
		{"", "go_goroutines"},
		{"text/plain;version=0.0.4;q=0.3,*/*;q=0.1", "go_goroutines"},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/metrics", nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("Accept %q: %.80q, want %q", tc.accept, b, tc.want)
		}
	}
}
