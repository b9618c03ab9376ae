package apiserver_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

var widgetGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

// TestControllerRuntimeOperator runs a controller-runtime manager whose
// reconciler owns Widgets (unstructured): it watches them and writes their
// status through the status subresource, through create, update and delete.
func TestControllerRuntimeOperator(t *testing.T) {
	srv := apiservertest.Start(t)
	cfg := apiservertest.RESTConfig(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict([]byte(crdYAML), &crd); err != nil {
		t.Fatal(err)
	}
	ext := apiextensionsclient.NewForConfigOrDie(cfg)
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CRD not established: %v", err)
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	var deletes atomic.Int32
	kind := &unstructured.Unstructured{}
	kind.SetGroupVersionKind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"})
	skip := true // names are process-global in controller-runtime; -count=N runs this again
	err = ctrl.NewControllerManagedBy(mgr).For(kind).WithOptions(crcontroller.Options{SkipNameValidation: &skip}).Complete(reconcileFunc(func(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
		w := kind.DeepCopy()
		if err := mgr.GetClient().Get(ctx, req.NamespacedName, w); err != nil {
			if apierrors.IsNotFound(err) {
				deletes.Add(1)
				return ctrl.Result{}, nil
			}
			return ctrl.Result{}, err
		}
		replicas, _, _ := unstructured.NestedInt64(w.Object, "spec", "replicas")
		size, _, _ := unstructured.NestedString(w.Object, "spec", "size")
		if err := unstructured.SetNestedField(w.Object, replicas, "status", "replicas"); err != nil {
			return ctrl.Result{}, err
		}
		if err := unstructured.SetNestedField(w.Object, "Ready-"+size, "status", "phase"); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, mgr.GetClient().Status().Update(ctx, w)
	}))
	if err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() {
		mcancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()

	dyn := dynamic.NewForConfigOrDie(cfg).Resource(widgetGVR).Namespace("default")
	w := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "op1"}, "spec": map[string]any{"replicas": int64(2), "size": "large"}}}
	if _, err := dyn.Create(ctx, w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPhase := func(want string, replicas int64) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			got, err := dyn.Get(ctx, "op1", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			phase, _, _ := unstructured.NestedString(got.Object, "status", "phase")
			r, _, _ := unstructured.NestedInt64(got.Object, "status", "replicas")
			return phase == want && r == replicas, nil
		})
		if err != nil {
			t.Fatalf("status never reached %s/%d: %v", want, replicas, err)
		}
	}
	waitPhase("Ready-large", 2)

	// An update of the spec is reconciled; the status write does not bump
	// the generation, the spec change does.
	got, err := dyn.Get(ctx, "op1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(got.Object, int64(4), "spec", "replicas")
	_ = unstructured.SetNestedField(got.Object, "small", "spec", "size")
	if _, err := dyn.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPhase("Ready-small", 4)
	if got, _ = dyn.Get(ctx, "op1", metav1.GetOptions{}); got.GetGeneration() != 2 {
		t.Errorf("generation = %d, want 2", got.GetGeneration())
	}

	// The CEL rule refuses an update through the operator's client too.
	_ = unstructured.SetNestedField(got.Object, int64(11), "spec", "replicas")
	err = mgr.GetClient().Update(ctx, got)
	if !apierrors.IsInvalid(err) {
		t.Errorf("update past the CEL rule: %v, want Invalid", err)
	}

	if err := dyn.Delete(ctx, "op1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return deletes.Load() > 0, nil
	})
	if err != nil {
		t.Fatal("reconciler never saw the delete")
	}
	var list unstructured.UnstructuredList
	list.SetGroupVersionKind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "WidgetList"})
	if err := mgr.GetAPIReader().List(ctx, &list, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("widgets left: %d", len(list.Items))
	}
}

type reconcileFunc func(ctx context.Context, req ctrl.Request) (ctrl.Result, error)

func (f reconcileFunc) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return f(ctx, req)
}
