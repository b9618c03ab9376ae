package controller

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
)

// TestDaemonSetFollowsNodes: one pod per matching node, none on a node the
// selector or an untolerated taint excludes, a pod for a node that joins,
// none left for a node that goes, and the status counters.
func TestDaemonSetFollowsNodes(t *testing.T) {
	ctx := context.Background()
	node := func(name string, lbl map[string]string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbl}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	linux := map[string]string{"kubernetes.io/os": "linux"}
	cs := kubetest.NewClientset(
		node("n1", linux), node("n2", linux),
		node("win", map[string]string{"kubernetes.io/os": "windows"}),
		node("tainted", linux, corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}),
		// Unschedulable and not-ready nodes still run daemons (tolerated).
		node("cordoned", linux, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}),
	)
	startManager(t, cs, clocktesting.NewFakeClock(time.Now()), "daemonset")
	lbl := map[string]string{"app": "agent"}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbl}, Spec: corev1.PodSpec{
				NodeSelector: linux, Containers: []corev1.Container{{Name: "c", Image: "agent"}}}}}}
	if _, err := cs.AppsV1().DaemonSets("default").Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	podNodes := func() string {
		l, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, p := range l.Items {
			n = append(n, p.Spec.NodeName)
		}
		sort.Strings(n)
		return fmt.Sprint(n)
	}
	waitFor(t, "pods on n1, n2, cordoned", func() bool { return podNodes() == "[cordoned n1 n2]" }, podNodes)
	if _, err := cs.CoreV1().Nodes().Create(ctx, node("n3", linux), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod on the new node", func() bool { return podNodes() == "[cordoned n1 n2 n3]" }, podNodes)
	if err := cs.CoreV1().Nodes().Delete(ctx, "n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod of the removed node gone", func() bool { return podNodes() == "[cordoned n2 n3]" }, podNodes)
	waitFor(t, "status", func() bool {
		d, err := cs.AppsV1().DaemonSets("default").Get(ctx, "agent", metav1.GetOptions{})
		return err == nil && d.Status.DesiredNumberScheduled == 3 && d.Status.CurrentNumberScheduled == 3 && d.Status.UpdatedNumberScheduled == 3
	})
	l, _ := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	p := l.Items[0]
	if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "DaemonSet" || p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == "" {
		t.Errorf("pod owner %+v labels %v", ref, p.Labels)
	}
}
