package registry

import (
	"fmt"
	"math/rand/v2"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/randfill"
)

func convert(t *testing.T, s *runtime.Scheme, in runtime.Object, gv string) runtime.Object {
	t.Helper()
	var target runtime.GroupVersioner
	switch gv {
	case "autoscaling/v1":
		target = autoscalingv1.SchemeGroupVersion
	case "autoscaling/v2":
		target = autoscalingv2.SchemeGroupVersion
	case "v1":
		target = corev1.SchemeGroupVersion
	case "events.k8s.io/v1":
		target = eventsv1.SchemeGroupVersion
	}
	out, err := crossGroup{s}.ConvertToVersion(in, target)
	if err != nil {
		t.Fatalf("convert to %s: %v", gv, err)
	}
	return out
}

func TestHPAConversion(t *testing.T) {
	s := NewCodecs().Scheme
	target := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	memory := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("100Mi"))}}}
	cases := []struct {
		name string
		v2   autoscalingv2.HorizontalPodAutoscaler
		v1   autoscalingv1.HorizontalPodAutoscaler
	}{
		{
			name: "cpu only",
			v2: autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: target, MinReplicas: ptr.To(int32(2)), MaxReplicas: 5, Metrics: []autoscalingv2.MetricSpec{cpuTarget(60)}}},
			v1: autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(target), MinReplicas: ptr.To(int32(2)), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr.To(int32(60))}},
		},
		{
			name: "other metrics and status in annotations",
			v2: autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "b", Annotations: map[string]string{"keep": "me"}},
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: target, MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{memory, cpuTarget(50)}},
				Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 1, DesiredReplicas: 2,
					CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
						Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To(int32(42)), AverageValue: ptr.To(resource.MustParse("21m"))}}}},
					Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededGetScale", Message: "ok"}}}},
			v1: autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "b", Annotations: map[string]string{
				"keep": "me",
				"autoscaling.alpha.kubernetes.io/metrics":         `[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]`,
				"autoscaling.alpha.kubernetes.io/current-metrics": `[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":42,"currentAverageValue":"21m"}}]`,
				"autoscaling.alpha.kubernetes.io/conditions":      `[{"type":"AbleToScale","status":"True","lastTransitionTime":null,"reason":"SucceededGetScale","message":"ok"}]`,
			}}, Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(target), MaxReplicas: 3, TargetCPUUtilizationPercentage: ptr.To(int32(50))},
				Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 1, DesiredReplicas: 2, CurrentCPUUtilizationPercentage: ptr.To(int32(42))}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := convert(t, s, c.v2.DeepCopy(), "autoscaling/v1").(*autoscalingv1.HorizontalPodAutoscaler)
			got.TypeMeta = metav1.TypeMeta{}
			if !apiequality.Semantic.DeepEqual(got, &c.v1) {
				t.Errorf("v2 -> v1:\n%s", diff.Diff(&c.v1, got))
			}
			back := convert(t, s, got, "autoscaling/v2").(*autoscalingv2.HorizontalPodAutoscaler)
			back.TypeMeta = metav1.TypeMeta{}
			if !apiequality.Semantic.DeepEqual(back, &c.v2) {
				t.Errorf("v1 -> v2:\n%s", diff.Diff(&c.v2, back))
			}
		})
	}

	// A v1 HPA without a target gets upstream's implicit 80%; the
	// annotations never reach v2.
	v1 := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: autoscalingv1.HorizontalPodAutoscalerSpec{MaxReplicas: 2}}
	got := convert(t, s, v1, "autoscaling/v2").(*autoscalingv2.HorizontalPodAutoscaler)
	if len(got.Spec.Metrics) != 1 || !isCPUUtilization(got.Spec.Metrics[0]) || *got.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Errorf("default target: %+v", got.Spec.Metrics)
	}
	bad := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "d", Annotations: map[string]string{hpaMetricSpecsAnnotation: "{"}}}
	if _, err := s.ConvertToVersion(bad, autoscalingv2.SchemeGroupVersion); err == nil {
		t.Error("a broken metrics annotation converted")
	}
}

