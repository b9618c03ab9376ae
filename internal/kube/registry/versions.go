package registry

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stratus-cloud/stratus/internal/store"
)

// A built-in kind served at more than one version keeps its objects at one
// storage version, as kube-apiserver does: a Resource with StoredAs is
// another version of StoredAs's objects, kept in its keys at its version.
// Storage converts through the scheme on every read and write (conversion.go
// registers the functions), and the stored version's strategy (defaulting,
// validation, selectable fields, table) runs on the object converted.

// horizontalPodAutoscalersV1 serves autoscaling/v2's HorizontalPodAutoscalers
// at autoscaling/v1.
func horizontalPodAutoscalersV1(v2 *Resource) *Resource {
	return otherVersion[autoscalingv1.HorizontalPodAutoscaler, autoscalingv1.HorizontalPodAutoscalerList](v2, "autoscaling", "v1")
}

// eventsV1 serves core/v1 Events at events.k8s.io/v1 (short name "ev" at
// both, as a v1.33 server has it).
func eventsV1(core *Resource) *Resource {
	r := otherVersion[eventsv1.Event, eventsv1.EventList](core, "events.k8s.io", "v1")
	r.Validate = validateEventV1Create
	return r
}

// validateEventV1Create is what kube-apiserver asks more of an Event
// created at events.k8s.io/v1 than at core/v1 (ValidateEventCreate's
// strict part): the reporting fields, an eventTime, no deprecated fields.
func validateEventV1Create(obj, old runtime.Object) field.ErrorList {
	if old != nil {
		return nil
	}
	e := obj.(*eventsv1.Event)
	var errs field.ErrorList
	required := func(name, v string, limit int) {
		switch {
		case v == "":
			errs = append(errs, field.Required(field.NewPath(name), ""))
		case limit > 0 && len(v) > limit:
			errs = append(errs, field.Invalid(field.NewPath(name), "", fmt.Sprintf("can have at most %d characters", limit)))
		}
	}
	required("reportingController", e.ReportingController, 0)
	if e.ReportingController != "" {
		for _, msg := range validation.IsQualifiedName(e.ReportingController) {
			errs = append(errs, field.Invalid(field.NewPath("reportingController"), e.ReportingController, msg))
		}
	}
	required("reportingInstance", e.ReportingInstance, 128)
	required("action", e.Action, 128)
	required("reason", e.Reason, 128)
	if len(e.Note) > 1024 {
		errs = append(errs, field.Invalid(field.NewPath("note"), "", "can have at most 1024 characters"))
	}
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.Type != "Normal" && e.Type != "Warning" {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", "has invalid value: "+e.Type))
	}
	if !e.DeprecatedFirstTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedFirstTimestamp"), "", "needs to be unset"))
	}
	if !e.DeprecatedLastTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedLastTimestamp"), "", "needs to be unset"))
	}
	if e.DeprecatedCount != 0 {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedCount"), "", "needs to be unset"))
	}
	if e.DeprecatedSource.Component != "" || e.DeprecatedSource.Host != "" {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedSource"), "", "needs to be unset"))
	}
	return errs
}

// otherVersion declares stored's objects served at group and version with
// the Go types T and L.
func otherVersion[T, L any, PT interface {
	*T
	runtime.Object
}, PL interface {
	*L
	runtime.Object
}](stored *Resource, group, version string) *Resource {
	r := declare[T, L, PT, PL](group, version, stored.Name, stored.Kind, stored.Namespaced)
	r.StoredAs = stored
	r.Singular = stored.Singular
	r.ShortNames, r.Categories = stored.ShortNames, stored.Categories
	r.Subresources = slices.Clone(stored.Subresources)
	r.HasSpec, r.HasStatus, r.KeepStatusOnCreate = stored.HasSpec, stored.HasStatus, stored.KeepStatusOnCreate
	r.ReturnDeleted, r.AllowCreateOnUpdate = stored.ReturnDeleted, stored.AllowCreateOnUpdate
	r.NameValidation = stored.NameValidation
	r.Columns = stored.Columns
	return r
}

