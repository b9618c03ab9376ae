package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Storage keeps objects of every served resource in the store under
// /registry/<group>/<resource>/[<namespace>/]<name>, encoded as protobuf
// without their resourceVersion (the store's ModRev is the
// resourceVersion), and applies each resource's strategy on writes.
type Storage struct {
	S   store.Store
	Reg *Registry
	// Clock gives the time (tests may replace it).
	Clock clock.PassiveClock
	// GenerateName makes a name from a generateName prefix (tests may
	// replace it).
	GenerateName func(base string) string

	alloc   allocator
	cache   objCache
	fields  fieldsCache
	updates keyCache[*cachedResult]
	// quotaLocks: quota admission (quota.go)
	quotaLocks quotaLocks
}

// NewStorage returns storage for the registry's resources over s.
func NewStorage(s store.Store, reg *Registry) *Storage {
	return &Storage{S: s, Reg: reg, Clock: clock.RealClock{}, GenerateName: generateName, cache: objCache{m: map[string]cacheEntry{}}}
}

// Prefix returns the key prefix of a resource's objects in ns ("" for all
// namespaces or cluster-scoped), with a trailing slash.
func Prefix(r *Resource, ns string) string {
	r = r.storageResource()
	g := r.Group
	if g == "" {
		g = "core"
	}
	p := "/registry/" + g + "/" + r.Name + "/"
	if r.Namespaced && ns != "" {
		p += ns + "/"
	}
	return p
}

// Key returns the store key of one object.
func Key(r *Resource, ns, name string) string { return Prefix(r, ns) + name }

// objCache keeps the latest decoded object per key, so lists and watches
// do not decode an unchanged object twice. Cached objects are shared: never
// mutate them (DeepCopy first).
//
// It also keeps the objects the latest ones replaced, for a while: a watch
// with a selector decodes the previous version of every changed object to
// tell whether it matched before (ADDED, MODIFIED or DELETED), soon after
// the write. Two generations of prevGeneration each bound that memory; a
// lookup that finds neither decodes as before.
type objCache struct {
	mu         sync.RWMutex
	m          map[string]cacheEntry
	prev, prv2 map[keyRev]runtime.Object
	prevSince  time.Time // when prev was started
}

type keyRev struct {
	key string
	rev int64
}

// prevGeneration is how long one generation of replaced objects gathers:
// a replaced object stays one to two of them, longer than a watcher falls
// behind in a burst (10,000 pods scaled at about 7,500 writes a second),
// and what is kept follows the write rate, so an idle cluster (lease
// renewals) keeps little.
const prevGeneration = time.Second

type cacheEntry struct {
	rev  int64
	obj  runtime.Object
	json []byte // obj's JSON encoding, filled on first use
}

func (c *objCache) get(key string, rev int64) runtime.Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[key]
	if ok && e.rev == rev {
		return e.obj
	}
	if ok && e.rev < rev {
		return nil
	}
	if o, ok := c.prev[keyRev{key, rev}]; ok {
		return o
	}
	return c.prv2[keyRev{key, rev}]
}

func (c *objCache) put(key string, rev int64, obj runtime.Object) {
	c.mu.Lock()
	if e, ok := c.m[key]; !ok || e.rev < rev {
		c.m[key] = cacheEntry{rev: rev, obj: obj}
		if ok {
			if now := time.Now(); c.prev == nil || now.Sub(c.prevSince) >= prevGeneration {
				c.prv2, c.prev, c.prevSince = c.prev, make(map[keyRev]runtime.Object, len(c.prev)), now
			}
			c.prev[keyRev{key, e.rev}] = e.obj
		}
	}
	c.mu.Unlock()
}

