package e2e

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestNamespaceDeletionEmptiesEveryKind: deleting a namespace deletes all
// it holds, of every kind the API serves (custom resources too), as
// kube-controller-manager's namespace controller; a namespace made again
// with the same name starts empty.
func TestNamespaceDeletionEmptiesEveryKind(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, controller.Options{})
	cfg := apiservertest.RESTConfig(t, c.srv)
	createCRD(t, cfg, "widgets", "Widget")
	widgets := dynamic.NewForConfigOrDie(cfg).Resource(schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}).Namespace("doomed")

	const ns = "doomed"
	cs := c.cs
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	meta := metav1.ObjectMeta{Name: "x", Namespace: ns}
	labels := map[string]string{"app": "x"}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	creates := []struct {
		what   string
		create func() error
		gone   func() bool
	}{
		{"PersistentVolumeClaim", func() error {
			_, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: meta, Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}, metav1.CreateOptions{})
			return err
		}, func() bool {
			l, _ := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			return l != nil && len(l.Items) == 0
		}},
		{"Job", func() error {
			_, err := cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Suspend: ptr.To(true), Template: tmpl}}, metav1.CreateOptions{})
			return err
		}, func() bool {
			l, _ := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
			return l != nil && len(l.Items) == 0
		}},
		{"CronJob", func() error {
			_, err := cs.BatchV1().CronJobs(ns).Create(ctx, &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: "@yearly",
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, metav1.CreateOptions{})
			return err
		}, func() bool {
			l, _ := cs.BatchV1().CronJobs(ns).List(ctx, metav1.ListOptions{})
			return l != nil && len(l.Items) == 0
		}},
		{"Role", func() error {
			_, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: meta}, metav1.CreateOptions{})
			return err
		}, func() bool {
			l, _ := cs.RbacV1().Roles(ns).List(ctx, metav1.ListOptions{})
			return l != nil && len(l.Items) == 0
		}},
		{"LimitRange", func() error {
			_, err := cs.CoreV1().LimitRanges(ns).Create(ctx, &corev1.LimitRange{ObjectMeta: meta}, metav1.CreateOptions{})
			return err
		}, func() bool {
			l, _ := cs.CoreV1().LimitRanges(ns).List(ctx, metav1.ListOptions{})
			return l != nil && len(l.Items) == 0
		}},
		{"PodDisruptionBudget", func() error {
			_, err := cs.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: meta,
				Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}}}, metav1.CreateOptions{})
			return err
		}, func() bool {
			l, _ := cs.PolicyV1().PodDisruptionBudgets(ns).List(ctx, metav1.ListOptions{})
			return l != nil && len(l.Items) == 0
		}},
		{"Lease", func() error {
			_, err := cs.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{ObjectMeta: meta}, metav1.CreateOptions{})
			return err
		}, func() bool {
			l, _ := cs.CoordinationV1().Leases(ns).List(ctx, metav1.ListOptions{})
			return l != nil && len(l.Items) == 0
		}},
		{"Widget (a custom resource)", func() error {
			_, err := widgets.Create(ctx, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
				"metadata": map[string]any{"name": "x"}}}, metav1.CreateOptions{})
			return err
		}, func() bool { l, _ := widgets.List(ctx, metav1.ListOptions{}); return l != nil && len(l.Items) == 0 }},
	}
	for _, k := range creates {
		testenv.Eventually(t, 5*time.Second, "a "+k.what+" created", func() bool { return k.create() == nil })
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the namespace gone", func() bool {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range creates {
		if !k.gone() {
			t.Errorf("a %s outlived its namespace", k.what)
		}
	}
}
