package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// The garbage collector deletes objects whose owners (by ownerReferences)
// are all gone, and carries out foreground and orphan deletion of owners
// (the foregroundDeletion and orphan finalizers). It knows the kinds
// stratus's controllers own and create: ReplicationControllers,
// ReplicaSets, Deployments and Services as owners; Pods, ReplicaSets and
// EndpointSlices as dependents.

const ownerIndex = "ownerUID"

func ownerIndexFunc(obj any) ([]string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, nil
	}
	refs := m.GetOwnerReferences()
	if len(refs) == 0 {
		return nil, nil
	}
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = string(r.UID)
	}
	return out, nil
}

const uidIndex = "uid"

func uidIndexFunc(obj any) ([]string, error) {
	if m, ok := obj.(metav1.Object); ok {
		return []string{string(m.GetUID())}, nil
	}
	return nil, nil
}

// kindRes ties a kind to its informer and client calls.
type kindRes struct {
	kind  string // "Pod", …
	inf   cache.SharedIndexInformer
	owner bool
	dep   bool
	get   func(ctx context.Context, ns, name string) (metav1.Object, error)
	del   func(ctx context.Context, ns, name string, opts metav1.DeleteOptions) error
	upd   func(ctx context.Context, obj runtime.Object) error
}

type gc struct {
	m     *Manager
	loop  *loop // keys: "<kind>|ns/name" of an owner or dependent to look at
	kinds map[string]*kindRes
}