func (c *objCache) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// Decode returns the object stored in kv with its resourceVersion set. The
// result is shared: callers must not modify it.
func (st *Storage) Decode(r *Resource, kv *store.KV) (runtime.Object, error) {
	if r.StoredAs != nil {
		return st.decodeOther(r, kv)
	}
	gvk := r.GVK()
	if obj := st.cached(r, kv.Key, kv.ModRev); obj != nil {
		switch {
		case r.Custom == nil || obj.GetObjectKind().GroupVersionKind() == gvk:
			return obj, nil
		case r.Custom.conv == nil:
			// Another version of the same objects (conversion None).
			obj = obj.DeepCopyObject()
			obj.GetObjectKind().SetGroupVersionKind(gvk)
			return obj, nil
		}
		// Cached at another version before the CRD converted by
		// webhook: decoded again.
	}
	var out runtime.Object
	var err error
	if r.Custom != nil {
		out, err = decodeCustom(r, kv.Value)
	} else {
		out, _, err = st.Reg.Codecs.Protobuf.Decode(kv.Value, &gvk, r.New())
	}
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			return nil, err // a custom resource's failed conversion, as it is
		}
		return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	out.GetObjectKind().SetGroupVersionKind(gvk)
	m, _ := meta.Accessor(out)
	m.SetResourceVersion(strconv.FormatInt(kv.ModRev, 10))
	st.keep(r, kv.Key, kv.ModRev, out)
	return out, nil
}

// converted is the conversion of r's CRD when r is a version its objects
// are converted to by webhook: its objects are cached there, once per
// version, and go with it when the CRD changes (its webhook may answer
// otherwise), as kube-apiserver's per-version caches are rebuilt.
func converted(r *Resource) *crdConversion {
	if r.Custom != nil && r.Custom.conv != nil && r.Version != r.Custom.StorageVersion {
		return r.Custom.conv
	}
	return nil
}

// cached is the decoded object at key and rev as r reads it, or nil.
func (st *Storage) cached(r *Resource, key string, rev int64) runtime.Object {
	if cc := converted(r); cc != nil {
		return cc.cached(key, r.Version, rev)
	}
	return st.cache.get(key, rev)
}

// keep caches obj, the object at key and rev as r reads it.
func (st *Storage) keep(r *Resource, key string, rev int64, obj runtime.Object) {
	if r.StoredAs != nil {
		return // the cache holds objects at the stored version only
	}
	if cc := converted(r); cc != nil {
		cc.keep(key, r.Version, rev, obj)
		return
	}
	st.cache.put(key, rev, obj)
}

// internalError is err as a 500 Status, unless it already is a Status (a
// custom resource's failed conversion, which the real server answers with
// the converter's text).
func internalError(err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	return apierrors.NewInternalError(err)
}

// DecodeDeleted returns the last state of a deleted object, with the
// deleting revision as its resourceVersion.
func (st *Storage) DecodeDeleted(r *Resource, prev *store.KV, rev int64) (runtime.Object, error) {
	obj, err := st.Decode(r, prev)
	if err != nil {
		return nil, err
	}
	st.cache.drop(prev.Key)
	if r.Custom != nil && r.Custom.conv != nil {
		r.Custom.conv.drop(prev.Key)
	}
	cp := obj.DeepCopyObject()
	m, _ := meta.Accessor(cp)
	m.SetResourceVersion(strconv.FormatInt(rev, 10))
	return cp, nil
}

