package marathon

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/stratus-cloud/stratus/internal/kube/restartgate"
)

// BenchmarkListAppsEmbedTasks: GET /v2/apps?embed=apps.tasks with 1,000
// apps of 10 running tasks each on 100 nodes (target ≤ 100 ms). The
// objects are served by a fake clientset: what is measured is the
// server's own work from its caches.
func BenchmarkListAppsEmbedTasks(b *testing.B) {
	const apps, per, nodes = 1000, 10, 100
	var objs []runtime.Object
	for i := range nodes {
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("n%d", i), UID: types.UID(fmt.Sprintf("node-%d", i))}})
	}
	now := metav1.Now()
	for i := range apps {
		a := newApp()
		a.ID = fmt.Sprintf("/bench/app-%d", i)
		cmd := "sleep 1000"
		a.Cmd = &cmd
		a.Instances = per
		a.Version = versionTime(now.Time)
		a.PortDefinitions = []PortDefinition{{Port: PortRangeMin + i, Protocol: "tcp"}}
		raw, _ := json.Marshal(a)
		d := kubeDeployment(&a, raw, noNodes)
		d.ResourceVersion = "1"
		objs = append(objs, d)
		for j := range per {
			// Running tasks: their host ports given (hostports.go).
			ann := maps.Clone(d.Spec.Template.Annotations)
			delete(ann, restartgate.StartAnnotation)
			ann[annotationPorts] = fmt.Sprintf("[%d]", AgentPortMin+j)
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d-%d", i, j), Namespace: Namespace,
				UID: types.UID(fmt.Sprintf("uid-%d-%d", i, j)), Labels: d.Spec.Template.Labels, Annotations: ann, CreationTimestamp: now},
				Spec: corev1.PodSpec{NodeName: fmt.Sprintf("n%d", (i*per+j)%nodes)},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &now, PodIP: "127.128.0.2",
					ContainerStatuses: []corev1.ContainerStatus{{Name: "task", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}}}
			objs = append(objs, p)
		}
	}
	objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace, UID: "ns"}})
	s, err := New(Options{Client: fake.NewClientset(objs...), Username: "u", Password: "p"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Stop(context.Background()) }()
	h := s.Handler()
	get := func() int {
		req := httptest.NewRequest(http.MethodGet, "/v2/apps?embed=apps.tasks", nil)
		req.SetBasicAuth("u", "p")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
		return rec.Body.Len()
	}
	size := get()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		get()
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/answer")
}
