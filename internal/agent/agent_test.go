package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	k8stesting "k8s.io/client-go/testing"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func startAgent(t *testing.T, cs kubernetes.Interface, rt runtime.Runtime, name string) *Agent {
	t.Helper()
	return startAgentCA(t, cs, rt, name, newTestCA(t))
}

func startAgentCA(t *testing.T, cs kubernetes.Interface, rt runtime.Runtime, name string, ca testCA) *Agent {
	t.Helper()
	a, err := New(Options{Client: cs, NodeName: name, Runtime: rt, Certs: ca.certs(),
		Timing: Timing{BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	// no controller here: give the node its pod CIDR by hand
	ctx := context.Background()
	n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.PodCIDR = "127.128.1.0/24"
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return a
}

func getPod(t *testing.T, cs kubernetes.Interface, name string) *corev1.Pod {
	p, err := cs.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRegistersReadyNodeAndLease(t *testing.T) {
	cs := kubetest.NewClientset()
	startAgent(t, cs, sim.New(sim.Options{}), "n1")
	n, err := cs.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !isReady(&n.Status) || n.Status.DaemonEndpoints.KubeletEndpoint.Port == 0 || n.Status.Allocatable.Pods().Value() != 110 {
		t.Fatalf("node status %+v", n.Status)
	}
	if _, err := cs.CoordinationV1().Leases(LeaseNamespace).Get(context.Background(), "n1", metav1.GetOptions{}); err != nil {
		t.Fatalf("lease: %v", err)
	}
}

func TestRunsPodAndServesLogs(t *testing.T) {
	cs := kubetest.NewClientset()
	ca := newTestCA(t)
	a := startAgentCA(t, cs, sim.New(sim.Options{}), "n1", ca)
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{sim.AnnotationOutput: "hello from sim"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "nginx"}}, RestartPolicy: corev1.RestartPolicyAlways}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "pod running", func() bool {
		p := getPod(t, cs, "web")
		return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
	})
	p := getPod(t, cs, "web")
	if !strings.HasPrefix(p.Status.PodIP, "127.128.1.") || p.Status.HostIP != "127.0.0.1" || p.Status.StartTime == nil {
		t.Fatalf("status %+v", p.Status)
	}
	ready := false
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	if !ready || !p.Status.ContainerStatuses[0].Ready || !strings.HasPrefix(p.Status.ContainerStatuses[0].ContainerID, "sim://") {
		t.Fatalf("not ready: %+v", p.Status)
	}

	// Logs over HTTPS, for the API server's client certificate only; a
	// bearer token counts for nothing, plain HTTP is refused.
	url := fmt.Sprintf("https://%s/containerLogs/default/web/c?tailLines=1", a.LogAddr())
	for _, tc := range []struct {
		name   string
		client *http.Client
		token  string
		code   int
		body   string
	}{
		{"no client cert", ca.client(t, nil), "", 401, ""},
		{"token only", ca.client(t, nil), "secret", 401, ""},
		{"api server", ca.apiServerClient(t), "", 200, "hello from sim\n"},
	} {
		req, _ := http.NewRequest("GET", url, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := tc.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.code || (tc.body != "" && string(b) != tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, resp.StatusCode, b, tc.code, tc.body)
		}
	}
	if resp, err := http.Get("http://" + a.LogAddr().String() + "/containerLogs/default/web/c"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered 200: %q", b)
		}
	}
	other := newTestCA(t)
	if _, err := other.apiServerClient(t).Get(url); err == nil {
		t.Errorf("a client certificate from another CA was accepted")
	}

	// graceful deletion: the agent stops the containers and removes the pod
	p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	if _, err := cs.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "pod removed", func() bool {
		_, err := cs.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

func TestRestartPolicies(t *testing.T) {
	tests := []struct {
		name     string
		policy   corev1.RestartPolicy
		script   string
		phase    corev1.PodPhase
		restarts bool
	}{
		{"never fails", corev1.RestartPolicyNever, "exit 3", corev1.PodFailed, false},
		{"never succeeds", corev1.RestartPolicyNever, "exit 0", corev1.PodSucceeded, false},
		{"on failure succeeds", corev1.RestartPolicyOnFailure, "exit 0", corev1.PodSucceeded, false},
		{"always restarts", corev1.RestartPolicyAlways, "echo x; exit 1", "", true},
		{"on failure restarts", corev1.RestartPolicyOnFailure, "exit 1", "", true},
	}
	cs := kubetest.NewClientset()
	startAgent(t, cs, exec.New(exec.Options{Dir: t.TempDir()}), "n1")
	ctx := context.Background()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprint("p", i)
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
				Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: tc.policy,
					Containers: []corev1.Container{{Name: "c", Image: "sh", Command: []string{"sh", "-c", tc.script}}}}}
			if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if tc.restarts {
				testenv.Eventually(t, 10*time.Second, "restarts", func() bool {
					p := getPod(t, cs, name)
					return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2 &&
						p.Status.ContainerStatuses[0].LastTerminationState.Terminated != nil
				})
				return
			}
			testenv.Eventually(t, 10*time.Second, "phase "+string(tc.phase), func() bool { return getPod(t, cs, name).Status.Phase == tc.phase })
		})
	}
}

// The agent confirms a graceful deletion with one delete, however many
// times the pod is looked at again (its containers' exits, updates) before
// the informer sees it go.
func TestFinalDeleteSentOnce(t *testing.T) {
	cs := kubetest.NewClientset()
	var deletes atomic.Int32
	cs.PrependReactor("delete", "pods", func(k8stesting.Action) (bool, apiruntime.Object, error) {
		deletes.Add(1)
		return true, nil, nil // the pod lingers (a finalizer, a slow watch)
	})
	startAgent(t, cs, sim.New(sim.Options{}), "n1")
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "pod running", func() bool { return getPod(t, cs, "web").Status.Phase == corev1.PodRunning })
	p := getPod(t, cs, "web")
	p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	if _, err := cs.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "final delete", func() bool { return deletes.Load() > 0 })
	for i := range 3 {
		p := getPod(t, cs, "web")
		p.Labels = map[string]string{"touch": fmt.Sprint(i)}
		if _, err := cs.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := deletes.Load(); n != 1 {
		t.Fatalf("%d deletes, want 1", n)
	}
}
