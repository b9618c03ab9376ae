package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

// TestEvictionHonoursPDB: the disruption controller keeps a budget's
// status, pods/eviction refuses with 429 and the budget's numbers while no
// disruption is allowed, evicts once one is, and `kubectl drain` evicts a
// node's pods within the budget.
func TestEvictionHonoursPDB(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, controller.Options{})
	timing := agent.Timing{LeaseDuration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	for _, n := range []string{"sim-e1", "sim-e2"} {
		a := c.addAgent(t, n, sim.New(sim.Options{}), timing)
		stopWithTimeout(t, n, a.Stop)
	}
	lbl := map[string]string{"app": "guarded"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbl},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
	if _, err := c.cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	minAv := intstr.FromInt32(2)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAv, Selector: &metav1.LabelSelector{MatchLabels: lbl}}}
	if _, err := c.cs.PolicyV1().PodDisruptionBudgets("default").Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "2 pods ready, budget counted", func() bool {
		p, err := c.cs.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "guarded", metav1.GetOptions{})
		return err == nil && p.Status.CurrentHealthy == 2 && p.Status.DesiredHealthy == 2 && p.Status.ExpectedPods == 2
	})
	pods := runningPods(t, c.cs, "default", "app=guarded")
	evict := func(name string) error {
		return c.cs.PolicyV1().Evictions("default").Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}})
	}
	err := evict(pods[0].Name)
	if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "Cannot evict pod as it would violate the pod's disruption budget.") {
		t.Fatalf("evict under a full budget: %v", err)
	}
	if st, ok := err.(apierrors.APIStatus); !ok || len(st.Status().Details.Causes) == 0 ||
		st.Status().Details.Causes[0].Message != "The disruption budget guarded needs 2 healthy pods and has 2 currently" {
		t.Errorf("429 causes: %+v", err)
	}
	p, _ := c.cs.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "guarded", metav1.GetOptions{})
	one := intstr.FromInt32(1)
	p.Spec.MinAvailable = &one
	if _, err := c.cs.PolicyV1().PodDisruptionBudgets("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "one disruption allowed", func() bool {
		p, err := c.cs.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "guarded", metav1.GetOptions{})
		return err == nil && p.Status.DisruptionsAllowed == 1 && p.Status.ObservedGeneration == p.Generation
	})
	if err := evict(pods[0].Name); err != nil {
		t.Fatalf("evict within the budget: %v", err)
	}
	// The budget is spent until the replacement is ready.
	if err := evict(pods[1].Name); !apierrors.IsTooManyRequests(err) {
		t.Errorf("second eviction: %v, want 429", err)
	}
	testenv.Eventually(t, 30*time.Second, "replacement ready", func() bool {
		p, err := c.cs.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "guarded", metav1.GetOptions{})
		return err == nil && p.Status.CurrentHealthy == 2 && p.Status.DisruptionsAllowed == 1
	})
	k := newKubectl(t, c.srv.KubeconfigPath())
	out := k.must("drain", "sim-e1", "--ignore-daemonsets", "--timeout=60s")
	if !strings.Contains(out, "drained") {
		t.Errorf("drain:\n%s", out)
	}
	for _, p := range runningPods(t, c.cs, "default", "app=guarded") {
		if p.Spec.NodeName == "sim-e1" {
			t.Errorf("pod %s still on the drained node", p.Name)
		}
	}
}
