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
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
)

// TestStatefulSetOrdered: pods come one at a time in order, each after the
// one before is Ready, with hostname, subdomain and a claim per template;
// a scale down removes the highest ordinal first.
func TestStatefulSetOrdered(t *testing.T) {
	ctx := context.Background()
	cs := kubetest.NewClientset()
	startManager(t, cs, clocktesting.NewFakeClock(time.Now()), "statefulset")
	lbl := map[string]string{"app": "db"}
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(3)), ServiceName: "db-headless", Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbl}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "db", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}}}
	if _, err := cs.AppsV1().StatefulSets("default").Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	names := func() string {
		l, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, p := range l.Items {
			n = append(n, p.Name)
		}
		sort.Strings(n)
		return fmt.Sprint(n)
	}
	ready := func(name string) {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := cs.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "db-0", func() bool { return names() == "[db-0]" }, names)
	time.Sleep(50 * time.Millisecond)
	if got := names(); got != "[db-0]" {
		t.Fatalf("before db-0 is ready: %s", got)
	}
	p, _ := cs.CoreV1().Pods("default").Get(ctx, "db-0", metav1.GetOptions{})
	if p.Spec.Hostname != "db-0" || p.Spec.Subdomain != "db-headless" || p.Labels[statefulSetPodName] != "db-0" {
		t.Errorf("db-0: hostname %q subdomain %q labels %v", p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
	}
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim == nil || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-db-0" {
		t.Errorf("db-0 volumes %+v", p.Spec.Volumes)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data-db-0", metav1.GetOptions{}); err != nil {
		t.Errorf("claim: %v", err)
	}
	ready("db-0")
	waitFor(t, "db-1", func() bool { return names() == "[db-0 db-1]" }, names)
	ready("db-1")
	waitFor(t, "db-2", func() bool { return names() == "[db-0 db-1 db-2]" }, names)
	ready("db-2")
	waitFor(t, "status ready 3", func() bool {
		s, err := cs.AppsV1().StatefulSets("default").Get(ctx, "db", metav1.GetOptions{})
		return err == nil && s.Status.ReadyReplicas == 3 && s.Status.Replicas == 3 && s.Status.UpdatedReplicas == 3
	})
	// The fake clientset's UpdateStatus writes the whole object, so a
	// status write from a sync still running can put back the old spec:
	// the scale is applied again until it holds.
	waitFor(t, "scaled down", func() bool {
		s, err := cs.AppsV1().StatefulSets("default").Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *s.Spec.Replicas != 1 {
			s.Spec.Replicas = ptr.To(int32(1))
			if _, err := cs.AppsV1().StatefulSets("default").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return names() == "[db-0]"
	}, names)
}
