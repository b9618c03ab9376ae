package apiserver_test

import (
	"context"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestBindingIsOneWrite binds a pod through client-go and checks that the
// node and the PodScheduled condition arrive in one write, as with the real
// server, so a node agent never acts on a half-bound pod.
func TestBindingIsOneWrite(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	pods := cs.CoreV1().Pods("default")
	p, err := pods.Create(ctx, testPod("bound", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := strconv.ParseInt(p.ResourceVersion, 10, 64)
	if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "bound"},
		Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := pods.Get(ctx, "bound", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.NodeName != "n1" {
		t.Fatalf("nodeName %q", got.Spec.NodeName)
	}
	scheduled := false
	for _, c := range got.Status.Conditions {
		scheduled = scheduled || c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue
	}
	if !scheduled {
		t.Fatalf("no PodScheduled=True: %+v", got.Status.Conditions)
	}
	if after, _ := strconv.ParseInt(got.ResourceVersion, 10, 64); after != before+1 {
		t.Fatalf("binding took %d writes (resourceVersion %d → %d)", after-before, before, after)
	}
	if got.Generation != p.Generation {
		t.Fatalf("binding changed generation %d → %d", p.Generation, got.Generation)
	}
	// A second binding is refused, as the real server does.
	if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "bound"},
		Target: corev1.ObjectReference{Kind: "Node", Name: "n2"}}, metav1.CreateOptions{}); err == nil {
		t.Fatal("rebinding a bound pod succeeded")
	}
}
