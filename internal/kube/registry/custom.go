package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Custom is what serves one version of a CustomResourceDefinition. Its
// objects are *unstructured.Unstructured, stored as JSON, and everything a
// custom resource's strategy does is apiextensions-apiserver's own code:
// schema validation (with its messages), x-kubernetes-validations (CEL),
// list-type and embedded-metadata checks, pruning, defaulting and the
// printer columns.
type Custom struct {
	// CRD is the definition's name, UID its uid (a recreated CRD is new).
	CRD string
	UID types.UID
	// StorageVersion is the version objects are stored at. With the None
	// strategy an object read at another version only changes apiVersion;
	// with Webhook, conv converts it.
	StorageVersion string
	// Scale is the scale subresource's paths, if served.
	ScaleSpec *apiextensionsv1.CustomResourceSubresourceScale
	// Status: the status subresource is served.
	Status bool
	// V1 is the CRD the resource was built from (for OpenAPI).
	V1 *apiextensionsv1.CustomResourceDefinition

	structural      *structuralschema.Structural
	preserveUnknown bool
	// conv is shared by the CRD's versions when its conversion strategy is
	// Webhook (nil for None).
	conv           *crdConversion
	strategy       crStrategy
	statusStrategy crStrategy
	table          rest.TableConvertor
}

// crStrategy is the part of customresource's strategies Storage calls.
type crStrategy interface {
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
	GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error)
}

// ConverterFactory makes the converter between a CRD's versions: it is
// apiextensions-apiserver's conversion.CRConverterFactory, which the API
// server builds with its service resolver (safe copies its input).
type ConverterFactory interface {
	NewConverter(crd *apiextensionsv1.CustomResourceDefinition) (safe, unsafe runtime.ObjectConvertor, err error)
}

// crdConversion is what the versions of a CRD whose conversion strategy is
// Webhook share: the converter, which posts ConversionReviews to the
// webhook, and each version's structural schema, which the converted
// object is pruned and defaulted with, as kube-apiserver's storage codec
// does (defaults of the version read from storage, then conversion, then
// pruning to the schema of the version converted to).
type crdConversion struct {
	conv            runtime.ObjectConvertor
	schemas         map[string]*structuralschema.Structural
	preserveUnknown bool

	// objects are the converted objects by store key and version, each
	// at the revision it was converted from.
	mu      sync.Mutex
	objects map[convKey]convObject
}

type convKey struct{ key, version string }

type convObject struct {
	rev int64
	obj runtime.Object
}

func (cc *crdConversion) cached(key, version string, rev int64) runtime.Object {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if o, ok := cc.objects[convKey{key, version}]; ok && o.rev == rev {
		return o.obj
	}
	return nil
}

func (cc *crdConversion) keep(key, version string, rev int64, obj runtime.Object) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	k := convKey{key, version}
	if o, ok := cc.objects[k]; !ok || o.rev < rev {
		cc.objects[k] = convObject{rev, obj}
	}
}

// drop forgets a deleted object's conversions.
func (cc *crdConversion) drop(key string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for k := range cc.schemas {
		delete(cc.objects, convKey{key, k})
	}
}

