package apiserver_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// BenchmarkCustomResourceCreate10k creates 10,000 Widgets (schema with
// defaults and a CEL rule) from 32 dynamic-client workers over HTTPS, then
// lists them; it reports creates per second and the list's milliseconds
// (issue #18's targets: ≥ 5,000/s, ≤ 150 ms).
func BenchmarkCustomResourceCreate10k(b *testing.B) {
	const n, workers = 10000, 32
	for range b.N {
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
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Value
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < n; i = next.Add(1) - 1 {
					w := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
						"metadata": map[string]any{"name": fmt.Sprintf("w-%06d", i)}, "spec": map[string]any{"replicas": int64(i % 10)}}}
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
		elapsed := time.Since(start)
		t0 := time.Now()
		l, err := dyn.List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) != n {
			b.Fatalf("list: %v (%d items)", err, len(l.Items))
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "creates/s")
		b.ReportMetric(float64(time.Since(t0).Milliseconds()), "list-ms")
	}
}
