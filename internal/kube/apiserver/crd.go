package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/conversion"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
	"github.com/stratus-cloud/stratus/internal/store"
)

// crdController does in-process what kube-apiserver's apiextensions
// controllers do: it follows the stored CustomResourceDefinitions, accepts
// their names (NamesAccepted, Established), serves the custom resources of
// established ones (discovery, OpenAPI and the REST paths follow at once)
// and, when a CRD is deleted, deletes its objects before letting it go.
// Every server sharing a store runs one, so each serves every CRD.
type crdController struct {
	s   *Server
	res *registry.Resource
	// built keeps each CRD's resources by uid and resourceVersion, so an
	// unchanged CRD keeps its resources (and their field managers).
	built map[string][]*registry.Resource
	// kick asks for another pass (a deletion with objects left).
	kick chan struct{}
	// conv makes the converters of CRDs that convert by webhook.
	conv *converters
}

func (s *Server) newCRDController() *crdController {
	return &crdController{s: s, res: s.reg.Lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
		built: map[string][]*registry.Resource{}, kick: make(chan struct{}, 1), conv: &converters{s: s}}
}

// converters is apiextensions-apiserver's converter factory, which posts
// ConversionReviews to a CRD's webhook (TLS with its caBundle, its
// service resolved as admission webhooks' are), built when the first CRD
// with webhook conversion is served.
type converters struct {
	s    *Server
	once sync.Once
	f    *conversion.CRConverterFactory
	err  error
}

var _ registry.ConverterFactory = (*converters)(nil)

func (c *converters) NewConverter(crd *apiextensionsv1.CustomResourceDefinition) (safe, unsafe runtime.ObjectConvertor, err error) {
	c.once.Do(func() { c.f, c.err = conversion.NewCRConverterFactory(serviceResolver{c.s}, nil) })
	if c.err != nil {
		return nil, nil, c.err
	}
	return c.f.NewConverter(crd)
}

// sync lists the CRDs, serves what they define and moves their status and
// deletion on. It returns the revision it read at.
func (c *crdController) sync(ctx context.Context) (int64, error) {
	lr, err := c.s.storage.List(ctx, c.res, "", registry.Predicate{}, 0, "")
	if err != nil {
		return 0, err
	}
	crds := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(lr.Items))
	for _, o := range lr.Items {
		crds = append(crds, o.(*apiextensionsv1.CustomResourceDefinition))
	}
	var served []*registry.Resource
	built := map[string][]*registry.Resource{}
	type write struct {
		crd  *apiextensionsv1.CustomResourceDefinition
		want *apiextensionsv1.CustomResourceDefinitionStatus
	}
	var writes []write
	for _, crd := range crds {
		if crd.DeletionTimestamp != nil {
			c.finalize(ctx, crd)
		} else if want := c.status(crd, crds); want != nil {
			// Served before Established is written, so a client that
			// waits for the condition finds the resource.
			writes = append(writes, write{crd, want})
			crd = crd.DeepCopy()
			crd.Status = *want
		}
		if !isEstablished(crd) {
			continue
		}
		key := string(crd.UID) + "/" + crd.ResourceVersion
		rs, ok := c.built[key]
		if !ok {
			if rs, err = registry.CustomResources(crd, c.conv); err != nil {
				c.s.log.Warn("crd: cannot serve", "crd", crd.Name, "err", err)
				continue
			}
		}
		built[key] = rs
		served = append(served, rs...)
	}
	c.built = built
	c.s.reg.SetCustom(served)
	for _, w := range writes {
		if err := c.writeStatus(ctx, w.crd, w.want); err != nil && ctx.Err() == nil {
			c.s.log.Warn("crd: status", "crd", w.crd.Name, "err", err)
		}
	}
	return lr.Rev, nil
}