// CustomResources builds the served resources of an accepted CRD: one per
// served version, named by status.acceptedNames. conv makes the converter
// of a CRD whose conversion strategy is Webhook.
func CustomResources(crd *apiextensionsv1.CustomResourceDefinition, conv ConverterFactory) ([]*Resource, error) {
	names := crd.Status.AcceptedNames
	if names.Plural == "" || names.Kind == "" {
		return nil, fmt.Errorf("crd %s: names not accepted", crd.Name)
	}
	if names.ListKind == "" {
		names.ListKind = names.Kind + "List"
	}
	if names.Singular == "" {
		names.Singular = strings.ToLower(names.Kind)
	}
	storage, err := apihelpers.GetCRDStorageVersion(crd)
	if err != nil {
		return nil, err
	}
	var cc *crdConversion
	if crd.Spec.Conversion != nil && crd.Spec.Conversion.Strategy == apiextensionsv1.WebhookConverter {
		if conv == nil {
			return nil, fmt.Errorf("crd %s: no converter for webhook conversion", crd.Name)
		}
		safe, _, err := conv.NewConverter(crd)
		if err != nil {
			return nil, err
		}
		cc = &crdConversion{conv: safe, schemas: map[string]*structuralschema.Structural{}, preserveUnknown: crd.Spec.PreserveUnknownFields,
			objects: map[convKey]convObject{}}
	}
	var out []*Resource
	for _, v := range crd.Spec.Versions {
		if cc != nil {
			s, err := structuralFor(v)
			if err != nil && !crd.Spec.PreserveUnknownFields {
				return nil, fmt.Errorf("crd %s version %s: the server could not properly serve the CR schema: %w", crd.Name, v.Name, err)
			}
			cc.schemas[v.Name] = s
		}
		if !v.Served {
			continue
		}
		r, err := customResource(crd, v, names, storage)
		if err != nil {
			return nil, fmt.Errorf("crd %s version %s: %w", crd.Name, v.Name, err)
		}
		r.Custom.conv = cc
		out = append(out, r)
	}
	return out, nil
}

// structuralFor is the structural schema of version v, defaults pruned as
// the real server serves it (nil without a schema).
func structuralFor(v apiextensionsv1.CustomResourceDefinitionVersion) (*structuralschema.Structural, error) {
	if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
		return nil, nil
	}
	iv := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, iv, nil); err != nil {
		return nil, err
	}
	s, err := structuralschema.NewStructural(iv.OpenAPIV3Schema)
	if err != nil {
		return nil, err
	}
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return nil, err
	}
	return s, nil
}

func customResource(crd *apiextensionsv1.CustomResourceDefinition, v apiextensionsv1.CustomResourceDefinitionVersion, names apiextensionsv1.CustomResourceDefinitionNames, storage string) (*Resource, error) {
	gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: names.Kind}
	namespaced := crd.Spec.Scope == apiextensionsv1.NamespaceScoped
	c := &Custom{CRD: crd.Name, UID: crd.UID, StorageVersion: storage, preserveUnknown: crd.Spec.PreserveUnknownFields, V1: crd}

	var internalSchema *apiextensionsinternal.JSONSchemaProps
	if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
		iv := &apiextensionsinternal.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, iv, nil); err != nil {
			return nil, err
		}
		internalSchema = iv.OpenAPIV3Schema
		s, err := structuralFor(v)
		if err != nil && !crd.Spec.PreserveUnknownFields {
			return nil, fmt.Errorf("the server could not properly serve the CR schema: %w", err)
		}
		c.structural = s
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(internalSchema)
	if err != nil {
		return nil, err
	}
	var statusSpec *apiextensionsinternal.CustomResourceSubresourceStatus
	var statusValidator apiservervalidation.SchemaValidator
	var scaleSpec *apiextensionsinternal.CustomResourceSubresourceScale
	subs := []string(nil)
	if sr := v.Subresources; sr != nil {
		if sr.Status != nil {
			statusSpec = &apiextensionsinternal.CustomResourceSubresourceStatus{}
			c.Status = true
			subs = append(subs, "status")
			if internalSchema != nil {
				if ss, ok := internalSchema.Properties["status"]; ok {
					if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&ss); err != nil {
						return nil, err
					}
				}
			}
		}
		if sr.Scale != nil {
			scaleSpec = &apiextensionsinternal.CustomResourceSubresourceScale{}
			if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceScale_To_apiextensions_CustomResourceSubresourceScale(sr.Scale, scaleSpec, nil); err != nil {
				return nil, err
			}
			c.ScaleSpec = sr.Scale
			subs = append(subs, "scale")
		}
	}
	st := customresource.NewStrategy(schemeForTypes(), namespaced, gvk, validator, statusValidator, c.structural, statusSpec, scaleSpec, v.SelectableFields)
	c.strategy = st
	if statusSpec != nil {
		c.statusStrategy = customresource.NewStatusStrategy(st)
	}
	cols := v.AdditionalPrinterColumns
	if len(cols) == 0 {
		cols = []apiextensionsv1.CustomResourceColumnDefinition{{Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp",
			Description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}}
	}
	if c.table, err = tableconvertor.New(cols); err != nil {
		c.table = nil // an invalid printer specification falls back to default printing, as upstream
	}

	r := &Resource{Group: gvk.Group, Version: gvk.Version, Name: names.Plural, Kind: names.Kind, ListKind: names.ListKind,
		Singular: names.Singular, Namespaced: namespaced, ShortNames: names.ShortNames, Categories: names.Categories,
		Subresources: subs, Custom: c,
		New: func() runtime.Object { return &unstructured.Unstructured{} },
		NewList: func() runtime.Object {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind(names.ListKind))
			return l
		},
		Columns: defaultColumns, Row: defaultRow,
	}
	if c.table != nil {
		if t, err := c.table.ConvertToTable(context.Background(), &unstructured.UnstructuredList{}, nil); err == nil {
			r.Columns = t.ColumnDefinitions
			r.Row = c.row
		}
	}
	r.Fields = func(obj runtime.Object, set fields.Set) {
		if _, fs, err := c.strategy.GetAttrs(obj); err == nil {
			for k, v := range fs {
				set[k] = v
			}
		}
	}
	if c.ScaleSpec != nil {
		r.Scale = c.scaleAccess()
	}
	return r, nil
}

