package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSameStatus: the quick comparison agrees with the semantic one.
func TestSameStatus(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(1_000_000, 0))
	base := func() corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.128.0.2", HostIP: "127.0.0.1", StartTime: &t0,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t0}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Ready: true, ContainerID: "sim://1",
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t0}}}}}
	}
	tests := []struct {
		name   string
		change func(*corev1.PodStatus)
	}{
		{"equal", func(*corev1.PodStatus) {}},
		{"same time in another location", func(s *corev1.PodStatus) { u := metav1.NewTime(t0.UTC()); s.StartTime = &u }},
		{"phase", func(s *corev1.PodStatus) { s.Phase = corev1.PodPending }},
		{"pod IP", func(s *corev1.PodStatus) { s.PodIP = "" }},
		{"condition status", func(s *corev1.PodStatus) { s.Conditions[0].Status = corev1.ConditionFalse }},
		{"condition time", func(s *corev1.PodStatus) { s.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(time.Second)) }},
		{"container state", func(s *corev1.PodStatus) {
			s.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		}},
		{"restarts", func(s *corev1.PodStatus) { s.ContainerStatuses[0].RestartCount = 1 }},
		{"no start time", func(s *corev1.PodStatus) { s.StartTime = nil }},
		{"message", func(s *corev1.PodStatus) { s.Message = "x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			tt.change(&b)
			if got, want := sameStatus(&a, &b), equality.Semantic.DeepEqual(&a, &b); got != want {
				t.Errorf("sameStatus = %v, semantic equality %v", got, want)
			}
		})
	}
}

// TestPodPhase: the phase the kubelet derives from its containers' states
// under each restart policy.
func TestPodPhase(t *testing.T) {
	const (
		always    = corev1.RestartPolicyAlways
		never     = corev1.RestartPolicyNever
		onFailure = corev1.RestartPolicyOnFailure
	)
	tests := []struct {
		name   string
		tally  containerTally
		policy corev1.RestartPolicy
		want   corev1.PodPhase
	}{
		{"no containers", containerTally{}, always, corev1.PodPending},
		{"one waiting", containerTally{total: 2, waiting: 1, running: 1}, always, corev1.PodPending},
		{"running", containerTally{total: 2, running: 2}, never, corev1.PodRunning},
		{"one running one done", containerTally{total: 2, running: 1, stopped: 1, succeeded: 1}, never, corev1.PodRunning},
		{"all succeeded, Never", containerTally{total: 2, stopped: 2, succeeded: 2}, never, corev1.PodSucceeded},
		{"one failed, Never", containerTally{total: 2, stopped: 2, succeeded: 1, failed: 1}, never, corev1.PodFailed},
		{"all succeeded, OnFailure", containerTally{total: 1, stopped: 1, succeeded: 1}, onFailure, corev1.PodSucceeded},
		{"failed, OnFailure restarts", containerTally{total: 1, stopped: 1, failed: 1}, onFailure, corev1.PodRunning},
		{"exited, Always restarts", containerTally{total: 1, stopped: 1, succeeded: 1}, always, corev1.PodRunning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tally.phase(tc.policy); got != tc.want {
				t.Errorf("phase = %s, want %s", got, tc.want)
			}
		})
	}
}
