package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRankForDeletionCost: among pods alike, a lower
// controller.kubernetes.io/pod-deletion-cost goes first, as in
// kube-controller-manager; scheduling and readiness still come before it.
func TestRankForDeletionCost(t *testing.T) {
	pod := func(name, node, cost string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		if cost != "" {
			p.Annotations = map[string]string{"controller.kubernetes.io/pod-deletion-cost": cost}
		}
		return p
	}
	for _, tc := range []struct {
		name string
		pods []*corev1.Pod
		want string
	}{
		{"lowest cost first", []*corev1.Pod{pod("a", "n", ""), pod("b", "n", "-5"), pod("c", "n", "3")}, "b"},
		{"not an int counts as 0", []*corev1.Pod{pod("a", "n", "x"), pod("b", "n", "1")}, "a"},
		{"unscheduled before cost", []*corev1.Pod{pod("a", "n", "-100"), pod("b", "", "")}, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rankForDeletion(tc.pods, 1)[0].Name; got != tc.want {
				t.Fatalf("first to delete: %s, want %s", got, tc.want)
			}
		})
	}
}
