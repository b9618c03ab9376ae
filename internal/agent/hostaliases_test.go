package agent

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// specRecorder is a sim runtime that keeps the specs it is given and may
// declare a network of its own (as docker does).
type specRecorder struct {
	*sim.Runtime
	own   bool
	mu    sync.Mutex
	specs map[string]runtime.ContainerSpec // by pod name
}

func (r *specRecorder) Info() runtime.Info {
	i := r.Runtime.Info()
	i.Capabilities.OwnNetwork = r.own
	return i
}

func (r *specRecorder) Start(ctx context.Context, s runtime.ContainerSpec, n runtime.Notify) (runtime.Status, error) {
	r.mu.Lock()
	r.specs[s.PodName] = s
	r.mu.Unlock()
	return r.Runtime.Start(ctx, s, n)
}

func (r *specRecorder) spec(pod string) (runtime.ContainerSpec, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.specs[pod]
	return s, ok
}

// TestHostAliasesReachTheRuntime: a pod's hostAliases are in its
// containers' specs; for a runtime with a network of its own, an alias at
// a Service's cluster IP also names the pods the Service selects, and
// others name none.
func TestHostAliasesReachTheRuntime(t *testing.T) {
	for _, own := range []bool{false, true} {
		t.Run(map[bool]string{false: "host loopback", true: "own network"}[own], func(t *testing.T) {
			ctx := context.Background()
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: "default"},
				Spec: corev1.ServiceSpec{ClusterIP: "127.100.0.9", ClusterIPs: []string{"127.100.0.9"}, Selector: map[string]string{"app": "api"},
					Ports: []corev1.ServicePort{{Port: 80}}}}
			headless := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "headless", Namespace: "default"},
				Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "api"}}}
			cs := kubetest.NewClientset(svc, headless)
			rt := &specRecorder{Runtime: sim.New(sim.Options{}), own: own, specs: map[string]runtime.ContainerSpec{}}
			startAgent(t, cs, rt, "n1")
			mk := func(name string, lbl map[string]string, aliases []corev1.HostAlias) {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: lbl},
					Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "nginx"}}, HostAliases: aliases}}
				if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			mk("api", map[string]string{"app": "api"}, nil)
			testenv.Eventually(t, 10*time.Second, "api has its IP", func() bool { return getPod(t, cs, "api").Status.PodIP != "" })
			apiIP := getPod(t, cs, "api").Status.PodIP
			aliases := []corev1.HostAlias{
				{IP: "127.100.0.9", Hostnames: []string{"backend", "b"}},
				{IP: "10.1.2.3", Hostnames: []string{"outside"}},
				{IP: "127.100.0.77", Hostnames: []string{"no-service"}},
			}
			mk("client", nil, aliases)
			var got runtime.ContainerSpec
			testenv.Eventually(t, 10*time.Second, "client started", func() bool {
				var ok bool
				got, ok = rt.spec("client")
				return ok
			})
			if s, _ := rt.spec("api"); s.HostAliases != nil {
				t.Errorf("a pod without aliases: %+v", s.HostAliases)
			}
			if len(got.HostAliases) != 3 {
				t.Fatalf("host aliases %+v", got.HostAliases)
			}
			for i, a := range aliases {
				h := got.HostAliases[i]
				if h.IP != a.IP || !slices.Equal(h.Hostnames, a.Hostnames) {
					t.Errorf("alias %d: %+v, want %+v", i, h, a)
				}
				var want []string
				if own && i == 0 {
					want = []string{apiIP}
				}
				if !slices.Equal(h.Backends, want) {
					t.Errorf("alias %d backends %q, want %q", i, h.Backends, want)
				}
			}
		})
	}
}

// TestBackendsOrder: pods with an IP that are not being deleted, running
// ones first, then by name.
func TestBackendsOrder(t *testing.T) {
	now := metav1.Now()
	pod := func(name, ip string, phase corev1.PodPhase, deleting bool) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{PodIP: ip, Phase: phase}}
		if deleting {
			p.DeletionTimestamp = &now
		}
		return p
	}
	got := backends([]corev1.Pod{
		pod("d", "127.128.0.4", corev1.PodPending, false),
		pod("c", "127.128.0.3", corev1.PodRunning, false),
		pod("b", "", corev1.PodRunning, false),
		pod("a", "127.128.0.1", corev1.PodRunning, true),
		pod("e", "127.128.0.5", corev1.PodRunning, false),
	})
	if want := []string{"127.128.0.3", "127.128.0.5", "127.128.0.4"}; !slices.Equal(got, want) {
		t.Fatalf("backends %q, want %q", got, want)
	}
}