func (st *Storage) encode(r *Resource, obj runtime.Object) ([]byte, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if r.StoredAs != nil {
		return st.encodeOther(r, obj)
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	if r.Custom != nil {
		data, err := encodeCustom(r, obj)
		m.SetResourceVersion(rv)
		return data, err
	}
	obj.GetObjectKind().SetGroupVersionKind(r.GVK())
	var out encoded
	err = st.Reg.Codecs.Protobuf.EncodeWithAllocator(obj, &out, &out)
	m.SetResourceVersion(rv)
	return out.data, err
}

// encoded receives one protobuf encoding without copying it: it allocates
// the serializer's buffer and keeps that buffer when it is what is written
// (the serializer writes it whole, once); other writes are appended.
type encoded struct {
	buf  []byte // the last buffer handed out
	data []byte
}

func (e *encoded) Allocate(n uint64) []byte {
	e.buf = make([]byte, n)
	return e.buf
}

func (e *encoded) Write(p []byte) (int, error) {
	if e.data == nil && len(p) > 0 && len(e.buf) > 0 && &p[0] == &e.buf[0] {
		e.data = p[:len(p):len(p)]
		return len(p), nil
	}
	e.data = append(e.data, p...)
	return len(p), nil
}

// WriteOptions shape one write.
type WriteOptions struct {
	DryRun bool
	// FieldManager names the writer in managedFields.
	FieldManager string
	// SkipManagedFields: the caller has already tracked fields (apply).
	SkipManagedFields bool
	// Subresource is "" for the main resource, "status", or "binding": a
	// pod's binding, one write that changes both spec (the node) and status
	// (PodScheduled), as the real server's binding does.
	Subresource string
	// CreateIfMissing lets Update create the object (apply, some PUTs).
	CreateIfMissing bool
	// ReadOnlyCurrent: the UpdateFunc only reads the current object (a
	// PUT, which replaces it), so Update hands it the stored object itself
	// instead of a private copy.
	ReadOnlyCurrent bool
	// Admission, when set, is admission control on the write (webhooks
	// and policies, which package apiserver runs).
	Admission Admitter
	// Decoded: the object is as the request's decoder made it, which has
	// already pruned and defaulted a custom resource (Custom.Coerce), so
	// storage does it again only when admission may have changed it.
	Decoded bool
}

// Admitter is admission control on one write, at the points where
// kube-apiserver's storage runs it. old is the stored object (nil on
// create); obj is nil on delete.
type Admitter interface {
	// Mutate may change obj, the object the write asks for, before the
	// resource's strategy prepares and validates it.
	Mutate(ctx context.Context, obj, old runtime.Object) error
	// Validate may refuse the object about to be stored (or deleted).
	Validate(ctx context.Context, obj, old runtime.Object) error
}

// Get returns the stored object (shared; do not modify).
func (st *Storage) Get(ctx context.Context, r *Resource, ns, name string) (runtime.Object, error) {
	kv, err := st.S.Get(ctx, Key(r, ns, name))
	if err != nil {
		return nil, st.storeErr(err, r, name)
	}
	return st.Decode(r, kv)
}

func (st *Storage) storeErr(err error, r *Resource, name string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierrors.NewNotFound(r.GroupResource(), name)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError(err.Error(), 1)
	case errors.Is(err, store.ErrInvalid):
		return errObjectTooLarge() // the only invalid write a valid object makes
	}
	return apierrors.NewInternalError(err)
}

const nameChars = "bcdfghjklmnpqrstvwxz2456789"

func generateName(base string) string {
	if len(base) > 58 {
		base = base[:58]
	}
	b := []byte(base)
	for range 5 {
		b = append(b, nameChars[rand.IntN(len(nameChars))])
	}
	return string(b)
}

