package compose

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStatusHealth: docker ps's health words for a service with a
// healthcheck: starting until the check passes or its retries have had
// their time, then healthy or unhealthy.
func TestStatusHealth(t *testing.T) {
	started := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	pod := func(probe *corev1.Probe, ready bool) *corev1.Pod {
		return &corev1.Pod{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", ReadinessProbe: probe}}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "db", Ready: ready,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}}},
		}
	}
	check := &corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 2, FailureThreshold: 3} // start_period 5s, interval 2s, retries 3
	for _, tc := range []struct {
		name  string
		p     *corev1.Pod
		after time.Duration
		want  string // the health words after "Up <duration>"
	}{
		{"no healthcheck", pod(nil, false), time.Minute, ""},
		{"passed", pod(check, true), 20 * time.Second, " (healthy)"},
		{"not passed yet", pod(check, false), 10 * time.Second, " (health: starting)"},
		{"retries spent", pod(check, false), 11 * time.Second, " (unhealthy)"},
		{"kubelet defaults", pod(&corev1.Probe{}, false), 29 * time.Second, " (health: starting)"},
		{"kubelet defaults spent", pod(&corev1.Probe{}, false), 31 * time.Second, " (unhealthy)"},
	} {
		want := "Up " + humanDuration(tc.after) + tc.want
		if got := status(tc.p, started.Add(tc.after)); got != want {
			t.Errorf("%s: %q, want %q", tc.name, got, want)
		}
	}
}
