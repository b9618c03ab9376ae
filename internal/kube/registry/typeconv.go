package registry

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// typeConverter is the structured-merge-diff schema of the stored types
// (client-go's, cut down and embedded: see applyschema.go), which
// server-side apply needs to merge lists by key. It is decoded once per
// process and immutable afterwards: a lazily computed constant, not shared
// mutable state.
var typeConverter = sync.OnceValue(func() managedfields.TypeConverter {
	p, err := applyParser()
	if err != nil {
		panic(err) // the embedded file is checked by TestApplySchemaMatchesClientGo
	}
	return managedfields.NewSchemeTypeConverter(schemeForTypes(), p)
})

// schemeForTypes is only used to look up the Go types of the schema.
func schemeForTypes() *runtime.Scheme { return NewCodecs().Scheme }

// Prewarm starts parsing the apply schema so the first write does not wait.
func Prewarm() { go typeConverter() }

// updateConverter is typeConverter without the schema validation of every
// converted object, for the managed fields of updates only: their objects
// are typed Go values that passed the resource's validation, and the
// validating walk was half the cost of a pod status write. Apply keeps the
// validating converter, since an applied configuration is user input.
var updateConverter = sync.OnceValue(func() managedfields.TypeConverter {
	return &unvalidatedConverter{TypeConverter: typeConverter()}
})

type unvalidatedConverter struct {
	managedfields.TypeConverter
	types sync.Map // schema.GroupVersionKind → typed.ParseableType
}

// ObjectToTyped converts obj without validating it; the first object of a
// kind goes through the validating converter, which finds its schema.
func (c *unvalidatedConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if t, ok := c.types.Load(gvk); ok && !gvk.Empty() {
		pt := t.(typed.ParseableType)
		v, err := value.NewValueReflect(obj)
		if err != nil {
			return nil, err
		}
		return typed.AsTypedUnvalidated(v, pt.Schema, pt.TypeRef), nil
	}
	tv, err := c.TypeConverter.ObjectToTyped(obj, opts...)
	if err == nil && !gvk.Empty() {
		c.types.Store(gvk, typed.ParseableType{Schema: tv.Schema(), TypeRef: tv.TypeRef()})
	}
	return tv, err
}
