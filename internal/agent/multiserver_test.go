package agent

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/agent/failover"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// An agent given two API servers of one cluster (one store) keeps its node
// Ready, its pods running and their logs served when the server it uses
// stops: heartbeats, pod status and the pod watch carry on through the
// other.
func TestAgentFailsOverToAnotherServer(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	srv1 := apiservertest.StartWith(t, apiservertest.Options{Store: mem})
	srv2 := apiservertest.StartWith(t, apiservertest.Options{Store: mem})
	admin, err := kubernetes.NewForConfig(apiservertest.RESTConfig(t, srv2))
	if err != nil {
		t.Fatal(err)
	}

	servers, err := failover.New([]string{srv1.URL(), srv2.URL()}, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := servers.Config(&rest.Config{BearerToken: srv1.NodeToken(), QPS: -1, Burst: -1,
		TLSClientConfig: rest.TLSClientConfig{CAData: srv1.CACert()}})
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const name = "n1"
	timing := Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond, ResyncInterval: time.Hour}
	a, err := New(Options{Client: cs, NodeName: name, Runtime: sim.New(sim.Options{}), Certs: LocalCerts{Issue: srv1.IssueKubeletServingCert, CA: srv1.CACert()}, Timing: timing})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Stop(sctx)
	})
	// no controller here: the pod CIDR by hand
	n, err := admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.PodCIDR = "127.128.7.0/24"
	if _, err := admin.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	runPod := func(pod string) {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: "default", Annotations: map[string]string{sim.AnnotationOutput: "hello " + pod}},
			Spec: corev1.PodSpec{NodeName: name, Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
		if _, err := admin.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 10*time.Second, pod+" running", func() bool {
			p, err := admin.CoreV1().Pods("default").Get(ctx, pod, metav1.GetOptions{})
			return err == nil && p.Status.Phase == corev1.PodRunning
		})
	}
	renewed := func() time.Time {
		l, err := admin.CoordinationV1().Leases(LeaseNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil || l.Spec.RenewTime == nil {
			return time.Time{}
		}
		return l.Spec.RenewTime.Time
	}
	runPod("before")
	if servers.Current() != srv1.URL() {
		t.Fatalf("agent uses %s before the fault, want %s", servers.Current(), srv1.URL())
	}

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := srv1.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	stopped := time.Now()

	// heartbeats continue: the lease is renewed after the stop, more than once
	var beats []time.Time
	testenv.Eventually(t, 10*time.Second, "lease renewals through the second server", func() bool {
		if r := renewed(); r.After(stopped) && (len(beats) == 0 || r.After(beats[len(beats)-1])) {
			beats = append(beats, r)
		}
		return len(beats) >= 2
	})
	if servers.Current() != srv2.URL() {
		t.Fatalf("agent uses %s after the fault, want %s", servers.Current(), srv2.URL())
	}
	// the pod watch is back: a pod bound now starts
	runPod("after")
	n, err = admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil || !isReady(&n.Status) {
		t.Fatalf("node not Ready after the fault: %v %+v", err, n.Status.Conditions)
	}
	// logs through the API server that is left (it calls the agent)
	for _, pod := range []string{"before", "after"} {
		body, err := admin.CoreV1().Pods("default").GetLogs(pod, &corev1.PodLogOptions{}).Stream(ctx)
		if err != nil {
			t.Fatalf("logs of %s: %v", pod, err)
		}
		b, _ := io.ReadAll(body)
		_ = body.Close()
		if !strings.Contains(string(b), "hello "+pod) {
			t.Fatalf("logs of %s: %q", pod, b)
		}
	}
}