// checkNamespace refuses writes into a missing or terminating namespace.
func (st *Storage) checkNamespace(ctx context.Context, r *Resource, ns, name string) error {
	if !r.Namespaced {
		return nil
	}
	nsr := st.Reg.Lookup("", "v1", "namespaces")
	obj, err := st.Get(ctx, nsr, "", ns)
	if err != nil {
		return err
	}
	if n := obj.(*corev1.Namespace); n.Status.Phase == corev1.NamespaceTerminating || n.DeletionTimestamp != nil {
		e := apierrors.NewForbidden(r.GroupResource(), name,
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
		e.ErrStatus.Details.Causes = append(e.ErrStatus.Details.Causes, metav1.StatusCause{
			Type: corev1.NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", ns), Field: "metadata.namespace"})
		return e
	}
	return nil
}

// Create stores a new object. obj is owned by the call.
func (st *Storage) Create(ctx context.Context, r *Resource, obj runtime.Object, o WriteOptions) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	// Mutating admission comes before the strategy, in kube-apiserver's
	// plugin order: the built-in LimitRanger and Priority, then the
	// webhooks, which see a decoded, defaulted object with their changes.
	st.Reg.Codecs.Scheme.Default(obj)
	if err := st.admitLimitRanges(ctx, r, obj); err != nil {
		return nil, err
	}
	if err := st.admitPriority(ctx, r, obj); err != nil {
		return nil, err
	}
	if o.Admission != nil {
		if err := o.Admission.Mutate(ctx, obj, nil); err != nil {
			return nil, err
		}
		st.Reg.Codecs.Scheme.Default(obj) // as upstream defaults a webhook's patched object
	}
	generated := m.GetName() == "" && m.GetGenerateName() != ""
	if generated {
		m.SetName(st.GenerateName(m.GetGenerateName()))
	}
	if !r.Namespaced {
		m.SetNamespace("")
	}
	if m.GetResourceVersion() != "" {
		return nil, apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	now := metav1.NewTime(st.Clock.Now().Truncate(time.Second))
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(now)
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	m.SetGeneration(0)
	if r.HasSpec {
		m.SetGeneration(1)
	}
	if r.HasStatus && !r.KeepStatusOnCreate {
		// Status is the status subresource's; PrepareForCreate resets it.
		setField(obj, "Status", reflect.Zero(fieldOf(obj, "Status").Type()))
	}
	if r.PrepareForCreate != nil {
		r.PrepareForCreate(obj)
	}
	if r.Custom != nil {
		if err := r.Custom.prepareCreate(ctx, obj, !o.Decoded || o.Admission != nil); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
	}
	if errs := st.validate(ctx, r, obj, nil, ""); errs != nil {
		return nil, errs
	}
	if err := st.checkNamespace(ctx, r, m.GetNamespace(), m.GetName()); err != nil {
		return nil, err
	}
	if o.Admission != nil {
		if err := o.Admission.Validate(ctx, obj, nil); err != nil {
			return nil, err
		}
	}
	// ResourceQuota comes last, as it is the last validating plugin upstream.
	quotaDone, err := st.admitQuota(ctx, r, obj, nil)
	if err != nil {
		return nil, err
	}
	defer quotaDone()
	if !o.SkipManagedFields && o.FieldManager != "" {
		obj = st.trackCreate(r, obj, o.FieldManager)
		m, _ = meta.Accessor(obj)
	}
	_, svc := obj.(*corev1.Service) // a retry would take its allocations for requested ones
	for attempt := 1; ; attempt++ {
		out, err := st.commitCreate(ctx, r, obj, m, o)
		if generated && !svc && attempt < maxGenerateNameAttempts && apierrors.IsAlreadyExists(err) {
			// As kube-apiserver (RetryGenerateName): a generated name
			// that is taken is generated again. Five characters of 27
			// make a collision likely among 10,000 pods of one owner.
			m.SetName(st.GenerateName(m.GetGenerateName()))
			continue
		}
		return out, err
	}
}

// maxGenerateNameAttempts is how many names a create with generateName
// tries, as kube-apiserver.
const maxGenerateNameAttempts = 8

func (st *Storage) commitCreate(ctx context.Context, r *Resource, obj runtime.Object, m metav1.Object, o WriteOptions) (runtime.Object, error) {
	key := Key(r, m.GetNamespace(), m.GetName())
	for attempt := 0; ; attempt++ {
		var extra []store.Op
		var al *serviceAllocation
		if svc, ok := obj.(*corev1.Service); ok {
			var err error
			if al, err = st.alloc.allocateService(svc, nil); err != nil {
				return nil, err
			}
			extra = al.ops
		}
		data, err := st.encode(r, obj)
		if err != nil {
			return nil, internalError(err)
		}
		if len(data) > maxObjectSize {
			return nil, errObjectTooLarge()
		}
		if o.DryRun {
			return obj, nil
		}
		res, err := st.S.Txn(ctx, append([]store.Op{store.Create(key, data)}, extra...)...)
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			if ce.Key == key {
				return nil, apierrors.NewAlreadyExists(r.GroupResource(), m.GetName())
			}
			if isAllocKey(ce.Key) && attempt < 1000 {
				if err := retryAllocation(obj.(*corev1.Service), al, ce.Key); err != nil {
					return nil, err
				}
				resetAuto(obj.(*corev1.Service), al)
				continue
			}
		}
		if err != nil {
			return nil, st.storeErr(err, r, m.GetName())
		}
		m.SetResourceVersion(strconv.FormatInt(res.Rev, 10))
		obj.GetObjectKind().SetGroupVersionKind(r.GVK())
		st.keep(r, key, res.Rev, obj)
		return obj, nil
	}
}

func resetAuto(svc *corev1.Service, al *serviceAllocation) {
	if al.autoIP {
		svc.Spec.ClusterIP = ""
		svc.Spec.ClusterIPs = nil
	}
	for _, i := range al.autoPorts {
		svc.Spec.Ports[i].NodePort = 0
	}
}

func (st *Storage) validate(ctx context.Context, r *Resource, obj, old runtime.Object, sub string) error {
	if r.Custom != nil {
		if errs := r.Custom.validate(ctx, obj, old, sub); len(errs) > 0 {
			m, _ := meta.Accessor(obj)
			return apierrors.NewInvalid(r.GVK().GroupKind(), m.GetName(), errs)
		}
		return nil
	}
	m := objMeta(obj)
	errs := validateMeta(r, m)
	if r.Validate != nil {
		errs = append(errs, r.Validate(obj, old)...)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(r.GVK().GroupKind(), m.Name, errs)
	}
	return nil
}

func fieldOf(obj runtime.Object, name string) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByName(name)
}

func setField(obj runtime.Object, name string, v reflect.Value) {
	if f := fieldOf(obj, name); f.IsValid() {
		f.Set(v)
	}
}

// UpdateFunc turns the current object (a private copy; nil when it does
// not exist and creation is allowed) into the desired one.
type UpdateFunc func(cur runtime.Object) (runtime.Object, error)

// Update reads the object, applies fn and writes the result if the object
// did not change meanwhile, retrying otherwise. When the object fn returns
// carries a resourceVersion different from the stored one the answer is
// 409 Conflict. It reports whether the object was created.
func (st *Storage) Update(ctx context.Context, r *Resource, ns, name string, fn UpdateFunc, o WriteOptions) (runtime.Object, bool, error) {
	key := Key(r, ns, name)
	for attempt := 0; attempt < 1000; attempt++ {
		kv, err := st.S.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			if !o.CreateIfMissing {
				return nil, false, apierrors.NewNotFound(r.GroupResource(), name)
			}
			obj, err := fn(nil)
			if err != nil {
				return nil, false, err
			}
			m, _ := meta.Accessor(obj)
			m.SetResourceVersion("")
			out, err := st.Create(ctx, r, obj, o)
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			return out, err == nil, err
		}
		if err != nil {
			return nil, false, st.storeErr(err, r, name)
		}
		cur, err := st.Decode(r, kv)
		if err != nil {
			return nil, false, internalError(err)
		}
		in := cur
		if !o.ReadOnlyCurrent {
			in = cur.DeepCopyObject()
		}
		obj, err := fn(in)
		if err != nil {
			return nil, false, err
		}
		if o.Admission != nil {
			st.Reg.Codecs.Scheme.Default(obj)
			if err := o.Admission.Mutate(ctx, obj, cur); err != nil {
				return nil, false, err
			}
		}
		out, retry, err := st.tryUpdate(ctx, r, kv, cur, obj, o)
		if retry {
			continue
		}
		return out, false, err
	}
	return nil, false, apierrors.NewConflict(r.GroupResource(), name, errors.New("too many concurrent updates"))
}

