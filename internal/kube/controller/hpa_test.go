package controller

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/utils/ptr"
)

// TestHPARatePoliciesAndStabilization: the default policies let a scale
// up add max(4 pods, 100%) per 15 s and a scale down remove all; the
// scale-down window keeps the highest recent recommendation.
func TestHPARatePoliciesAndStabilization(t *testing.T) {
	now := time.Unix(1000, 0)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 100}}
	for _, tc := range []struct {
		name             string
		events           []timedReplicas
		current, desired int32
		want             int32
		behavior         *autoscalingv2.HorizontalPodAutoscalerBehavior
	}{
		{name: "up from 1: 4 pods beat 100%", current: 1, desired: 50, want: 5},
		{name: "up from 10: 100% beats 4 pods", current: 10, desired: 50, want: 20},
		{name: "up after a recent scale up counts from before it", current: 5, desired: 50, want: 5,
			events: []timedReplicas{{at: now.Add(-5 * time.Second), replicas: 4}}},
		{name: "an old scale up does not count", current: 5, desired: 50, want: 10,
			events: []timedReplicas{{at: now.Add(-20 * time.Second), replicas: 4}}},
		{name: "down by 100%", current: 10, desired: 1, want: 1},
		{name: "down disabled", current: 10, desired: 1, want: 10, behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: ptr.To(autoscalingv2.DisabledPolicySelect)}}},
		{name: "down by 1 pod a minute", current: 10, desired: 1, want: 9, behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleDown: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hpaController{recs: map[string][]timedReplicas{}, events: map[string][]timedReplicas{"k": tc.events}}
			x := hpa.DeepCopy()
			x.Spec.Behavior = tc.behavior
			if got := h.ratePolicies("k", x, now, tc.current, tc.desired); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
	h := &hpaController{recs: map[string][]timedReplicas{}, events: map[string][]timedReplicas{}}
	steps := []struct {
		after            time.Duration
		current, desired int32
		want             int32
	}{
		{0, 5, 8, 8},                 // up at once (window 0)
		{10 * time.Second, 8, 2, 8},  // down held: 8 was recommended within 300 s
		{400 * time.Second, 8, 2, 2}, // the window has passed
	}
	for i, s := range steps {
		if got := h.stabilize("k", hpa, now.Add(s.after), s.current, s.desired); got != s.want {
			t.Errorf("step %d: got %d, want %d", i, got, s.want)
		}
	}
}
