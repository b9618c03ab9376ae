// Package e2e runs the controller manager, node agents and the service
// proxy against the real stratus API server, driven by client-go and the
// real kubectl.
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/kube/sharedpods"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

type cluster struct {
	srv    *apiserver.Server
	cs     kubernetes.Interface
	cm     *controller.Manager
	writes *writeCounter
	// pods is the process's shared pod informer, as `stratus up` has it:
	// the controllers and the sim pools of the benchmarks read it.
	pods *sharedpods.Informer
}

// writeCounter counts the API writes of the cluster's in-process clients
// (controllers, agents, the test) by method and path shape, so benchmarks
// can report writes per pod.
type writeCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (w *writeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		k := req.Method + " " + writeKind(req.URL.Path)
		w.mu.Lock()
		w.n[k]++
		w.mu.Unlock()
	}
	return w.next.RoundTrip(req)
}

// writeKind names a request path by resource and subresource
// (".../pods/p-1/status" → "pods/status").
func writeKind(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if p == "namespaces" && i+2 < len(parts) {
			parts = parts[i+2:]
			break
		}
	}
	switch len(parts) {
	case 0:
		return path
	case 1, 2:
		return parts[0]
	default:
		return parts[0] + "/" + parts[2]
	}
}

// snapshot returns the counts so far and the total.
func (w *writeCounter) snapshot() (map[string]int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := make(map[string]int, len(w.n))
	total := 0
	for k, v := range w.n {
		c[k] = v
		total += v
	}
	return c, total
}

func stopWithTimeout(t testing.TB, name string, stop func(context.Context) error) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
}

func startCluster(t testing.TB, o controller.Options) *cluster {
	t.Helper()
	return startClusterWith(t, o, apiservertest.Options{})
}

// startClusterWith starts the cluster on a server with so.
func startClusterWith(t testing.TB, o controller.Options, so apiservertest.Options) *cluster {
	t.Helper()
	srv := apiservertest.StartWith(t, so)
	cfg := srv.LoopbackConfig()
	cfg.QPS, cfg.Burst = -1, -1
	wc := &writeCounter{next: cfg.Transport, n: map[string]int{}}
	cfg.Transport = wc
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.Client, o.Log = cs, testenv.Logger()
	// The pod informer reads the server in-process, as stratus up's does.
	lw, err := srv.ListerWatcher("", "v1", "pods")
	if err != nil {
		t.Fatal(err)
	}
	pods := sharedpods.NewFrom(lw)
	stopWithTimeout(t, "pod informer", pods.Stop)
	if os.Getenv("BENCH_UNSHARED_PODS") == "" {
		o.Pods = pods
	}
	cm := controller.New(o)
	if err := cm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopWithTimeout(t, "controllers", cm.Stop)
	testenv.Eventually(t, 20*time.Second, "controllers ready", cm.Ready)
	return &cluster{srv: srv, cs: cs, cm: cm, writes: wc, pods: o.Pods}
}

func (c *cluster) addAgent(t testing.TB, name string, rt runtime.Runtime, timing agent.Timing) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Options{Client: c.cs, NodeName: name, Runtime: rt, Certs: agent.LocalCerts{Issue: c.srv.IssueKubeletServingCert, CA: c.srv.CACert()}, Timing: timing, Log: testenv.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func runningPods(t testing.TB, cs kubernetes.Interface, ns, selector string) []corev1.Pod {
	l, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range l.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func TestReplicationControllerWithClientGo(t *testing.T) {
	c := startCluster(t, controller.Options{})
	a := c.addAgent(t, "node-a", sim.New(sim.Options{}), agent.Timing{})
	stopWithTimeout(t, "agent", a.Stop)
	ctx := context.Background()
	testenv.Eventually(t, 10*time.Second, "node has a pod CIDR", func() bool {
		n, err := c.cs.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
		return err == nil && n.Spec.PodCIDR != ""
	})
	three := int32(3)
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ReplicationControllerSpec{Replicas: &three, Selector: map[string]string{"app": "web"},
			Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}}}
	if _, err := c.cs.CoreV1().ReplicationControllers("default").Create(ctx, rc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "3 running pods", func() bool { return len(runningPods(t, c.cs, "default", "app=web")) == 3 })
	testenv.Eventually(t, 10*time.Second, "rc status ready 3", func() bool {
		got, err := c.cs.CoreV1().ReplicationControllers("default").Get(ctx, "web", metav1.GetOptions{})
		return err == nil && got.Status.ReadyReplicas == 3 && got.Status.AvailableReplicas == 3
	})
	// The controllers' and agent's informers drop managed fields, so their
	// writes carry none: the server keeps the stored entries and adds the
	// writer's, creation's and the status's.
	for _, p := range runningPods(t, c.cs, "default", "app=web") {
		var create, status bool
		for _, e := range p.ManagedFields {
			create = create || (e.Operation == metav1.ManagedFieldsOperationUpdate && e.Subresource == "")
			status = status || (e.Operation == metav1.ManagedFieldsOperationUpdate && e.Subresource == "status")
		}
		if !create || !status {
			t.Errorf("pod %s: managed fields %+v, want the creation's and the status's", p.Name, p.ManagedFields)
		}
	}
}

// TestAgentRestoresOverwrittenStatus: the agent skips recomputing the
// status of a pod on resync while the pod is the version it verified; a
// status someone else overwrites is a new version and is put right, and
// many resyncs in between write nothing.
func TestAgentRestoresOverwrittenStatus(t *testing.T) {
	c := startCluster(t, controller.Options{})
	a := c.addAgent(t, "node-a", sim.New(sim.Options{}), agent.Timing{ResyncInterval: 50 * time.Millisecond})
	stopWithTimeout(t, "agent", a.Stop)
	ctx := context.Background()
	testenv.Eventually(t, 10*time.Second, "node has a pod CIDR", func() bool {
		n, err := c.cs.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
		return err == nil && n.Spec.PodCIDR != ""
	})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	if _, err := c.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	get := func() *corev1.Pod {
		p, err := c.cs.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	testenv.Eventually(t, 10*time.Second, "pod running", func() bool { return get().Status.Phase == corev1.PodRunning })
	for i := range 3 {
		time.Sleep(200 * time.Millisecond) // several resyncs
		p := get()
		rv := p.ResourceVersion
		p.Status.Phase = corev1.PodPending
		p.Status.Message = fmt.Sprint("overwritten ", i)
		upd, err := c.cs.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("overwrite %d (pod was at %s, resyncs wrote nothing): %v", i, rv, err)
		}
		testenv.Eventually(t, 10*time.Second, "status restored", func() bool {
			p := get()
			return p.Status.Phase == corev1.PodRunning && p.Status.Message == "" && p.ResourceVersion != upd.ResourceVersion
		})
	}
}