func (st *Storage) tryUpdate(ctx context.Context, r *Resource, kv *store.KV, cur, obj runtime.Object, o WriteOptions) (runtime.Object, bool, error) {
	cm, _ := meta.Accessor(cur)
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, false, apierrors.NewBadRequest(err.Error())
	}
	name := cm.GetName()
	if rv := m.GetResourceVersion(); rv != "" && rv != cm.GetResourceVersion() {
		return nil, false, apierrors.NewConflict(r.GroupResource(), name,
			errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	}
	if uid := m.GetUID(); uid != "" && uid != cm.GetUID() {
		return nil, false, apierrors.NewConflict(r.GroupResource(), name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", cm.GetUID(), uid))
	}
	if r.Custom != nil {
		// The custom resource strategies below keep status and spec.
	} else if o.Subresource == "status" || o.Subresource == "approval" {
		// The status subresource changes only .status (and a CSR's
		// approval subresource its conditions, which live there).
		next := cur.DeepCopyObject()
		setField(next, "Status", fieldOf(obj, "Status"))
		nm, _ := meta.Accessor(next)
		nm.SetManagedFields(m.GetManagedFields())
		obj, m = next, nm
	} else if o.Subresource == "ephemeralcontainers" {
		// pods/ephemeralcontainers (kubectl debug) adds ephemeral
		// containers and changes nothing else.
		next, err := withEphemeralContainers(cur, obj)
		if err != nil {
			return nil, false, err
		}
		nm, _ := meta.Accessor(next)
		nm.SetManagedFields(m.GetManagedFields())
		obj, m = next, nm
	} else if r.HasStatus && o.Subresource != "binding" {
		setField(obj, "Status", fieldOf(cur, "Status"))
	}
	// Server-owned metadata.
	m.SetName(cm.GetName())
	m.SetNamespace(cm.GetNamespace())
	m.SetUID(cm.GetUID())
	m.SetCreationTimestamp(cm.GetCreationTimestamp())
	m.SetDeletionTimestamp(cm.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(cm.GetDeletionGracePeriodSeconds())
	m.SetGeneration(cm.GetGeneration())
	m.SetResourceVersion(cm.GetResourceVersion())
	m.SetSelfLink("")
	st.Reg.Codecs.Scheme.Default(obj)
	if svc, ok := obj.(*corev1.Service); ok && o.Subresource == "" {
		keepAllocated(svc, cur.(*corev1.Service))
	}
	if sec, ok := obj.(*corev1.Secret); ok && r.PrepareForCreate != nil {
		r.PrepareForCreate(sec) // stringData folds into data on every write
	}
	if r.HasSpec && o.Subresource == "" && !specEqual(fieldOf(obj, "Spec").Interface(), fieldOf(cur, "Spec").Interface()) {
		m.SetGeneration(cm.GetGeneration() + 1)
	}
	if r.Custom != nil {
		if err := r.Custom.prepareUpdate(ctx, obj, cur, o.Subresource, !o.Decoded || o.Admission != nil); err != nil {
			return nil, false, apierrors.NewBadRequest(err.Error())
		}
		m, _ = meta.Accessor(obj)
	}
	if err := st.validate(ctx, r, obj, cur, o.Subresource); err != nil {
		return nil, false, err
	}
	if o.Admission != nil {
		if err := o.Admission.Validate(ctx, obj, cur); err != nil {
			return nil, false, err
		}
	}
	if o.Subresource == "" {
		// ResourceQuota comes last, as on create.
		quotaDone, err := st.admitQuota(ctx, r, obj, cur)
		if err != nil {
			return nil, false, err
		}
		defer quotaDone()
	}
	if !o.SkipManagedFields && o.FieldManager != "" {
		obj = st.trackUpdate(r, cur, obj, o.FieldManager, o.Subresource)
		m, _ = meta.Accessor(obj)
	}
	shareManagedFields(cm, m)
	key := kv.Key
	// An object pending deletion whose last finalizer went away is deleted now.
	if cm.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) == 0 && !namespacePending(obj) &&
		(m.GetDeletionGracePeriodSeconds() == nil || *m.GetDeletionGracePeriodSeconds() == 0) {
		if o.DryRun {
			return obj, false, nil
		}
		ops := []store.Op{store.DeleteAt(key, kv.ModRev)}
		if svc, ok := cur.(*corev1.Service); ok {
			ops = append(ops, releaseService(svc)...)
		}
		res, err := st.S.Txn(ctx, ops...)
		if errors.Is(err, store.ErrConflict) {
			return nil, true, nil
		}
		if err != nil {
			return nil, false, st.storeErr(err, r, name)
		}
		m.SetResourceVersion(strconv.FormatInt(res.Rev, 10))
		return obj, false, nil
	}
	for attempt := 0; attempt < 1000; attempt++ {
		var extra []store.Op
		var al *serviceAllocation
		if svc, ok := obj.(*corev1.Service); ok && o.Subresource == "" {
			if al, err = st.alloc.allocateService(svc, cur.(*corev1.Service)); err != nil {
				return nil, false, err
			}
			extra = al.ops
		}
		data, err := st.encode(r, obj)
		if err != nil {
			return nil, false, internalError(err)
		}
		if len(data) > maxObjectSize {
			return nil, false, errObjectTooLarge()
		}
		if bytes.Equal(data, kv.Value) {
			return cur, false, nil // nothing changed: no write, same resourceVersion
		}
		if o.DryRun {
			return obj, false, nil
		}
		res, err := st.S.Txn(ctx, append([]store.Op{store.Update(key, data, kv.ModRev)}, extra...)...)
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			if ce.Key == key {
				return nil, true, nil
			}
			if isAllocKey(ce.Key) && al != nil {
				if err := retryAllocation(obj.(*corev1.Service), al, ce.Key); err != nil {
					return nil, false, err
				}
				resetAuto(obj.(*corev1.Service), al)
				continue
			}
		}
		if err != nil {
			return nil, false, st.storeErr(err, r, name)
		}
		m.SetResourceVersion(strconv.FormatInt(res.Rev, 10))
		obj.GetObjectKind().SetGroupVersionKind(r.GVK())
		st.keep(r, key, res.Rev, obj)
		return obj, false, nil
	}
	return nil, false, apierrors.NewInternalError(errors.New("could not allocate"))
}

