package apiserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// BenchmarkCustomResourceCreate10k creates 10,000 Widgets (schema with
// defaults and a CEL rule) from 32 dynamic-client workers over HTTPS, then
// lists them; it reports creates per second and the list's milliseconds
// (issue #18's targets: ≥ 5,000/s, ≤ 150 ms).
func BenchmarkCustomResourceCreate10k(b *testing.B) {
	const n, workers = 10000, 32
	for range b.N {
		_, _, dyn := widgetServer(b)
		elapsed := createWidgets(b, dyn, n, workers)
		t0 := time.Now()
		l, err := dyn.List(context.Background(), metav1.ListOptions{})
		if err != nil || len(l.Items) != n {
			b.Fatalf("list: %v (%d items)", err, len(l.Items))
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "creates/s")
		b.ReportMetric(float64(time.Since(t0).Milliseconds()), "list-ms")
	}
}

// BenchmarkCustomResourceList10k lists 10,000 Widgets once per iteration:
// list-ms is the dynamic client's whole list (request, transfer and its
// decoding), raw-ms the same request read as bytes without decoding, so
// the server's share shows apart from the client's.
func BenchmarkCustomResourceList10k(b *testing.B) {
	const n = 10000
	_, cfg, dyn := widgetServer(b)
	createWidgets(b, dyn, n, 32)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	url := cfg.Host + "/apis/example.com/v1/namespaces/default/widgets"
	ctx := context.Background()
	var list, raw time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		l, err := dyn.List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) != n {
			b.Fatalf("list: %v (%d items)", err, len(l.Items))
		}
		t1 := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		size, err := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || size < n*100 {
			b.Fatalf("raw list: %v, %s, %d bytes", err, resp.Status, size)
		}
		list += t1.Sub(t0)
		raw += time.Since(t1)
	}
	b.ReportMetric(float64(list.Milliseconds())/float64(b.N), "list-ms")
	b.ReportMetric(float64(raw.Milliseconds())/float64(b.N), "raw-ms")
}

// widgetServer starts a server with the Widget CRD served and returns a
// dynamic client for widgets in "default".
func widgetServer(b *testing.B) (*apiserver.Server, *rest.Config, dynamic.ResourceInterface) {
	srv := apiservertest.Start(b)
	cfg := apiservertest.RESTConfig(b, srv)
	ctx := context.Background()
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict([]byte(crdYAML), &crd); err != nil {
		b.Fatal(err)
	}
	if _, err := apiextensionsclient.NewForConfigOrDie(cfg).ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg).Resource(widgetGVR).Namespace("default")
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := dyn.List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
			break
		} else if time.Now().After(deadline) {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv, cfg, dyn
}

// createWidgets creates n Widgets from workers goroutines and returns how
// long that took.
func createWidgets(b *testing.B, dyn dynamic.ResourceInterface, n, workers int) time.Duration {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				w := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
					"metadata": map[string]any{"name": fmt.Sprintf("w-%06d", i)}, "spec": map[string]any{"replicas": i % 10}}}
				if _, err := dyn.Create(ctx, w, metav1.CreateOptions{}); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkCustomResourceCreateServer is the server's part of one create:
// a POST of a Widget through the server's handler in-process (no client,
// TLS or HTTP/2), one at a time, with its allocations.
func BenchmarkCustomResourceCreateServer(b *testing.B) {
	srv, _, _ := widgetServer(b)
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := fmt.Sprintf(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w-%06d"},"spec":{"replicas":%d}}`, i, i%10)
		req := httptest.NewRequest(http.MethodPost, "/apis/example.com/v1/namespaces/default/widgets?fieldManager=bench", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
