package registry

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestUnstructuredManagedFields checks the custom resources' shortcut for
// cached field sets against Unstructured.SetManagedFields.
func TestUnstructuredManagedFields(t *testing.T) {
	raw := []byte(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{".":{},"f:replicas":{},"f:size":{}}}`)
	e := metav1.ManagedFieldsEntry{Manager: "kubectl-create", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "example.com/v1",
		Time: ptrTime(metav1.NewTime(time.Date(2026, 12, 7, 21, 0, 0, 0, time.FixedZone("x", 3600)))), FieldsType: "FieldsV1",
		FieldsV1: &metav1.FieldsV1{Raw: raw}}
	newObj := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "w", "labels": map[string]any{"app": "a"}}, "spec": map[string]any{"replicas": int64(1), "size": "small"}}}
	}
	want := newObj()
	want.SetManagedFields([]metav1.ManagedFieldsEntry{e})

	conv, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&e)
	if err != nil {
		t.Fatal(err)
	}
	got := newObj()
	if !setUnstructuredManaged(got, e, conv["fieldsV1"]) {
		t.Fatal("no metadata")
	}
	if !equality.Semantic.DeepEqual(want.Object, got.Object) {
		t.Fatalf("got\n%#v\nwant\n%#v", got.Object["metadata"], want.Object["metadata"])
	}
	// The cached field set is copied, not shared.
	fv := got.Object["metadata"].(map[string]any)["managedFields"].([]any)[0].(map[string]any)["fieldsV1"].(map[string]any)
	fv["f:spec"] = nil
	if _, ok := conv["fieldsV1"].(map[string]any)["f:spec"].(map[string]any); !ok {
		t.Fatal("the cached field set was changed through an object")
	}
	if mf := newObj(); setUnstructuredManaged(mf, e, conv["fieldsV1"]) && !mf.GetManagedFields()[0].Time.Equal(e.Time) {
		t.Fatalf("time %v, want %v", mf.GetManagedFields()[0].Time, e.Time)
	}
}