// shareManagedFields points the field sets of obj's managed fields that
// equal one of cur's at cur's: the object stored next holds them once
// instead of again (a binding's copy of the pod, a write that sends the
// managed fields it read, an entry the field manager kept). Neither
// object's field sets are ever changed in place. obj's entries are the
// write's own unless they are cur's very slice, which is left alone.
func shareManagedFields(cur, obj metav1.Object) {
	old, mf := cur.GetManagedFields(), obj.GetManagedFields()
	if len(old) == 0 || len(mf) == 0 || &old[0] == &mf[0] {
		return
	}
	for i := range mf {
		e := &mf[i]
		if e.FieldsV1 == nil {
			continue
		}
		for j := range old {
			if f := old[j].FieldsV1; f != nil && f != e.FieldsV1 && bytes.Equal(f.Raw, e.FieldsV1.Raw) {
				e.FieldsV1 = f
				break
			}
		}
	}
}

// namespacePending: a namespace stays while its spec.finalizers are not done.
func namespacePending(obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

// JSON returns obj's JSON encoding, cached with the decoded object so
// lists and watches encode an unchanged object once.
func (st *Storage) JSON(r *Resource, obj runtime.Object, enc runtime.Encoder) ([]byte, error) {
	ns, name := ObjectName(obj)
	key := Key(r, ns, name)
	st.cache.mu.RLock()
	e, ok := st.cache.m[key]
	st.cache.mu.RUnlock()
	if ok && e.obj == obj && e.json != nil {
		return e.json, nil
	}
	var buf bytes.Buffer
	if err := enc.Encode(obj, &buf); err != nil {
		return nil, err
	}
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if ok && e.obj == obj {
		st.cache.mu.Lock()
		if cur, ok := st.cache.m[key]; ok && cur.obj == obj {
			cur.json = data
			st.cache.m[key] = cur
		}
		st.cache.mu.Unlock()
	}
	return data, nil
}
