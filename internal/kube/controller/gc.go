package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// The garbage collector deletes objects whose owners (by ownerReferences)
// are all gone, and carries out foreground and orphan deletion of owners
// (the foregroundDeletion and orphan finalizers), for every built-in kind
// the API serves: any of them may own and be owned, as upstream.

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
	f := m.factory
	core, apps, batch := f.Core().V1(), f.Apps().V1(), f.Batch().V1()
	add(kindFor("Pod", core.Pods().Informer(), func(ns string) typedClient[*corev1.Pod] { return c.CoreV1().Pods(ns) }))
	add(kindFor("ReplicationController", core.ReplicationControllers().Informer(), func(ns string) typedClient[*corev1.ReplicationController] {
		return c.CoreV1().ReplicationControllers(ns)
	}))
	add(kindFor("Service", core.Services().Informer(), func(ns string) typedClient[*corev1.Service] { return c.CoreV1().Services(ns) }))
	add(kindFor("ConfigMap", core.ConfigMaps().Informer(), func(ns string) typedClient[*corev1.ConfigMap] { return c.CoreV1().ConfigMaps(ns) }))
	add(kindFor("Secret", core.Secrets().Informer(), func(ns string) typedClient[*corev1.Secret] { return c.CoreV1().Secrets(ns) }))
	add(kindFor("ServiceAccount", core.ServiceAccounts().Informer(), func(ns string) typedClient[*corev1.ServiceAccount] { return c.CoreV1().ServiceAccounts(ns) }))
	add(kindFor("PersistentVolumeClaim", core.PersistentVolumeClaims().Informer(), func(ns string) typedClient[*corev1.PersistentVolumeClaim] {
		return c.CoreV1().PersistentVolumeClaims(ns)
	}))
	add(kindFor("PersistentVolume", core.PersistentVolumes().Informer(), func(string) typedClient[*corev1.PersistentVolume] { return c.CoreV1().PersistentVolumes() }))
	add(kindFor("ReplicaSet", apps.ReplicaSets().Informer(), func(ns string) typedClient[*appsv1.ReplicaSet] { return c.AppsV1().ReplicaSets(ns) }))
	add(kindFor("Deployment", apps.Deployments().Informer(), func(ns string) typedClient[*appsv1.Deployment] { return c.AppsV1().Deployments(ns) }))
	add(kindFor("StatefulSet", apps.StatefulSets().Informer(), func(ns string) typedClient[*appsv1.StatefulSet] { return c.AppsV1().StatefulSets(ns) }))
	add(kindFor("DaemonSet", apps.DaemonSets().Informer(), func(ns string) typedClient[*appsv1.DaemonSet] { return c.AppsV1().DaemonSets(ns) }))
	add(kindFor("ControllerRevision", apps.ControllerRevisions().Informer(), func(ns string) typedClient[*appsv1.ControllerRevision] {
		return c.AppsV1().ControllerRevisions(ns)
	}))
	add(kindFor("Job", batch.Jobs().Informer(), func(ns string) typedClient[*batchv1.Job] { return c.BatchV1().Jobs(ns) }))
	add(kindFor("CronJob", batch.CronJobs().Informer(), func(ns string) typedClient[*batchv1.CronJob] { return c.BatchV1().CronJobs(ns) }))
	add(kindFor("HorizontalPodAutoscaler", f.Autoscaling().V2().HorizontalPodAutoscalers().Informer(), func(ns string) typedClient[*autoscalingv2.HorizontalPodAutoscaler] {
		return c.AutoscalingV2().HorizontalPodAutoscalers(ns)
	}))
	add(kindFor("PodDisruptionBudget", f.Policy().V1().PodDisruptionBudgets().Informer(), func(ns string) typedClient[*policyv1.PodDisruptionBudget] {
		return c.PolicyV1().PodDisruptionBudgets(ns)
	}))
	add(kindFor("Ingress", f.Networking().V1().Ingresses().Informer(), func(ns string) typedClient[*networkingv1.Ingress] { return c.NetworkingV1().Ingresses(ns) }))
	add(kindFor("NetworkPolicy", f.Networking().V1().NetworkPolicies().Informer(), func(ns string) typedClient[*networkingv1.NetworkPolicy] {
		return c.NetworkingV1().NetworkPolicies(ns)
	}))
	add(kindFor("Role", f.Rbac().V1().Roles().Informer(), func(ns string) typedClient[*rbacv1.Role] { return c.RbacV1().Roles(ns) }))
	add(kindFor("RoleBinding", f.Rbac().V1().RoleBindings().Informer(), func(ns string) typedClient[*rbacv1.RoleBinding] { return c.RbacV1().RoleBindings(ns) }))
	add(kindFor("ClusterRole", f.Rbac().V1().ClusterRoles().Informer(), func(string) typedClient[*rbacv1.ClusterRole] { return c.RbacV1().ClusterRoles() }))
	add(kindFor("ClusterRoleBinding", f.Rbac().V1().ClusterRoleBindings().Informer(), func(string) typedClient[*rbacv1.ClusterRoleBinding] {
		return c.RbacV1().ClusterRoleBindings()
	}))
	if m.enabled("endpointslice") {
		add(kindFor("EndpointSlice", f.Discovery().V1().EndpointSlices().Informer(), func(ns string) typedClient[*discoveryv1.EndpointSlice] {
			return c.DiscoveryV1().EndpointSlices(ns)
		}))
	}
}

