package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stratus-cloud/stratus/internal/store"
)

// DeleteResult says what a delete did.
type DeleteResult struct {
	// Obj is the object's last state (deleted now) or its state pending
	// deletion (graceful or finalizers).
	Obj runtime.Object
	// Deleted is true when the object is gone from the store.
	Deleted bool
}

// Delete deletes an object: at once when nothing holds it, or by setting
// deletionTimestamp when finalizers (including those the propagation
// policy adds) or a grace period (pods on a node) keep it for a while.
// Namespaces go to phase Terminating and wait for their finalizers.
func (st *Storage) Delete(ctx context.Context, r *Resource, ns, name string, opts *metav1.DeleteOptions, o WriteOptions) (DeleteResult, error) {
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	key := Key(r, ns, name)
	for attempt := 0; attempt < 1000; attempt++ {
		kv, err := st.S.Get(ctx, key)
		if err != nil {
			return DeleteResult{}, st.storeErr(err, r, name)
		}
		cur, err := st.Decode(r, kv)
		if err != nil {
			return DeleteResult{}, internalError(err)
		}
		cm, _ := meta.Accessor(cur)
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != cm.GetUID() {
				return DeleteResult{}, apierrors.NewConflict(r.GroupResource(), name,
					fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, cm.GetUID()))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != cm.GetResourceVersion() {
				return DeleteResult{}, apierrors.NewConflict(r.GroupResource(), name,
					fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, cm.GetResourceVersion()))
			}
		}
		if o.Admission != nil {
			if err := o.Admission.Validate(ctx, nil, cur); err != nil {
				return DeleteResult{}, err
			}
		}
		obj := cur.DeepCopyObject()
		m, _ := meta.Accessor(obj)
		grace := gracePeriod(obj, opts)
		changed := applyPropagation(m, opts)
		if r.BeforeDelete != nil && r.BeforeDelete(obj) {
			changed = true
		}
		nsObj, isNS := obj.(*corev1.Namespace)
		pending := len(m.GetFinalizers()) > 0 || grace > 0 || (isNS && len(nsObj.Spec.Finalizers) > 0)
		if !pending {
			if o.DryRun {
				return DeleteResult{Obj: cur, Deleted: true}, nil
			}
			ops := []store.Op{store.DeleteAt(key, kv.ModRev)}
			if svc, ok := cur.(*corev1.Service); ok {
				ops = append(ops, releaseService(svc)...)
			}
			res, err := st.S.Txn(ctx, ops...)
			if errors.Is(err, store.ErrConflict) {
				continue
			}
			if err != nil {
				return DeleteResult{}, st.storeErr(err, r, name)
			}
			st.cache.drop(key)
			m.SetResourceVersion(strconv.FormatInt(res.Rev, 10))
			return DeleteResult{Obj: obj, Deleted: true}, nil
		}
		now := st.Clock.Now()
		if dt := m.GetDeletionTimestamp(); dt == nil {
			t := metav1.NewTime(now.Add(time.Duration(grace) * time.Second).Truncate(time.Second))
			m.SetDeletionTimestamp(&t)
			m.SetDeletionGracePeriodSeconds(&grace)
			m.SetGeneration(m.GetGeneration() + 1)
			changed = true
		} else if cg := m.GetDeletionGracePeriodSeconds(); cg != nil && grace < *cg {
			// A shorter grace period moves the deadline earlier.
			t := metav1.NewTime(now.Add(time.Duration(grace) * time.Second).Truncate(time.Second))
			if t.Before(dt) {
				m.SetDeletionTimestamp(&t)
			}
			m.SetDeletionGracePeriodSeconds(&grace)
			changed = true
		}
		if isNS && nsObj.Status.Phase != corev1.NamespaceTerminating {
			nsObj.Status.Phase = corev1.NamespaceTerminating
			changed = true
		}
		if !changed {
			return DeleteResult{Obj: cur}, nil
		}
		if grace == 0 && len(m.GetFinalizers()) == 0 && !(isNS && len(nsObj.Spec.Finalizers) > 0) {
			continue // cannot happen: pending implies one of these
		}
		if o.DryRun {
			return DeleteResult{Obj: obj}, nil
		}
		data, err := st.encode(r, obj)
		if err != nil {
			return DeleteResult{}, apierrors.NewInternalError(err)
		}
		res, err := st.S.Txn(ctx, store.Update(key, data, kv.ModRev))
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return DeleteResult{}, st.storeErr(err, r, name)
		}
		m.SetResourceVersion(strconv.FormatInt(res.Rev, 10))
		st.keep(r, key, res.Rev, obj)
		return DeleteResult{Obj: obj}, nil
	}
	return DeleteResult{}, apierrors.NewConflict(r.GroupResource(), name, errors.New("too many concurrent updates"))
}

// gracePeriod is the seconds a pod on a node gets to stop; everything
// else is deleted without grace.
func gracePeriod(obj runtime.Object, opts *metav1.DeleteOptions) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return 0
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	g := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		g = *pod.Spec.TerminationGracePeriodSeconds
	}
	if opts.GracePeriodSeconds != nil {
		g = *opts.GracePeriodSeconds
	}
	if g < 0 {
		g = 1
	}
	return g
}

// applyPropagation adds the garbage collector's finalizers for foreground
// and orphan deletion, and reports whether it changed the finalizers.
func applyPropagation(m metav1.Object, opts *metav1.DeleteOptions) bool {
	policy := metav1.DeletePropagationBackground
	if opts.PropagationPolicy != nil {
		policy = *opts.PropagationPolicy
	} else if opts.OrphanDependents != nil && *opts.OrphanDependents {
		policy = metav1.DeletePropagationOrphan
	}
	fin := m.GetFinalizers()
	before := len(fin)
	has := func(f string) bool { return slices.Contains(fin, f) }
	switch policy {
	case metav1.DeletePropagationForeground:
		fin = slices.DeleteFunc(fin, func(f string) bool { return f == metav1.FinalizerOrphanDependents })
		if !has(metav1.FinalizerDeleteDependents) {
			fin = append(fin, metav1.FinalizerDeleteDependents)
		}
	case metav1.DeletePropagationOrphan:
		fin = slices.DeleteFunc(fin, func(f string) bool { return f == metav1.FinalizerDeleteDependents })
		if !has(metav1.FinalizerOrphanDependents) {
			fin = append(fin, metav1.FinalizerOrphanDependents)
		}
	default:
		if m.GetDeletionTimestamp() != nil {
			return false
		}
	}
	if len(fin) == before && slices.Equal(fin, m.GetFinalizers()) {
		return false
	}
	m.SetFinalizers(fin)
	return true
}