// row prints one object with the CRD's printer columns.
func (c *Custom) row(obj runtime.Object, _ time.Time) []interface{} {
	t, err := c.table.ConvertToTable(context.Background(), obj, nil)
	if err != nil || len(t.Rows) == 0 {
		return defaultRow(obj, time.Now())
	}
	return t.Rows[0].Cells
}

func (c *Custom) scaleAccess() *ScaleAccess {
	path := func(p string) []string { return strings.Split(strings.TrimPrefix(p, "."), ".") }
	return &ScaleAccess{
		Get: func(obj runtime.Object) (int32, int32, string) {
			u := obj.(*unstructured.Unstructured)
			spec, _, _ := unstructured.NestedInt64(u.Object, path(c.ScaleSpec.SpecReplicasPath)...)
			status, _, _ := unstructured.NestedInt64(u.Object, path(c.ScaleSpec.StatusReplicasPath)...)
			sel := ""
			if c.ScaleSpec.LabelSelectorPath != nil {
				sel, _, _ = unstructured.NestedString(u.Object, path(*c.ScaleSpec.LabelSelectorPath)...)
			}
			return int32(spec), int32(status), sel
		},
		Set: func(obj runtime.Object, replicas int32) {
			u := obj.(*unstructured.Unstructured)
			_ = unstructured.SetNestedField(u.Object, int64(replicas), path(c.ScaleSpec.SpecReplicasPath)...)
		},
	}
}

// Coerce does to a decoded custom resource what the real server's decoder
// does: checks and cleans its metadata, prunes fields the schema does not
// declare (returning their paths when track is set), drops nulls the
// schema does not allow, and applies the schema's defaults.
func (c *Custom) Coerce(u *unstructured.Unstructured, track bool) ([]string, error) {
	unknown, err := coerce(u, c.structural, c.preserveUnknown, track)
	if err != nil {
		return nil, err
	}
	if c.structural != nil {
		structuraldefaulting.Default(u.Object, c.structural)
	}
	return unknown, nil
}

// coerce is Coerce without the defaults: what kube-apiserver's schema
// coercion does to an object decoded or converted to the version of s.
func coerce(u *unstructured.Unstructured, s *structuralschema.Structural, preserveUnknown, track bool) ([]string, error) {
	kind, foundKind, _ := unstructured.NestedString(u.Object, "kind")
	apiVersion, foundAPIVersion, _ := unstructured.NestedString(u.Object, "apiVersion")
	om, foundMeta, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: track})
	if err != nil {
		return nil, err
	}
	if !preserveUnknown {
		unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, s, true,
			structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: track})...)
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, s)
	}
	ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, s, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: track})
	if ferr != nil {
		return nil, ferr
	}
	unknown = append(unknown, paths...)
	if foundKind {
		u.SetKind(kind)
	}
	if foundAPIVersion {
		u.SetAPIVersion(apiVersion)
	}
	if foundMeta {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, om); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}

