package registry

import (
	"context"
	"errors"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"

	"github.com/stratus-cloud/stratus/internal/kube/quota"
)

// Admission of creates by LimitRanges and ResourceQuotas, as
// kube-apiserver's LimitRanger and ResourceQuota plugins:
//   - a new pod gets the default requests and limits of its namespace's
//     LimitRanges (and the kubernetes.io/limit-ranger annotation that says
//     so), and is refused with 403 when a container or the pod is outside
//     an item's min or max;
//   - a new object that a quota of its namespace counts is refused with
//     403 "exceeded quota: …" when it would take the quota over its hard
//     limits, and a pod that leaves out a request or limit the quota
//     constrains with "failed quota: …: must specify …". Usage is counted
//     from the stored objects while creates in that namespace wait (one
//     server's creates are exact; servers sharing a store may overshoot
//     by their concurrent creates).
//
// Updates of Services and PersistentVolumeClaims are checked for what they
// add, as upstream's evaluators do.
//
// Shortcuts: quota scopes and scopeSelector are not applied, pod resizes
// are not counted, and LimitRange's maxLimitRequestRatio and PVC items are
// not applied.

const annLimitRanger = "kubernetes.io/limit-ranger"

// quotaLocks serialize quota-counted creates per namespace.
type quotaLocks struct{ m sync.Map } // namespace → *sync.Mutex

func (l *quotaLocks) lock(ns string) func() {
	mu, _ := l.m.LoadOrStore(ns, &sync.Mutex{})
	m := mu.(*sync.Mutex)
	m.Lock()
	return m.Unlock
}

func (st *Storage) listIn(ctx context.Context, group, res, ns string) ([]runtime.Object, error) {
	r := st.Reg.Lookup(group, "v1", res)
	if r == nil {
		return nil, nil
	}
	l, err := st.List(ctx, r, ns, Predicate{}, 0, "")
	return l.Items, err
}

// admitLimitRanges applies the namespace's LimitRanges to a new pod.
func (st *Storage) admitLimitRanges(ctx context.Context, r *Resource, obj runtime.Object) error {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	items, err := st.listIn(ctx, "", "limitranges", p.Namespace)
	if err != nil || len(items) == 0 {
		return err
	}
	ranges := make([]*corev1.LimitRange, 0, len(items))
	for _, it := range items {
		ranges = append(ranges, it.(*corev1.LimitRange))
	}
	ann, err := quota.ApplyLimitRanges(p, ranges)
	if err != nil {
		return apierrors.NewForbidden(r.GroupResource(), p.Name, err)
	}
	if ann != "" {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[annLimitRanger] = ann
	}
	return nil
}

// admitQuota checks a new object (old nil) or an update of old against
// its namespace's quotas. The returned func, called once the object is
// stored (or not), lets the next write of the namespace be counted.
//
// As upstream's evaluators, an update is checked only for Services (a
// type change takes node ports or a load balancer) and
// PersistentVolumeClaims (a larger request), for what it adds: the
// usage of obj less that of old, where it grows.
func (st *Storage) admitQuota(ctx context.Context, r *Resource, obj, old runtime.Object) (func(), error) {
	none := func() {}
	if old != nil {
		switch obj.(type) {
		case *corev1.Service, *corev1.PersistentVolumeClaim:
		default:
			return none, nil
		}
	}
	m, err := meta.Accessor(obj)
	if err != nil || !r.Namespaced || m.GetNamespace() == "" {
		return none, nil
	}
	ns := m.GetNamespace()
	items, err := st.listIn(ctx, "", "resourcequotas", ns)
	if err != nil || len(items) == 0 {
		return none, err
	}
	use := quota.Usage(r.Group, r.Name, obj)
	if old != nil {
		use = quotav1.RemoveZeros(quotav1.SubtractWithNonNegativeResult(use, quota.Usage(r.Group, r.Name, old)))
		if len(use) == 0 {
			return none, nil
		}
	}
	var covering []*corev1.ResourceQuota
	for _, it := range items {
		if q := it.(*corev1.ResourceQuota); quota.Covers(q.Spec.Hard, r.Group, r.Name) {
			covering = append(covering, q)
		}
	}
	if len(covering) == 0 {
		return none, nil
	}
	unlock := st.quotaLocks.lock(ns)
	for _, q := range covering {
		if p, ok := obj.(*corev1.Pod); ok && old == nil {
			if msg := quota.MissingRequests(q.Spec.Hard, p); msg != "" {
				unlock()
				return none, apierrors.NewForbidden(r.GroupResource(), m.GetName(), errors.New("failed quota: "+q.Name+": "+msg))
			}
		}
		used, err := st.quotaUsed(ctx, ns, q.Spec.Hard)
		if err != nil {
			unlock()
			return none, err
		}
		if msg := quota.Exceeded(q.Name, q.Spec.Hard, used, use); msg != "" {
			unlock()
			return none, apierrors.NewForbidden(r.GroupResource(), m.GetName(), errors.New(msg))
		}
	}
	return unlock, nil
}

// quotaUsed counts what the namespace's stored objects take of hard.
func (st *Storage) quotaUsed(ctx context.Context, ns string, hard corev1.ResourceList) (corev1.ResourceList, error) {
	used := corev1.ResourceList{}
	for _, gr := range quota.Sources(hard) {
		r := st.Reg.Lookup(gr.Group, gr.Version, gr.Resource)
		if r == nil {
			continue
		}
		l, err := st.List(ctx, r, ns, Predicate{}, 0, "")
		if err != nil {
			return nil, err
		}
		for _, it := range l.Items {
			used = quota.Add(used, quota.Usage(gr.Group, gr.Resource, it))
		}
	}
	return quota.Mask(used, hard), nil
}
