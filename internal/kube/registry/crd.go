package registry

import (
	"context"
	"sync"
	"time"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsinstall "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/install"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// crdScheme converts CRDs to apiextensions' internal version, which its
// validation takes. It is built once and read only: a lazily computed
// constant.
var crdScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	apiextensionsinstall.Install(s)
	return s
})

func toInternalCRD(crd *apiextensionsv1.CustomResourceDefinition) (*apiextensionsinternal.CustomResourceDefinition, error) {
	out := &apiextensionsinternal.CustomResourceDefinition{}
	err := crdScheme().Convert(crd, out, nil)
	return out, err
}

// customResourceDefinitions declares apiextensions.k8s.io/v1 CRDs, checked
// by apiextensions-apiserver's own validation (names, versions, structural
// schemas, defaults, CEL rules, printer columns, subresources).
func customResourceDefinitions() *Resource {
	r := declare[apiextensionsv1.CustomResourceDefinition, apiextensionsv1.CustomResourceDefinitionList]("apiextensions.k8s.io", "v1",
		"customresourcedefinitions", "CustomResourceDefinition", false).withStatus()
	r.ShortNames, r.Categories = []string{"crd", "crds"}, []string{"api-extensions"}
	r.DeducedApply = true // shortcut: apiextensions' apply schema is not embedded
	r.Columns = []metav1.TableColumnDefinition{nameCol(), col("Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0)}
	r.Row = func(obj runtime.Object, _ time.Time) []interface{} {
		m := objMeta(obj)
		return []interface{}{m.Name, m.CreationTimestamp.UTC().Format(time.RFC3339)}
	}
	r.Validate = func(obj, old runtime.Object) field.ErrorList {
		in, err := toInternalCRD(obj.(*apiextensionsv1.CustomResourceDefinition))
		if err != nil {
			return field.ErrorList{field.InternalError(nil, err)}
		}
		if old == nil {
			return crdvalidation.ValidateCustomResourceDefinition(context.Background(), in)
		}
		prev, err := toInternalCRD(old.(*apiextensionsv1.CustomResourceDefinition))
		if err != nil {
			return field.ErrorList{field.InternalError(nil, err)}
		}
		return crdvalidation.ValidateCustomResourceDefinitionUpdate(context.Background(), in, prev)
	}
	r.PrepareForCreate = func(obj runtime.Object) {
		crd := obj.(*apiextensionsv1.CustomResourceDefinition)
		// As the real strategy: the stored versions start with the
		// storage version.
		crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{}
		for _, v := range crd.Spec.Versions {
			if v.Storage {
				crd.Status.StoredVersions = []string{v.Name}
			}
		}
	}
	// A deleted CRD keeps its objects' cleanup finalizer until they are
	// gone (the CRD controller of the API server removes them), as the
	// real CRD storage adds it on delete.
	r.BeforeDelete = func(obj runtime.Object) bool {
		crd := obj.(*apiextensionsv1.CustomResourceDefinition)
		for _, f := range crd.Finalizers {
			if f == apiextensionsv1.CustomResourceCleanupFinalizer {
				return false
			}
		}
		if crd.DeletionTimestamp != nil {
			return false
		}
		crd.Finalizers = append(crd.Finalizers, apiextensionsv1.CustomResourceCleanupFinalizer)
		setCRDCondition(crd, apiextensionsv1.Terminating, apiextensionsv1.ConditionTrue, "InstanceDeletionPending",
			"CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon")
		return true
	}
	return r
}

func setCRDCondition(crd *apiextensionsv1.CustomResourceDefinition, t apiextensionsv1.CustomResourceDefinitionConditionType, s apiextensionsv1.ConditionStatus, reason, msg string) {
	for i := range crd.Status.Conditions {
		c := &crd.Status.Conditions[i]
		if c.Type == t {
			if c.Status != s {
				c.LastTransitionTime = metav1.Now()
			}
			c.Status, c.Reason, c.Message = s, reason, msg
			return
		}
	}
	crd.Status.Conditions = append(crd.Status.Conditions, apiextensionsv1.CustomResourceDefinitionCondition{
		Type: t, Status: s, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()})
}
