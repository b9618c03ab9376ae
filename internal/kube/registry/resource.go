package registry

import (
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Resource describes one served resource: its names for discovery, its
// types, and the strategy hooks Storage calls.
type Resource struct {
	Group, Version, Name, Kind, ListKind, Singular string
	Namespaced                                     bool
	ShortNames, Categories                         []string
	// Verbs the main resource serves, when not all eight of a stored
	// resource (namespaces have no deletecollection).
	Verbs []string
	// Subresources served besides the main resource ("status", "scale",
	// "log", "binding", "finalize").
	Subresources []string

	New     func() runtime.Object
	NewList func() runtime.Object

	// HasSpec: the object has a spec whose changes bump metadata.generation.
	HasSpec bool
	// HasStatus: the status subresource owns .status; writes to the main
	// resource keep the stored status.
	HasStatus bool
	// KeepStatusOnCreate keeps the status a client sends on create (nodes).
	KeepStatusOnCreate bool
	// ReturnDeleted: DELETE answers with the object rather than a Status.
	ReturnDeleted bool
	// AllowCreateOnUpdate: a PUT of a missing object creates it (the real
	// strategy's AllowCreateOnUpdate: endpoints, events, leases).
	AllowCreateOnUpdate bool

	// PrepareForCreate sets server-owned fields on a new object.
	PrepareForCreate func(obj runtime.Object)
	// Validate checks an object about to be written; old is nil on create.
	Validate func(obj, old runtime.Object) field.ErrorList
	// NameValidation checks metadata.name.
	NameValidation func(name string, prefix bool) []string

	// Columns and Row print the object as a table row.
	Columns []metav1.TableColumnDefinition
	Row     func(obj runtime.Object, now time.Time) []interface{}
	// Fields adds selectable fields beyond metadata.name/namespace.
	Fields func(obj runtime.Object, set fields.Set)
	// Scale reads and writes replicas for the scale subresource.
	Scale *ScaleAccess
	// Custom is set for a custom resource (one version of a CRD): its
	// objects are unstructured and its strategy is apiextensions-apiserver's.
	Custom *Custom
	// StoredAs, when set, is the resource whose objects these are, served
	// here at another version (versions.go).
	StoredAs *Resource
	// DeducedApply: managed fields use a schema deduced from the objects
	// (lists atomic) since the embedded apply schema lacks the kind (CRDs).
	DeducedApply bool
	// BeforeDelete may change an object a delete is about to remove or
	// mark (a CRD gets its cleanup finalizer); it reports a change.
	BeforeDelete func(obj runtime.Object) bool

	scheme        *runtime.Scheme
	fmOnce        sync.Once
	fmErr         error
	fieldManagers map[string]*managedfields.FieldManager
	// updateManagers track plain updates (no apply) with updateConverter.
	updateManagers map[string]*managedfields.FieldManager
}

// GVK returns the resource's group, version and kind.
func (r *Resource) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// GVR returns the resource's group, version and resource name.
func (r *Resource) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Name}
}

// GroupResource is used in error messages ("pods", "deployments.apps").
func (r *Resource) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Name}
}

// HasSubresource reports whether sub is served.
func (r *Resource) HasSubresource(sub string) bool {
	for _, s := range r.Subresources {
		if s == sub {
			return true
		}
	}
	return false
}

// FieldManager returns the managed-fields tracker for the subresource ("" for
// the main resource), or nil when it has none. Trackers are built on first
// use (they need the apply schema, which is slow to parse).
func (r *Resource) FieldManager(sub string) *managedfields.FieldManager {
	r.fmOnce.Do(func() {
		r.fieldManagers = map[string]*managedfields.FieldManager{}
		r.updateManagers = map[string]*managedfields.FieldManager{}
		subs := []string{""}
		hasStatus := r.HasStatus || (r.Custom != nil && r.Custom.Status)
		if hasStatus {
			subs = append(subs, "status")
		}
		tc := typeConverter()
		var conv runtime.ObjectConvertor = crossGroup{r.scheme}
		var creater runtime.ObjectCreater = r.scheme
		var defaulter runtime.ObjectDefaulter = r.scheme
		utc := updateConverter()
		if r.DeducedApply {
			tc = managedfields.NewDeducedTypeConverter()
			utc = tc
		}
		if r.Custom != nil {
			// Shortcut: the deduced schema (lists are atomic) rather than
			// one built from the CRD's OpenAPI schema.
			tc = managedfields.NewDeducedTypeConverter()
			utc = tc
			conv, creater, defaulter = customConvertor{webhook: r.Custom.Convertor()}, customCreater{}, noDefaults{}
		}
		for _, s := range subs {
			// As in kube-apiserver, the main resource does not own .status and
			// the status subresource does not own .spec.
			var reset map[fieldpath.APIVersion]fieldpath.Filter
			if hasStatus {
				other := "status"
				if s == "status" {
					other = "spec"
				}
				reset = map[fieldpath.APIVersion]fieldpath.Filter{
					fieldpath.APIVersion(r.GVK().GroupVersion().String()): fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie(other))),
				}
			}
			fm, err := managedfields.NewDefaultFieldManager(tc, conv, defaulter, creater, r.GVK(), r.GVK().GroupVersion(), s, reset)
			if err != nil {
				r.fmErr = err
				return
			}
			r.fieldManagers[s] = fm
			um, err := managedfields.NewDefaultFieldManager(utc, conv, defaulter, creater, r.GVK(), r.GVK().GroupVersion(), s, reset)
			if err != nil {
				r.fmErr = err
				return
			}
			r.updateManagers[s] = um
		}
	})
	return r.fieldManagers[sub]
}