// storageResource is the resource whose keys and encoding r's objects use.
func (r *Resource) storageResource() *Resource {
	if r.StoredAs != nil {
		return r.StoredAs
	}
	return r
}

// bindStored sets r's strategy to its stored version's, converting through
// s (called once the scheme is known).
func (r *Resource) bindStored(s *runtime.Scheme) {
	st := r.StoredAs
	conv := crossGroup{s}
	toStored := func(obj runtime.Object) (runtime.Object, error) {
		return conv.ConvertToVersion(obj, st.GVK().GroupVersion())
	}
	if st.PrepareForCreate != nil {
		r.PrepareForCreate = func(obj runtime.Object) {
			o, err := toStored(obj)
			if err != nil {
				return // Validate reports it
			}
			st.PrepareForCreate(o)
			back, err := conv.ConvertToVersion(o, r.GVK().GroupVersion())
			if err != nil {
				return
			}
			reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(back).Elem())
			obj.GetObjectKind().SetGroupVersionKind(r.GVK())
		}
	}
	var validateStored func(obj, old runtime.Object) field.ErrorList
	own := r.Validate
	r.Validate = func(obj, old runtime.Object) field.ErrorList {
		var errs field.ErrorList
		if own != nil {
			errs = own(obj, old)
		}
		return append(errs, validateStored(obj, old)...)
	}
	validateStored = func(obj, old runtime.Object) field.ErrorList {
		o, err := toStored(obj)
		if err != nil {
			return field.ErrorList{field.Invalid(field.NewPath("metadata", "annotations"), nil, err.Error())}
		}
		if st.Validate == nil {
			return nil
		}
		var so runtime.Object
		if old != nil {
			if so, err = toStored(old); err != nil {
				return field.ErrorList{field.InternalError(nil, err)}
			}
		}
		return st.Validate(o, so)
	}
	if st.Fields != nil {
		r.Fields = func(obj runtime.Object, set fields.Set) {
			if o, err := toStored(obj); err == nil {
				st.Fields(o, set)
			}
		}
	}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		o, err := toStored(obj)
		if err != nil {
			return defaultRow(obj, now)
		}
		return st.Row(o, now)
	}
}

// decodeOther reads an object of r, another version of the objects of
// r.StoredAs: decoded (and cached) at the stored version, then converted.
// Each read converts anew (the result is the caller's).
func (st *Storage) decodeOther(r *Resource, kv *store.KV) (runtime.Object, error) {
	obj, err := st.Decode(r.StoredAs, kv)
	if err != nil {
		return nil, err
	}
	out, err := crossGroup{st.Reg.Codecs.Scheme}.ConvertToVersion(obj, r.GVK().GroupVersion())
	if err != nil {
		return nil, internalError(fmt.Errorf("convert %s to %s: %w", kv.Key, r.GVK().GroupVersion(), err))
	}
	return out, nil
}

// encodeOther encodes obj of r at the stored version, defaulted there as
// the real server's storage decoding defaults it.
func (st *Storage) encodeOther(r *Resource, obj runtime.Object) ([]byte, error) {
	out, err := crossGroup{st.Reg.Codecs.Scheme}.ConvertToVersion(obj, r.StoredAs.GVK().GroupVersion())
	if err != nil {
		return nil, err
	}
	st.Reg.Codecs.Scheme.Default(out)
	return st.encode(r.StoredAs, out)
}

// crossGroup is the scheme as an ObjectConvertor that also converts a kind
// to the same kind in another group (core/v1 and events.k8s.io/v1 Events):
// a plain GroupVersion target only finds kinds of its own group. Managed
// fields convert with it too, since an Event's managedFields may name
// either group.
type crossGroup struct{ *runtime.Scheme }

func (c crossGroup) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	if gv, ok := target.(schema.GroupVersion); ok {
		if kinds, _, err := c.ObjectKinds(in); err == nil && len(kinds) > 0 && kinds[0].Group != gv.Group {
			k := kinds[0]
			target = runtime.NewMultiGroupVersioner(gv, schema.GroupKind{Group: k.Group, Kind: k.Kind})
		}
	}
	return c.Scheme.ConvertToVersion(in, target)
}