func (m *Manager) addGC() {
	g := &gc{m: m, kinds: map[string]*kindRes{}}
	g.loop = m.newLoop("garbagecollector", m.o.Workers, g.sync)
	c := m.o.Client
	f := m.factory
	add := func(k *kindRes) {
		if _, ok := k.inf.GetIndexer().GetIndexers()[ownerIndex]; !ok {
			_ = k.inf.AddIndexers(cache.Indexers{ownerIndex: ownerIndexFunc})
		}
		if _, ok := k.inf.GetIndexer().GetIndexers()[uidIndex]; !ok {
			_ = k.inf.AddIndexers(cache.Indexers{uidIndex: uidIndexFunc})
		}
		g.kinds[k.kind] = k
		kind := k.kind
		enq := func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				g.loop.q.Add(kind + "|" + key)
			}
		}
		_, _ = k.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) {
				if m, ok := obj.(metav1.Object); ok && (len(m.GetOwnerReferences()) > 0 || m.GetDeletionTimestamp() != nil) {
					enq(obj)
				}
			},
			UpdateFunc: func(_, obj any) {
				if m, ok := obj.(metav1.Object); ok && m.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) > 0 {
					enq(obj)
				}
			},
			DeleteFunc: func(obj any) {
				if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = d.Obj
				}
				m, ok := obj.(metav1.Object)
				if !ok {
					return
				}
				// an owner is gone: look at its dependents
				for _, dk := range g.kinds {
					if !dk.dep {
						continue
					}
					deps, _ := dk.inf.GetIndexer().ByIndex(ownerIndex, string(m.GetUID()))
					for _, d := range deps {
						if key, err := cache.MetaNamespaceKeyFunc(d); err == nil {
							g.loop.q.Add(dk.kind + "|" + key)
						}
					}
				}
			},
		})
	}
	add(&kindRes{kind: "Pod", inf: f.Core().V1().Pods().Informer(), dep: true,
		get: func(ctx context.Context, ns, n string) (metav1.Object, error) {
			return c.CoreV1().Pods(ns).Get(ctx, n, metav1.GetOptions{})
		},
		del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
			return c.CoreV1().Pods(ns).Delete(ctx, n, o)
		},
		upd: func(ctx context.Context, o runtime.Object) error {
			p := o.(*corev1.Pod)
			_, err := c.CoreV1().Pods(p.Namespace).Update(ctx, p, metav1.UpdateOptions{})
			return err
		}})
	add(&kindRes{kind: "ReplicationController", inf: f.Core().V1().ReplicationControllers().Informer(), owner: true,
		get: func(ctx context.Context, ns, n string) (metav1.Object, error) {
			return c.CoreV1().ReplicationControllers(ns).Get(ctx, n, metav1.GetOptions{})
		},
		del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
			return c.CoreV1().ReplicationControllers(ns).Delete(ctx, n, o)
		},
		upd: func(ctx context.Context, o runtime.Object) error {
			x := o.(*corev1.ReplicationController)
			_, err := c.CoreV1().ReplicationControllers(x.Namespace).Update(ctx, x, metav1.UpdateOptions{})
			return err
		}})
	add(&kindRes{kind: "ReplicaSet", inf: f.Apps().V1().ReplicaSets().Informer(), owner: true, dep: true,
		get: func(ctx context.Context, ns, n string) (metav1.Object, error) {
			return c.AppsV1().ReplicaSets(ns).Get(ctx, n, metav1.GetOptions{})
		},
		del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
			return c.AppsV1().ReplicaSets(ns).Delete(ctx, n, o)
		},
		upd: func(ctx context.Context, o runtime.Object) error {
			x := o.(*appsv1.ReplicaSet)
			_, err := c.AppsV1().ReplicaSets(x.Namespace).Update(ctx, x, metav1.UpdateOptions{})
			return err
		}})
	add(&kindRes{kind: "Deployment", inf: f.Apps().V1().Deployments().Informer(), owner: true,
		get: func(ctx context.Context, ns, n string) (metav1.Object, error) {
			return c.AppsV1().Deployments(ns).Get(ctx, n, metav1.GetOptions{})
		},
		del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
			return c.AppsV1().Deployments(ns).Delete(ctx, n, o)
		},
		upd: func(ctx context.Context, o runtime.Object) error {
			x := o.(*appsv1.Deployment)
			_, err := c.AppsV1().Deployments(x.Namespace).Update(ctx, x, metav1.UpdateOptions{})
			return err
		}})
	add(&kindRes{kind: "Service", inf: f.Core().V1().Services().Informer(), owner: true,
		get: func(ctx context.Context, ns, n string) (metav1.Object, error) {
			return c.CoreV1().Services(ns).Get(ctx, n, metav1.GetOptions{})
		},
		del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
			return c.CoreV1().Services(ns).Delete(ctx, n, o)
		},
		upd: func(ctx context.Context, o runtime.Object) error {
			x := o.(*corev1.Service)
			_, err := c.CoreV1().Services(x.Namespace).Update(ctx, x, metav1.UpdateOptions{})
			return err
		}})
	if m.enabled("endpointslice") {
		add(&kindRes{kind: "EndpointSlice", inf: f.Discovery().V1().EndpointSlices().Informer(), dep: true,
			get: func(ctx context.Context, ns, n string) (metav1.Object, error) {
				return c.DiscoveryV1().EndpointSlices(ns).Get(ctx, n, metav1.GetOptions{})
			},
			del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
				return c.DiscoveryV1().EndpointSlices(ns).Delete(ctx, n, o)
			}})
	}
}

func (g *gc) sync(ctx context.Context, item string) (time.Duration, error) {
	kind, key, _ := strings.Cut(item, "|")
	k := g.kinds[kind]
	if k == nil {
		return 0, nil
	}
	obj, exists, err := k.inf.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return 0, err
	}
	m := obj.(metav1.Object)
	if m.GetDeletionTimestamp() != nil && k.owner {
		if slices.Contains(m.GetFinalizers(), metav1.FinalizerOrphanDependents) {
			return g.orphan(ctx, k, obj.(runtime.Object), m)
		}
		if slices.Contains(m.GetFinalizers(), metav1.FinalizerDeleteDependents) {
			return g.foreground(ctx, k, obj.(runtime.Object), m)
		}
	}
	if !k.dep || len(m.GetOwnerReferences()) == 0 {
		return 0, nil
	}
	for _, ref := range m.GetOwnerReferences() {
		alive, err := g.ownerAlive(ctx, m.GetNamespace(), ref)
		if err != nil {
			return 0, err
		}
		if alive {
			return 0, nil
		}
	}
	uid := m.GetUID()
	bg := metav1.DeletePropagationBackground
	err = k.del(ctx, m.GetNamespace(), m.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return 0, err
	}
	return 0, nil
}