// updateFieldManager is FieldManager for plain updates: the same tracking
// without validating the (already valid) objects again.
func (r *Resource) updateFieldManager(sub string) *managedfields.FieldManager {
	if r.FieldManager(sub) == nil {
		return nil
	}
	return r.updateManagers[sub]
}

// ScaleAccess reads and writes replicas of a scalable object.
type ScaleAccess struct {
	Get func(obj runtime.Object) (spec, status int32, selector string)
	Set func(obj runtime.Object, replicas int32)
}

// Registry is the set of served resources, in discovery order.
type Registry struct {
	Codecs    *Codecs
	Resources []*Resource
	byGVR     map[schema.GroupVersionResource]*Resource
	byGVK     map[schema.GroupVersionKind]*Resource

	// custom holds the CRDs' resources (custom.go), replaced whole.
	custom   atomic.Pointer[customSet]
	customMu sync.Mutex
	// builtinEquivalents: equivalent.go, before any CRD is served.
	builtinOnce        sync.Once
	builtinEquivalents runtime.EquivalentResourceMapper
}

// GroupVersions lists the served group versions in discovery order (core first).
func (g *Registry) GroupVersions() []schema.GroupVersion {
	var out []schema.GroupVersion
	seen := map[schema.GroupVersion]bool{}
	for _, r := range g.All() {
		gv := schema.GroupVersion{Group: r.Group, Version: r.Version}
		if !seen[gv] {
			seen[gv] = true
			out = append(out, gv)
		}
	}
	return out
}

// Lookup finds a resource by group, version and plural name.
func (g *Registry) Lookup(group, version, resource string) *Resource {
	gvr := schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
	if r := g.byGVR[gvr]; r != nil {
		return r
	}
	return g.lookupCustom(gvr)
}

// ByKind finds a resource by kind.
func (g *Registry) ByKind(gvk schema.GroupVersionKind) *Resource {
	if r := g.byGVK[gvk]; r != nil {
		return r
	}
	return g.customByKind(gvk)
}

// New builds the registry of every served resource, with field managers
// for server-side apply.
func New(c *Codecs) (*Registry, error) {
	g := &Registry{Codecs: c, byGVR: map[schema.GroupVersionResource]*Resource{}, byGVK: map[schema.GroupVersionKind]*Resource{}}
	ev, hpa := events(), horizontalPodAutoscalers()
	g.Resources = []*Resource{
		componentStatuses(), configMaps(), endpoints(), ev, limitRanges(), namespaces(), nodes(),
		persistentVolumeClaims(), persistentVolumes(), pods(), podTemplates(),
		replicationControllers(), resourceQuotas(), secrets(), serviceAccounts(), services(),
		mutatingWebhookConfigurations(), validatingAdmissionPolicies(), validatingAdmissionPolicyBindings(), validatingWebhookConfigurations(),
		controllerRevisions(), daemonSets(), deployments(), replicaSets(), statefulSets(),
		hpa, horizontalPodAutoscalersV1(hpa),
		cronJobs(), jobs(),
		certificateSigningRequests(),
		leases(), endpointSlices(), eventsV1(ev),
		flowSchemas(), priorityLevelConfigurations(),
		ingressClasses(), ingresses(), ipAddresses(), networkPolicies(), serviceCIDRs(),
		runtimeClasses(),
		podDisruptionBudgets(),
		clusterRoleBindings(), clusterRoles(), roleBindings(), roles(),
		priorityClasses(),
		csiDrivers(), csiNodes(), csiStorageCapacities(), storageClasses(), volumeAttachments(),
		customResourceDefinitions(),
	}
	for _, r := range g.Resources {
		g.byGVR[r.GVR()] = r
		g.byGVK[r.GVK()] = r
		r.scheme = c.Scheme
		if r.StoredAs != nil {
			r.bindStored(c.Scheme)
		}
	}
	Prewarm()
	return g, nil
}