// typedClient is what the collector calls on one kind's typed client.
type typedClient[T runtime.Object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// kindFor declares a kind to the collector: every kind may own objects
// and be owned, as upstream.
func kindFor[T interface {
	runtime.Object
	metav1.Object
}](kind string, inf cache.SharedIndexInformer, client func(ns string) typedClient[T]) *kindRes {
	return &kindRes{kind: kind, inf: inf, owner: true, dep: true,
		get: func(ctx context.Context, ns, n string) (metav1.Object, error) {
			return client(ns).Get(ctx, n, metav1.GetOptions{})
		},
		del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
			return client(ns).Delete(ctx, n, o)
		},
		upd: func(ctx context.Context, o runtime.Object) error {
			x := o.(T)
			_, err := client(x.GetNamespace()).Update(ctx, x, metav1.UpdateOptions{})
			return err
		}}
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
			if g.kinds[ref.Kind] == nil {
				// Shortcut: an owner of a kind without an informer (a
				// custom resource) is looked at again every few seconds
				// rather than watched.
				return customOwnerRecheck, nil
			}
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
		return g.customOwnerAlive(ctx, ns, ref)
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

// dependent is an object some owner's UID is in the ownerReferences of.
type dependent struct {
	k *kindRes
	m metav1.Object
}

func (g *gc) dependents(owner metav1.Object) []dependent {
	var out []dependent
	for _, dk := range g.kinds {
		if !dk.dep {
			continue
		}
		deps, _ := dk.inf.GetIndexer().ByIndex(ownerIndex, string(owner.GetUID()))
		for _, d := range deps {
			out = append(out, dependent{dk, d.(metav1.Object)})
		}
	}
	return out
}

// foreground deletes the owner's dependents and, once none is left,
// removes the foregroundDeletion finalizer.
func (g *gc) foreground(ctx context.Context, k *kindRes, obj runtime.Object, m metav1.Object) (time.Duration, error) {
	deps := g.dependents(m)
	fg := metav1.DeletePropagationForeground
	for _, dep := range deps {
		d := dep.m
		if d.GetDeletionTimestamp() != nil {
			continue
		}
		if err := dep.k.del(ctx, d.GetNamespace(), d.GetName(), metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !apierrors.IsNotFound(err) {
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
	for _, dep := range g.dependents(m) {
		dk, d := dep.k, dep.m
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

// customOwnerRecheck is how often a dependent of a custom resource looks
// at its owner again.
const customOwnerRecheck = 5 * time.Second

// customOwnerAlive asks the API for an owner of a kind the collector has
// no informer for (a custom resource): its resource name comes from
// discovery of its group version. A kind discovery does not know is
// alive (never collect what cannot be checked).
func (g *gc) customOwnerAlive(ctx context.Context, ns string, ref metav1.OwnerReference) (bool, error) {
	rl, err := g.m.o.Client.Discovery().ServerResourcesForGroupVersion(ref.APIVersion)
	if apierrors.IsNotFound(err) {
		return false, nil // the group version is gone (its CRD deleted)
	}
	if err != nil {
		return true, nil
	}
	for _, r := range rl.APIResources {
		if r.Kind != ref.Kind || strings.Contains(r.Name, "/") {
			continue
		}
		path := []string{"/apis", ref.APIVersion}
		if !strings.Contains(ref.APIVersion, "/") {
			path = []string{"/api", ref.APIVersion}
		}
		if r.Namespaced {
			path = append(path, "namespaces", ns)
		}
		path = append(path, r.Name, ref.Name)
		var owner metav1.PartialObjectMetadata
		raw, err := g.m.o.Client.Discovery().RESTClient().Get().AbsPath(path...).SetHeader("Accept", "application/json").DoRaw(ctx)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := json.Unmarshal(raw, &owner); err != nil {
			return false, err
		}
		return owner.UID == ref.UID, nil
	}
	return true, nil
}
