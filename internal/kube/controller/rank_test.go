package controller

import (
	"slices"
	"testing"
	"time"

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

// TestRankForDeletionOrder: unscheduled, pending, unknown, not ready, ready
// for less time, restarted more, newer; pods alike keep their order.
func TestRankForDeletionOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name, node string, phase corev1.PodPhase, readySince time.Time, restarts int32, created time.Time) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
			Spec:   corev1.PodSpec{NodeName: node},
			Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{RestartCount: restarts}}}}
		if !readySince.IsZero() {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readySince)}}
		}
		return p
	}
	run := corev1.PodRunning
	pods := []*corev1.Pod{
		pod("alike1", "n", run, t0, 0, t0),
		pod("old-ready", "n", run, t0.Add(-time.Hour), 0, t0),
		pod("restarted", "n", run, t0, 2, t0),
		pod("newer", "n", run, t0, 0, t0.Add(time.Minute)),
		pod("alike2", "n", run, t0, 0, t0),
		pod("not-ready", "n", run, time.Time{}, 0, t0),
		pod("unknown", "n", corev1.PodUnknown, t0, 0, t0),
		pod("pending", "n", corev1.PodPending, time.Time{}, 0, t0),
		pod("unscheduled", "", corev1.PodPending, time.Time{}, 0, t0),
	}
	want := []string{"unscheduled", "pending", "unknown", "not-ready", "restarted", "newer", "alike1", "alike2", "old-ready"}
	var got []string
	for _, p := range rankForDeletion(pods, len(pods)) {
		got = append(got, p.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