func (c *Custom) strategyFor(sub string) crStrategy {
	if sub == "status" && c.statusStrategy != nil {
		return c.statusStrategy
	}
	return c.strategy
}

// prepareCreate prunes and defaults (when coerce is set: not yet done by
// the decoder, or admission may have changed the object since) and resets
// what a create may not set.
func (c *Custom) prepareCreate(ctx context.Context, obj runtime.Object, coerce bool) error {
	if coerce {
		if _, err := c.Coerce(obj.(*unstructured.Unstructured), false); err != nil {
			return err
		}
	}
	c.strategy.PrepareForCreate(ctx, obj)
	return nil
}

// prepareUpdate is prepareCreate for an update of sub ("" or "status").
func (c *Custom) prepareUpdate(ctx context.Context, obj, old runtime.Object, sub string, coerce bool) error {
	if coerce {
		if _, err := c.Coerce(obj.(*unstructured.Unstructured), false); err != nil {
			return err
		}
	}
	c.strategyFor(sub).PrepareForUpdate(ctx, obj, old)
	return nil
}

func (c *Custom) validate(ctx context.Context, obj, old runtime.Object, sub string) field.ErrorList {
	if old == nil {
		return c.strategy.Validate(ctx, obj)
	}
	return c.strategyFor(sub).ValidateUpdate(ctx, obj, old)
}

// decodeCustom reads a stored custom resource at r's version. With webhook
// conversion, an object stored at another version is defaulted with that
// version's schema, converted and pruned to r's schema, as kube-apiserver's
// storage codec does; with None, only apiVersion changes.
func decodeCustom(r *Resource, data []byte) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	cc := r.Custom.conv
	if cc == nil {
		if r.Custom.structural != nil {
			structuraldefaulting.Default(u.Object, r.Custom.structural)
		}
		return u, nil
	}
	from := u.GroupVersionKind()
	if from.Group != r.Group || from.Version == "" {
		from = schema.GroupVersionKind{Group: r.Group, Version: r.Custom.StorageVersion, Kind: r.Kind}
		u.SetGroupVersionKind(from)
	}
	if s := cc.schemas[from.Version]; s != nil {
		structuraldefaulting.Default(u.Object, s)
	}
	return cc.convert(u, r.GVK().GroupVersion())
}

// encodeCustom writes a custom resource at its storage version, converted
// by the webhook when the CRD asks for one.
func encodeCustom(r *Resource, obj runtime.Object) ([]byte, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("custom resource %s: unexpected %T", r.Kind, obj)
	}
	storage := schema.GroupVersion{Group: r.Group, Version: r.Custom.StorageVersion}
	cp := *u
	cp.Object = make(map[string]interface{}, len(u.Object))
	for k, v := range u.Object {
		cp.Object[k] = v
	}
	cp.SetKind(r.Kind)
	if cc := r.Custom.conv; cc != nil && r.Version != storage.Version {
		cp.SetAPIVersion(r.GVK().GroupVersion().String())
		out, err := cc.convert(&unstructured.Unstructured{Object: cp.Object}, storage)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out.(*unstructured.Unstructured).Object)
	}
	cp.SetAPIVersion(storage.String())
	return json.Marshal(cp.Object)
}

// convert converts u (not changed) to gv, then prunes and coerces the
// result to gv's schema. A failure is what the real server answers: 500
// with the converter's text and no reason.
func (cc *crdConversion) convert(u *unstructured.Unstructured, gv schema.GroupVersion) (runtime.Object, error) {
	if u.GroupVersionKind().GroupVersion() == gv {
		return u, nil
	}
	out, err := cc.conv.ConvertToVersion(u, gv)
	if err != nil {
		return nil, ConversionError(err)
	}
	cu, ok := out.(*unstructured.Unstructured)
	if !ok {
		return nil, ConversionError(fmt.Errorf("CR conversion failed"))
	}
	if _, err := coerce(cu, cc.schemas[gv.Version], cc.preserveUnknown, false); err != nil {
		return nil, ConversionError(err)
	}
	return cu, nil
}

