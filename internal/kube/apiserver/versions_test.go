package apiserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestHPAAtTwoVersions: an HPA written at autoscaling/v2 reads at v1 with
// the CPU target in its fields and the rest in upstream's annotations; one
// written at v1 reads at v2 with the metric (and v2's defaults), and an
// update at v1 keeps what only v2 can say.
func TestHPAAtTwoVersions(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx := context.Background()
	ref := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	mem := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory,
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(int32(70))}}}
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(int32(55))}}}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "two"},
		Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 4, Metrics: []autoscalingv2.MetricSpec{mem, cpu}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	v1, err := cs.AutoscalingV1().HorizontalPodAutoscalers("default").Get(ctx, "two", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v1.Spec.TargetCPUUtilizationPercentage == nil || *v1.Spec.TargetCPUUtilizationPercentage != 55 || *v1.Spec.MinReplicas != 1 {
		t.Errorf("v1 spec: %+v", v1.Spec)
	}
	if a := v1.Annotations["autoscaling.alpha.kubernetes.io/metrics"]; !strings.Contains(a, `"name":"memory","targetAverageUtilization":70`) {
		t.Errorf("v1 metrics annotation: %q", a)
	}
	// An update at v1 (a new maximum) keeps the memory metric.
	v1.Spec.MaxReplicas = 6
	if _, err := cs.AutoscalingV1().HorizontalPodAutoscalers("default").Update(ctx, v1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	v2, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").Get(ctx, "two", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Spec.MaxReplicas != 6 || len(v2.Spec.Metrics) != 2 || v2.Spec.Metrics[0].Resource.Name != corev1.ResourceMemory {
		t.Errorf("v2 after a v1 update: %+v", v2.Spec)
	}
	if _, ok := v2.Annotations["autoscaling.alpha.kubernetes.io/metrics"]; ok {
		t.Errorf("v2 carries the round-trip annotation: %v", v2.Annotations)
	}

	// Created at v1 without a target: v2 reads upstream's 80% CPU.
	if _, err := cs.AutoscalingV1().HorizontalPodAutoscalers("default").Create(ctx, &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "one"},
		Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(ref), MaxReplicas: 3},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	one, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").Get(ctx, "one", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Spec.Metrics) != 1 || *one.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 || *one.Spec.MinReplicas != 1 {
		t.Errorf("v2 of a v1 HPA: %+v", one.Spec)
	}
	l, err := cs.AutoscalingV1().HorizontalPodAutoscalers("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("v1 list: %v %+v", err, l)
	}
	// Invalid at v1: the real message, at v2's path.
	_, err = cs.AutoscalingV1().HorizontalPodAutoscalers("default").Create(ctx, &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(ref)},
	}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "spec.maxReplicas") {
		t.Errorf("invalid v1 HPA: %v", err)
	}
}

// TestEventsAtTwoGroups: Events written at core/v1 are watched and read at
// events.k8s.io/v1 and the other way round.
func TestEventsAtTwoGroups(t *testing.T) {
	srv := apiservertest.Start(t)
	cs := clientset(t, apiservertest.RESTConfig(t, srv))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := cs.EventsV1().Events("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	if _, err := cs.CoreV1().Events("default").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"}, Reason: "Started", Message: "started it",
		Type: corev1.EventTypeNormal, Count: 2, FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "kubelet"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		e, ok := ev.Object.(*eventsv1.Event)
		if ev.Type != watch.Added || !ok || e.Note != "started it" || e.Regarding.Name != "p" || e.DeprecatedCount != 2 || e.DeprecatedSource.Component != "kubelet" {
			t.Fatalf("watch event: %s %#v", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("no watch event")
	}
	if _, err := cs.EventsV1().Events("default").Create(ctx, &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e2"},
		EventTime: metav1.NewMicroTime(time.Now()), ReportingController: "example.com/ctl", ReportingInstance: "ctl-1", Action: "Reconcile",
		Reason: "Done", Note: "reconciled", Type: corev1.EventTypeNormal, Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e2, err := cs.CoreV1().Events("default").Get(ctx, "e2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Message != "reconciled" || e2.ReportingController != "example.com/ctl" || e2.InvolvedObject.Name != "p" {
		t.Errorf("core view of an events.k8s.io Event: %+v", e2)
	}
	l, err := cs.EventsV1().Events("").List(ctx, metav1.ListOptions{})
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("events.k8s.io list: %v %d", err, len(l.Items))
	}
}

// TestKubectlTwoVersions drives autoscaling/v1 and events.k8s.io/v1 with
// kubectl: autoscale (which writes autoscaling/v2 on 1.33 and v1 on 1.27),
// get at v1 by its full name, explain, events, api-resources and
// componentstatuses.
func TestKubectlTwoVersions(t *testing.T) {
	for _, v := range []string{"1.27", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			srv := apiservertest.Start(t)
			warmOpenAPI(t, srv)
			k := newKubectl(t, v, srv)
			k.ok("create", "deployment", "web", "--image=nginx")
			contains(t, "autoscale", k.ok("autoscale", "deployment", "web", "--max=5", "--cpu-percent=60"), "horizontalpodautoscaler.autoscaling/web autoscaled")
			// The full resource name: kubectl 1.29 and later expand the
			// short name "hpa.v1.autoscaling" to the preferred version.
			contains(t, "get hpa v1", k.ok("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "yaml"),
				"apiVersion: autoscaling/v1", "targetCPUUtilizationPercentage: 60", "maxReplicas: 5")
			contains(t, "get hpa v2", k.ok("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-o", "yaml"), "apiVersion: autoscaling/v2", "averageUtilization: 60")
			contains(t, "get hpa table", k.ok("get", "horizontalpodautoscalers.v1.autoscaling"), "REFERENCE", "Deployment/web", "cpu: <unknown>/60%")
			contains(t, "explain v1", k.ok("explain", "hpa.spec.targetCPUUtilizationPercentage", "--api-version=autoscaling/v1"), "targetCPUUtilizationPercentage")
			contains(t, "explain events", k.ok("explain", "events.note", "--api-version=events.k8s.io/v1"), "note")
			contains(t, "api-resources", k.ok("api-resources", "--api-group=events.k8s.io"), "events", "ev", "events.k8s.io/v1", "Event")
			contains(t, "api-versions", k.ok("api-versions"), "autoscaling/v1", "autoscaling/v2", "events.k8s.io/v1")
			contains(t, "componentstatuses", k.ok("get", "cs"), "NAME", "STATUS", "scheduler", "Healthy", "etcd-0")
			k.ok("create", "-f", k.file("ev.yaml", "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata:\n  name: ev1\nregarding:\n  kind: Deployment\n  name: web\n  namespace: default\nreason: Tested\nnote: from events.k8s.io\ntype: Normal\neventTime: \"2026-01-01T00:00:00.000000Z\"\nreportingController: example.com/t\nreportingInstance: t-1\naction: Test\n"))
			if v != "1.27" {
				contains(t, "events", k.ok("events"), "Tested", "from events.k8s.io")
			}
			contains(t, "get events", k.ok("get", "events.v1.events.k8s.io", "ev1", "-o", "yaml"), "note: from events.k8s.io", "regarding:")
		})
	}
}