func isEstablished(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, cond := range crd.Status.Conditions {
		if cond.Type == apiextensionsv1.Established {
			return cond.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

// status returns the status crd should have, or nil when it has it: its
// names accepted unless another CRD of the group holds one of them, then
// Established (the naming and establishing controllers' conditions).
func (c *crdController) status(crd *apiextensionsv1.CustomResourceDefinition, all []*apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinitionStatus {
	want := crd.Status.DeepCopy()
	names := crd.Spec.Names
	if names.Singular == "" {
		names.Singular = lower(names.Kind)
	}
	if names.ListKind == "" {
		names.ListKind = names.Kind + "List"
	}
	conflict := ""
	for _, o := range all {
		if o.UID == crd.UID || o.Spec.Group != crd.Spec.Group || o.CreationTimestamp.After(crd.CreationTimestamp.Time) ||
			(o.CreationTimestamp.Equal(&crd.CreationTimestamp) && o.Name > crd.Name) {
			continue
		}
		on := o.Status.AcceptedNames
		switch {
		case on.Plural == names.Plural:
			conflict = fmt.Sprintf("%q is already in use", names.Plural)
		case on.Kind == names.Kind:
			conflict = fmt.Sprintf("%q is already in use", names.Kind)
		case on.ListKind == names.ListKind:
			conflict = fmt.Sprintf("%q is already in use", names.ListKind)
		}
		if conflict != "" {
			break
		}
	}
	if conflict != "" {
		setCondition(want, apiextensionsv1.NamesAccepted, apiextensionsv1.ConditionFalse, "NameConflict", conflict)
		if !isEstablished(crd) {
			setCondition(want, apiextensionsv1.Established, apiextensionsv1.ConditionFalse, "NotAccepted", "not all names are accepted")
		}
	} else {
		want.AcceptedNames = names
		setCondition(want, apiextensionsv1.NamesAccepted, apiextensionsv1.ConditionTrue, "NoConflicts", "no conflicts found")
		setCondition(want, apiextensionsv1.Established, apiextensionsv1.ConditionTrue, "InitialNamesAccepted", "the initial names have been accepted")
	}
	for _, v := range crd.Spec.Versions {
		if v.Storage && !slices.Contains(want.StoredVersions, v.Name) {
			want.StoredVersions = append(want.StoredVersions, v.Name)
		}
	}
	if equalStatus(want, &crd.Status) {
		return nil
	}
	return want
}

func lower(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

func equalStatus(a, b *apiextensionsv1.CustomResourceDefinitionStatus) bool {
	if !slices.Equal(a.StoredVersions, b.StoredVersions) || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	an, bn := a.AcceptedNames, b.AcceptedNames
	if an.Plural != bn.Plural || an.Singular != bn.Singular || an.Kind != bn.Kind || an.ListKind != bn.ListKind ||
		!slices.Equal(an.ShortNames, bn.ShortNames) || !slices.Equal(an.Categories, bn.Categories) {
		return false
	}
	for i := range a.Conditions {
		x, y := a.Conditions[i], b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message {
			return false
		}
	}
	return true
}

func setCondition(st *apiextensionsv1.CustomResourceDefinitionStatus, t apiextensionsv1.CustomResourceDefinitionConditionType, s apiextensionsv1.ConditionStatus, reason, msg string) {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type == t {
			if c.Status != s {
				c.LastTransitionTime = metav1.Now()
			}
			c.Status, c.Reason, c.Message = s, reason, msg
			return
		}
	}
	st.Conditions = append(st.Conditions, apiextensionsv1.CustomResourceDefinitionCondition{
		Type: t, Status: s, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))})
}

func (c *crdController) writeStatus(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition, want *apiextensionsv1.CustomResourceDefinitionStatus) error {
	_, _, err := c.s.storage.Update(ctx, c.res, "", crd.Name, func(cur runtime.Object) (runtime.Object, error) {
		next := cur.(*apiextensionsv1.CustomResourceDefinition)
		if next.UID != crd.UID {
			return nil, apierrors.NewConflict(c.res.GroupResource(), crd.Name, errors.New("recreated"))
		}
		next.Status = *want
		return next, nil
	}, registry.WriteOptions{Subresource: "status", FieldManager: "apiextensions-apiserver"})
	return err
}

// finalize deletes a deleted CRD's objects, then its cleanup finalizer
// (the real CRD finalizer controller's job).
func (c *crdController) finalize(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) {
	if !slices.Contains(crd.Finalizers, apiextensionsv1.CustomResourceCleanupFinalizer) {
		return
	}
	left := 0
	if isEstablished(crd) {
		rs, err := registry.CustomResources(crd, c.conv)
		if err == nil && len(rs) > 0 {
			// At the storage version when served, as upstream's
			// finalizer: no conversion webhook is called (it is often
			// gone with its operator).
			r := rs[0]
			for _, v := range rs {
				if v.Version == v.Custom.StorageVersion {
					r = v
				}
			}
			lr, err := c.s.storage.List(ctx, r, "", registry.Predicate{}, 0, "")
			if err != nil {
				return
			}
			for _, o := range lr.Items {
				ns, name := registry.ObjectName(o)
				res, err := c.s.storage.Delete(ctx, r, ns, name, nil, registry.WriteOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					c.s.log.Warn("crd: delete instance", "crd", crd.Name, "name", name, "err", err)
				}
				if err == nil && !res.Deleted {
					left++ // finalizers of its own hold it
				}
			}
		}
	}
	if left > 0 {
		go func() { // look again soon
			t := time.NewTimer(time.Second)
			defer t.Stop()
			select {
			case <-t.C:
				select {
				case c.kick <- struct{}{}:
				default:
				}
			case <-ctx.Done():
			}
		}()
		return
	}
	_, _, err := c.s.storage.Update(ctx, c.res, "", crd.Name, func(cur runtime.Object) (runtime.Object, error) {
		next := cur.(*apiextensionsv1.CustomResourceDefinition)
		next.Finalizers = slices.DeleteFunc(next.Finalizers, func(f string) bool { return f == apiextensionsv1.CustomResourceCleanupFinalizer })
		return next, nil
	}, registry.WriteOptions{FieldManager: "apiextensions-apiserver"})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		c.s.log.Warn("crd: remove finalizer", "crd", crd.Name, "err", err)
	}
}

// run follows the CRDs until ctx ends.
func (c *crdController) run(ctx context.Context, rev int64) {
	prefix := registry.Prefix(c.res, "")
	for ctx.Err() == nil {
		ch, err := c.s.opts.Store.Watch(ctx, prefix, store.WatchOptions{Rev: rev + 1})
		if err == nil {
			err = c.follow(ctx, ch)
		}
		if ctx.Err() != nil {
			return
		}
		c.s.log.Debug("crd: relisting", "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		if r, err := c.sync(ctx); err == nil {
			rev = r
		}
	}
}

func (c *crdController) follow(ctx context.Context, ch <-chan store.WatchBatch) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-ch:
			if !ok {
				return errors.New("watch closed")
			}
			if b.Err != nil {
				return b.Err
			}
			if len(b.Events) == 0 {
				continue
			}
		case <-c.kick:
		}
		if _, err := c.sync(ctx); err != nil {
			return err
		}
	}
}