// ConversionError is a failed conversion as kube-apiserver answers it: its
// storage returns the converter's error unwrapped, which the handler turns
// into a 500 Status with that message and no reason.
func ConversionError(err error) error {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return err
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Message: err.Error()}}
}

// Convertor converts objects between the CRD's versions (nil with the
// None strategy: only apiVersion differs).
func (c *Custom) Convertor() runtime.ObjectConvertor {
	if c.conv == nil {
		return nil
	}
	return c.conv.conv
}

// customConvertor is the field managers' converter for custom resources:
// with conversion None a version change only changes apiVersion; with
// Webhook, webhook converts objects of a known version.
type customConvertor struct{ webhook runtime.ObjectConvertor }

func (customConvertor) Convert(in, out, _ interface{}) error {
	return fmt.Errorf("custom resources convert only between versions")
}

func (c customConvertor) ConvertToVersion(in runtime.Object, gv runtime.GroupVersioner) (runtime.Object, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("custom resources are unstructured, not %T", in)
	}
	target, ok := gv.KindForGroupVersionKinds([]schema.GroupVersionKind{u.GroupVersionKind()})
	if !ok {
		return in, nil
	}
	if c.webhook != nil && u.GetAPIVersion() != "" && u.GroupVersionKind() != target {
		return c.webhook.ConvertToVersion(in, gv)
	}
	out := u.DeepCopy()
	out.SetGroupVersionKind(target)
	return out, nil
}

func (customConvertor) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

type customCreater struct{}

func (customCreater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

type noDefaults struct{}

func (noDefaults) Default(runtime.Object) {}

// customSet is the custom resources served now, replaced whole on change.
type customSet struct {
	resources []*Resource
	byGVR     map[schema.GroupVersionResource]*Resource
	byGVK     map[schema.GroupVersionKind]*Resource
	gen       int64
	// equivalents are the built-in and custom resources' (equivalent.go).
	equivalents runtime.EquivalentResourceMapper
}

// SetCustom replaces the served custom resources (every version of every
// established CRD). Readers see either the old set or the new one.
func (g *Registry) SetCustom(rs []*Resource) {
	g.customMu.Lock()
	defer g.customMu.Unlock()
	old := g.custom.Load()
	cs := &customSet{resources: rs, byGVR: map[schema.GroupVersionResource]*Resource{}, byGVK: map[schema.GroupVersionKind]*Resource{}, gen: 1,
		equivalents: newEquivalents(append(append([]*Resource(nil), g.Resources...), rs...))}
	if old != nil {
		cs.gen = old.gen + 1
	}
	for _, r := range rs {
		r.scheme = g.Codecs.Scheme
		cs.byGVR[r.GVR()] = r
		cs.byGVK[r.GVK()] = r
	}
	g.custom.Store(cs)
}

// CustomGeneration changes whenever the set of custom resources does.
func (g *Registry) CustomGeneration() int64 {
	if cs := g.custom.Load(); cs != nil {
		return cs.gen
	}
	return 0
}

// All lists the built-in resources, then the custom ones.
func (g *Registry) All() []*Resource {
	cs := g.custom.Load()
	if cs == nil || len(cs.resources) == 0 {
		return g.Resources
	}
	out := make([]*Resource, 0, len(g.Resources)+len(cs.resources))
	return append(append(out, g.Resources...), cs.resources...)
}

func (g *Registry) lookupCustom(gvr schema.GroupVersionResource) *Resource {
	if cs := g.custom.Load(); cs != nil {
		return cs.byGVR[gvr]
	}
	return nil
}

func (g *Registry) customByKind(gvk schema.GroupVersionKind) *Resource {
	if cs := g.custom.Load(); cs != nil {
		return cs.byGVK[gvk]
	}
	return nil
}