// ownerAlive looks the owner up in the cache and, when absent there, asks
// the API (the cache may lag behind a new owner).
func (g *gc) ownerAlive(ctx context.Context, ns string, ref metav1.OwnerReference) (bool, error) {
	k := g.kinds[ref.Kind]
	if k == nil {
		return true, nil // a kind we do not know: never collect
	}
	if objs, _ := k.inf.GetIndexer().ByIndex(uidIndex, string(ref.UID)); len(objs) > 0 {
		return true, nil
	}
	got, err := k.get(ctx, ns, ref.Name)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return got.GetUID() == ref.UID, nil
}

func (g *gc) dependents(owner metav1.Object) []metav1.Object {
	var out []metav1.Object
	for _, dk := range g.kinds {
		if !dk.dep {
			continue
		}
		deps, _ := dk.inf.GetIndexer().ByIndex(ownerIndex, string(owner.GetUID()))
		for _, d := range deps {
			out = append(out, d.(metav1.Object))
		}
	}
	return out
}

func kindOf(obj metav1.Object) string {
	switch obj.(type) {
	case *corev1.Pod:
		return "Pod"
	case *appsv1.ReplicaSet:
		return "ReplicaSet"
	}
	return "EndpointSlice"
}

// foreground deletes the owner's dependents and, once none is left,
// removes the foregroundDeletion finalizer.
func (g *gc) foreground(ctx context.Context, k *kindRes, obj runtime.Object, m metav1.Object) (time.Duration, error) {
	deps := g.dependents(m)
	fg := metav1.DeletePropagationForeground
	for _, d := range deps {
		if d.GetDeletionTimestamp() != nil {
			continue
		}
		dk := g.kinds[kindOf(d)]
		if err := dk.del(ctx, d.GetNamespace(), d.GetName(), metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !apierrors.IsNotFound(err) {
			return 0, err
		}
	}
	if len(deps) > 0 {
		return 500 * time.Millisecond, nil
	}
	return 0, g.dropFinalizer(ctx, k, obj, metav1.FinalizerDeleteDependents)
}

// orphan removes the owner's references from its dependents, then the
// orphan finalizer.
func (g *gc) orphan(ctx context.Context, k *kindRes, obj runtime.Object, m metav1.Object) (time.Duration, error) {
	for _, d := range g.dependents(m) {
		dk := g.kinds[kindOf(d)]
		if dk.upd == nil {
			continue
		}
		cp := d.(runtime.Object).DeepCopyObject()
		cm := cp.(metav1.Object)
		refs := slices.DeleteFunc(slices.Clone(cm.GetOwnerReferences()), func(r metav1.OwnerReference) bool { return r.UID == m.GetUID() })
		cm.SetOwnerReferences(refs)
		if err := dk.upd(ctx, cp); err != nil && !apierrors.IsNotFound(err) {
			return 0, err
		}
	}
	return 0, g.dropFinalizer(ctx, k, obj, metav1.FinalizerOrphanDependents)
}

func (g *gc) dropFinalizer(ctx context.Context, k *kindRes, obj runtime.Object, fin string) error {
	if k.upd == nil {
		return fmt.Errorf("garbage collector: cannot update %s", k.kind)
	}
	cp := obj.DeepCopyObject()
	cm := cp.(metav1.Object)
	cm.SetFinalizers(slices.DeleteFunc(slices.Clone(cm.GetFinalizers()), func(f string) bool { return f == fin }))
	err := k.upd(ctx, cp)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