// randomHPA is a v2 HorizontalPodAutoscaler of what autoscaling/v1 can
// carry (through its annotations): well-formed metrics, at most one CPU
// utilization target and that one last, no behavior.
func randomHPA(r *rand.Rand) *autoscalingv2.HorizontalPodAutoscaler {
	q := func() *resource.Quantity { return ptr.To(resource.MustParse(fmt.Sprint(r.IntN(5000)))) }
	u := func() *int32 { return ptr.To(int32(r.IntN(200))) }
	sel := func() *metav1.LabelSelector {
		if r.IntN(2) == 0 {
			return nil
		}
		return &metav1.LabelSelector{MatchLabels: map[string]string{"k": fmt.Sprint(r.IntN(9))}}
	}
	id := func() autoscalingv2.MetricIdentifier {
		return autoscalingv2.MetricIdentifier{Name: fmt.Sprint("m", r.IntN(9)), Selector: sel()}
	}
	ref := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: fmt.Sprint("d", r.IntN(9)), APIVersion: "apps/v1"}
	resTarget := func() autoscalingv2.MetricTarget {
		if r.IntN(2) == 0 {
			return autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: u()}
		}
		return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q()}
	}
	h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "ns", Annotations: map[string]string{"a": "b"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MinReplicas: ptr.To(int32(1 + r.IntN(3))), MaxReplicas: int32(3 + r.IntN(9))}}
	for range r.IntN(4) {
		var m autoscalingv2.MetricSpec
		switch r.IntN(5) {
		case 0:
			m = autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory, Target: resTarget()}}
		case 1:
			m = autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
				Name: corev1.ResourceCPU, Container: "c", Target: resTarget()}}
		case 2:
			m = autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: id(),
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q()}}}
		case 3:
			tg := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q()}
			if r.IntN(2) == 0 {
				tg = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, Value: ptr.To(resource.Quantity{}), AverageValue: q()}
			}
			m = autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{DescribedObject: ref, Metric: id(), Target: tg}}
		case 4:
			tg := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q()}
			if r.IntN(2) == 0 {
				tg = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q()}
			}
			m = autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: id(), Target: tg}}
		}
		h.Spec.Metrics = append(h.Spec.Metrics, m)
	}
	if len(h.Spec.Metrics) == 0 || r.IntN(2) == 0 {
		h.Spec.Metrics = append(h.Spec.Metrics, cpuTarget(int32(1+r.IntN(99))))
	}
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: int32(r.IntN(9)), DesiredReplicas: int32(r.IntN(9)), ObservedGeneration: ptr.To(int64(r.IntN(9)))}
	for range r.IntN(4) {
		var m autoscalingv2.MetricStatus
		switch r.IntN(5) {
		case 0:
			m = autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: u(), AverageValue: q()}}}
		case 1:
			m = autoscalingv2.MetricStatus{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{
				Name: corev1.ResourceMemory, Container: "c", Current: autoscalingv2.MetricValueStatus{AverageValue: q()}}}
		case 2:
			m = autoscalingv2.MetricStatus{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Metric: id(), Current: autoscalingv2.MetricValueStatus{AverageValue: q()}}}
		case 3:
			m = autoscalingv2.MetricStatus{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{DescribedObject: ref, Metric: id(),
				Current: autoscalingv2.MetricValueStatus{Value: q()}}}
		case 4:
			m = autoscalingv2.MetricStatus{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{Metric: id(),
				Current: autoscalingv2.MetricValueStatus{Value: q(), AverageValue: q()}}}
		}
		h.Status.CurrentMetrics = append(h.Status.CurrentMetrics, m)
	}
	for range r.IntN(3) {
		h.Status.Conditions = append(h.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{Type: autoscalingv2.ScalingActive,
			Status: corev1.ConditionFalse, Reason: fmt.Sprint("R", r.IntN(9)), Message: "m", LastTransitionTime: metav1.Unix(int64(r.IntN(1e9)), 0)})
	}
	return h
}

// TestHPARoundTrip: every v2 object autoscaling/v1 can carry comes back
// unchanged from v1.
func TestHPARoundTrip(t *testing.T) {
	s := NewCodecs().Scheme
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		in := randomHPA(r)
		v1 := convert(t, s, in.DeepCopy(), "autoscaling/v1")
		back := convert(t, s, v1, "autoscaling/v2").(*autoscalingv2.HorizontalPodAutoscaler)
		back.TypeMeta = in.TypeMeta
		if len(in.Status.CurrentMetrics) == 0 {
			// v1's currentCPUUtilizationPercentage only comes back as a metric.
			back.Status.CurrentMetrics = nil
		}
		if !apiequality.Semantic.DeepEqual(in, back) {
			t.Fatalf("case %d did not round-trip:\n%s", i, diff.Diff(in, back))
		}
	}
}

// TestEventConversion: core/v1 and events.k8s.io/v1 Events carry the same
// fields, so any Event round-trips both ways.
func TestEventConversion(t *testing.T) {
	s := NewCodecs().Scheme
	f := randfill.NewWithSeed(7).NilChance(0.2).NumElements(0, 2)
	for i := range 500 {
		var in corev1.Event
		f.Fill(&in)
		in.TypeMeta = metav1.TypeMeta{}
		ev := convert(t, s, in.DeepCopy(), "events.k8s.io/v1").(*eventsv1.Event)
		if ev.Note != in.Message || ev.Regarding != in.InvolvedObject || ev.DeprecatedCount != in.Count || ev.ReportingController != in.ReportingController {
			t.Fatalf("case %d: fields not carried over: %+v", i, ev)
		}
		back := convert(t, s, ev, "v1").(*corev1.Event)
		back.TypeMeta = metav1.TypeMeta{}
		if !apiequality.Semantic.DeepEqual(&in, back) {
			t.Fatalf("case %d did not round-trip:\n%s", i, diff.Diff(&in, back))
		}
	}
}
