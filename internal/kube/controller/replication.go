package controller

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

type replKind int

const (
	rcKind replKind = iota
	rsKind
)

// controllerIndex indexes pods (and replica sets) by their controller's UID.
const controllerIndex = "controllerUID"

func controllerIndexFunc(obj any) ([]string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

// burstReplicas bounds the pods one sync creates or deletes, as in
// kube-controller-manager.
const burstReplicas = 500

// replicaSetView is what the replication logic needs of an RC or an RS.
type replicaSetView struct {
	meta     metav1.Object
	replicas int32
	selector labels.Selector
	template *corev1.PodTemplateSpec
	minReady int32
	status   appsv1.ReplicaSetStatus // RC status maps onto it
	ownerRef metav1.OwnerReference
}

// expectations counts creates and deletes a sync made that the informer
// has not shown yet, so the next sync does not make them twice.
type expectations struct {
	mu sync.Mutex
	m  map[string]*expect
}

type expect struct {
	adds, dels atomic.Int64
	at         time.Time
}

func (e *expectations) get(key string) *expect {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.m[key]
}

func (e *expectations) set(key string, adds, dels int64) {
	x := &expect{at: time.Now()}
	x.adds.Store(adds)
	x.dels.Store(dels)
	e.mu.Lock()
	e.m[key] = x
	e.mu.Unlock()
}

func (e *expectations) satisfied(key string) bool {
	x := e.get(key)
	if x == nil {
		return true
	}
	return (x.adds.Load() <= 0 && x.dels.Load() <= 0) || time.Since(x.at) > 5*time.Minute
}

// observe counts one create (add) or delete seen; it reports whether that
// one completed the expectations.
func (e *expectations) observe(key string, add bool) bool {
	x := e.get(key)
	if x == nil {
		return false
	}
	if add {
		return x.adds.Add(-1) == 0 && x.dels.Load() <= 0
	}
	return x.dels.Add(-1) == 0 && x.adds.Load() <= 0
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	delete(e.m, key)
	e.mu.Unlock()
}

type replication struct {
	m        *Manager
	kind     replKind
	loop     *loop
	podIdx   cache.Indexer
	rcLister corelisters.ReplicationControllerLister
	rsLister appslisters.ReplicaSetLister
	rec      record.EventRecorder
	exp      *expectations
	windows  sync.Map // key → status batch window (time.Duration)
	tallies  sync.Map // key → *tally
}

func (m *Manager) podInformerWithIndex() cache.SharedIndexInformer {
	inf := m.factory.Core().V1().Pods().Informer()
	if _, ok := inf.GetIndexer().GetIndexers()[controllerIndex]; !ok {
		_ = inf.AddIndexers(cache.Indexers{controllerIndex: controllerIndexFunc})
	}
	return inf
}

func (m *Manager) addReplication(kind replKind) {
	r := &replication{m: m, kind: kind, exp: &expectations{m: map[string]*expect{}}}
	name, component := "replicationcontroller", "replication-controller"
	if kind == rsKind {
		name, component = "replicaset", "replicaset-controller"
	}
	r.rec = m.recorder(component)
	r.loop = m.newLoop(name, 2*m.o.Workers, r.sync)
	pods := m.podInformerWithIndex()
	r.podIdx = pods.GetIndexer()
	if kind == rcKind {
		inf := m.factory.Core().V1().ReplicationControllers()
		r.rcLister = inf.Lister()
		_, _ = inf.Informer().AddEventHandler(r.ownerHandler())
	} else {
		inf := m.factory.Apps().V1().ReplicaSets()
		r.rsLister = inf.Lister()
		_, _ = inf.Informer().AddEventHandler(r.ownerHandler())
	}
	_, _ = pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { r.podEvent(obj, 1, false) },
		UpdateFunc: func(old, obj any) {
			op, np := old.(*corev1.Pod), obj.(*corev1.Pod)
			if op.ResourceVersion == np.ResourceVersion {
				return
			}
			if oref, nref := metav1.GetControllerOfNoCopy(op), metav1.GetControllerOfNoCopy(np); oref != nil &&
				(nref == nil || nref.UID != oref.UID) {
				// released or taken over: no longer its old owner's
				r.podEvent(op, 0, true)
			}
			if np.DeletionTimestamp != nil && op.DeletionTimestamp == nil {
				// a pod being deleted is no longer active: count it as gone
				r.podEvent(obj, -1, false)
				return
			}
			r.podEvent(obj, 0, false)
		},
		DeleteFunc: func(obj any) { r.podEvent(obj, -1, true) },
	})
}

// ownerHandler enqueues RCs or RSs. An update that changed neither spec
// (generation) nor labels nor deletion, which is mostly the controller's
// own status write, waits the status window like a pod status change: a
// sync right after it would only count the same pods again.
func (r *replication) ownerHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    r.loop.enqueue,
		DeleteFunc: r.loop.enqueue,
		UpdateFunc: func(old, obj any) {
			om, ok1 := old.(metav1.Object)
			nm, ok2 := obj.(metav1.Object)
			if !ok1 || !ok2 || om.GetGeneration() != nm.GetGeneration() || !om.GetDeletionTimestamp().Equal(nm.GetDeletionTimestamp()) ||
				!labels.Equals(om.GetLabels(), nm.GetLabels()) {
				r.loop.enqueue(obj)
				return
			}
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				r.loop.q.AddAfter(key, r.window(key))
			}
		},
	}
}

func (r *replication) ownerKind() string {
	if r.kind == rcKind {
		return "ReplicationController"
	}
	return "ReplicaSet"
}

// podEvent updates the tally of the pod's controller and enqueues it;
// delta +1/-1 lowers the create or delete expectations; gone: the pod is
// no longer there (or no longer the controller's).
func (r *replication) podEvent(obj any, delta int, gone bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != r.ownerKind() {
		return
	}
	key := pod.Namespace + "/" + ref.Name
	if t, ok := r.tallies.Load(key); ok {
		t.(*tally).observe(pod, ref.UID, gone)
	}
	completed := false
	switch delta {
	case 1:
		completed = r.exp.observe(key, true)
	case -1:
		completed = r.exp.observe(key, false)
	}
	// The event that completes a burst of creates or deletes syncs at once,
	// so the next burst starts. Any other (a status change, a pod someone
	// else deleted) waits the status window, so a stream of pod events
	// becomes one sync and one status write instead of one each (every sync
	// scans all the controller's pods); the last event of a stream is still
	// counted within the window.
	if completed {
		r.loop.q.Add(key)
		return
	}
	r.loop.q.AddAfter(key, r.window(key))
}

// window is the status window of a controller, from its last sync.
func (r *replication) window(key string) time.Duration {
	if w, ok := r.windows.Load(key); ok {
		return w.(time.Duration)
	}
	return minStatusWindow
}

// How long pod status changes gather before the controller's status is
// recounted: a recount scans every pod of the controller, so the window
// grows with their number (perPodWindow each), keeping the share of CPU
// recounts take bounded.
const (
	minStatusWindow = 50 * time.Millisecond
	maxStatusWindow = time.Second
	perPodWindow    = 20 * time.Microsecond
)

func statusWindow(pods int) time.Duration {
	return min(max(time.Duration(pods)*perPodWindow, minStatusWindow), maxStatusWindow)
}

func (r *replication) view(ns, name string) (*replicaSetView, runtimeObject, error) {
	if r.kind == rcKind {
		rc, err := r.rcLister.ReplicationControllers(ns).Get(name)
		if err != nil {
			return nil, nil, err
		}
		v := &replicaSetView{meta: rc, replicas: 1, template: rc.Spec.Template, minReady: rc.Spec.MinReadySeconds}
		if rc.Spec.Replicas != nil {
			v.replicas = *rc.Spec.Replicas
		}
		sel := rc.Spec.Selector
		if len(sel) == 0 && rc.Spec.Template != nil {
			sel = rc.Spec.Template.Labels
		}
		v.selector = labels.SelectorFromValidatedSet(sel)
		v.status = appsv1.ReplicaSetStatus{Replicas: rc.Status.Replicas, FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas: rc.Status.ReadyReplicas, AvailableReplicas: rc.Status.AvailableReplicas, ObservedGeneration: rc.Status.ObservedGeneration}
		v.ownerRef = metav1.OwnerReference{APIVersion: "v1", Kind: "ReplicationController", Name: rc.Name, UID: rc.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
		return v, rc, nil
	}
	rs, err := r.rsLister.ReplicaSets(ns).Get(name)
	if err != nil {
		return nil, nil, err
	}
	v := &replicaSetView{meta: rs, replicas: 1, template: &rs.Spec.Template, minReady: rs.Spec.MinReadySeconds, status: rs.Status}
	if rs.Spec.Replicas != nil {
		v.replicas = *rs.Spec.Replicas
	}
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return nil, nil, err
	}
	v.selector = sel
	v.ownerRef = metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	return v, rs, nil
}

type runtimeObject = runtime.Object

func activePod(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

func podReady(p *corev1.Pod) (bool, time.Time) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue, c.LastTransitionTime.Time
		}
	}
	return false, time.Time{}
}

func (r *replication) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	v, obj, err := r.view(ns, name)
	if apierrors.IsNotFound(err) {
		r.exp.forget(key)
		r.windows.Delete(key)
		r.tallies.Delete(key)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// Expectations first, counts second (as kube-controller-manager): pod
	// events reach the tally before the expectations, so counts read after
	// the last expected event was seen include it. Read the other way
	// round, a create completing in between makes one pod too many.
	satisfied := r.exp.satisfied(key)
	t, _ := r.tallies.LoadOrStore(key, &tally{})
	c := t.(*tally).count(r.podIdx, v.meta.GetUID(), v.template, time.Duration(v.minReady)*time.Second, r.m.o.Clock.Now())
	r.windows.Store(key, statusWindow(int(c.active)))
	var manageErr error
	if satisfied && v.meta.GetDeletionTimestamp() == nil && v.template != nil {
		manageErr = r.manage(ctx, key, v, obj, int(c.active))
	}
	after, err := r.updateStatus(ctx, v, c)
	if manageErr != nil {
		return 0, manageErr
	}
	return after, err
}

// activePods lists the active pods the controller owns, from the index.
func (r *replication) activePods(uid string) []*corev1.Pod {
	owned, _ := r.podIdx.ByIndex(controllerIndex, uid)
	active := make([]*corev1.Pod, 0, len(owned))
	for _, o := range owned {
		if p := o.(*corev1.Pod); activePod(p) {
			active = append(active, p)
		}
	}
	return active
}

func (r *replication) manage(ctx context.Context, key string, v *replicaSetView, obj runtimeObject, active int) error {
	diff := active - int(v.replicas)
	switch {
	case diff < 0:
		n := min(-diff, burstReplicas)
		r.exp.set(key, int64(n), 0)
		created, err := slowStart(ctx, n, func(ctx context.Context) error {
			pod := r.newPod(v)
			got, err := r.m.o.Client.CoreV1().Pods(v.meta.GetNamespace()).Create(ctx, pod, metav1.CreateOptions{})
			if err != nil {
				r.exp.observe(key, true)
				r.rec.Eventf(obj, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				return err
			}
			r.rec.Eventf(obj, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", got.Name)
			return nil
		})
		for range n - created {
			r.exp.observe(key, true) // never attempted
		}
		return err
	case diff > 0:
		pods := r.activePods(string(v.meta.GetUID()))
		n := min(diff, burstReplicas, len(pods))
		victims := rankForDeletion(pods, n)
		r.exp.set(key, 0, int64(n))
		var wg sync.WaitGroup
		var firstErr atomic.Value
		sem := make(chan struct{}, 64)
		for _, p := range victims {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				uid := p.UID
				err := r.m.o.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
				if err != nil && !apierrors.IsNotFound(err) {
					r.exp.observe(key, false)
					r.rec.Eventf(obj, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
					firstErr.CompareAndSwap(nil, err)
					return
				}
				r.rec.Eventf(obj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			}()
		}
		wg.Wait()
		if e, ok := firstErr.Load().(error); ok {
			return e
		}
	}
	return nil
}

// slowStart calls fn n times in batches of 1, 2, 4, … (all of a batch in
// parallel, at most 64 at once), stopping after a batch with an error, as
// kube-controller-manager does so a failing create does not flood the API.
// It returns how many calls were made.
func slowStart(ctx context.Context, n int, fn func(context.Context) error) (int, error) {
	done := 0
	sem := make(chan struct{}, 64)
	for batch := 1; done < n; batch *= 2 {
		size := min(batch, n-done)
		var wg sync.WaitGroup
		var firstErr atomic.Value
		for range size {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := fn(ctx); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}()
		}
		wg.Wait()
		done += size
		if e, ok := firstErr.Load().(error); ok {
			return done, e
		}
	}
	return done, nil
}

func (r *replication) newPod(v *replicaSetView) *corev1.Pod {
	t := v.template
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    v.meta.GetName() + "-",
			Namespace:       v.meta.GetNamespace(),
			Labels:          copyMap(t.Labels),
			Annotations:     copyMap(t.Annotations),
			Finalizers:      append([]string(nil), t.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{v.ownerRef},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	return pod
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// rankForDeletion picks the n pods to delete first: unscheduled, then
// pending, not ready, ready for less time, restarted more, newer.
// Each pod's rank is read once: a sort compares each pod many times, and
// a scale down of 10,000 pods ranks them again at every burst.
func rankForDeletion(pods []*corev1.Pod, n int) []*corev1.Pod {
	type rank struct {
		pod        *corev1.Pod
		index      int
		scheduled  bool
		phase      int
		ready      bool
		readySince time.Time
		cost       int64
		restarts   int32
	}
	ranks := make([]rank, len(pods))
	for i, p := range pods {
		r := rank{pod: p, index: i, scheduled: p.Spec.NodeName != "", cost: deletionCost(p)}
		switch p.Status.Phase {
		case corev1.PodUnknown:
			r.phase = 1
		case corev1.PodRunning:
			r.phase = 2
		}
		r.ready, r.readySince = podReady(p)
		for _, c := range p.Status.ContainerStatuses {
			r.restarts = max(r.restarts, c.RestartCount)
		}
		ranks[i] = r
	}
	order := make([]*rank, len(ranks))
	for i := range ranks {
		order[i] = &ranks[i]
	}
	// Ties keep the pods' given order (a stable sort, without its cost).
	slices.SortFunc(order, func(a, b *rank) int {
		switch {
		case a.scheduled != b.scheduled:
			return boolCmp(a.scheduled)
		case a.phase != b.phase:
			return cmp.Compare(a.phase, b.phase)
		case a.ready != b.ready:
			return boolCmp(a.ready)
		// The pod-deletion-cost annotation, as kube-controller-manager
		// reads it: lower cost goes first (Marathon's kill with scale
		// marks the tasks it kills this way).
		case a.cost != b.cost:
			return cmp.Compare(a.cost, b.cost)
		case a.ready && !a.readySince.Equal(b.readySince):
			return b.readySince.Compare(a.readySince) // ready for less time first
		case a.restarts != b.restarts:
			return cmp.Compare(b.restarts, a.restarts)
		}
		if c := b.pod.CreationTimestamp.Compare(a.pod.CreationTimestamp.Time); c != 0 {
			return c // newer first
		}
		return cmp.Compare(a.index, b.index)
	})
	sorted := make([]*corev1.Pod, n)
	for i := range sorted {
		sorted[i] = order[i].pod
	}
	return sorted
}

// boolCmp orders false before true: -1 for false, 1 for true.
func boolCmp(b bool) int {
	if b {
		return 1
	}
	return -1
}

// deletionCost reads a pod's controller.kubernetes.io/pod-deletion-cost
// (0 when absent or not an int32).
func deletionCost(p *corev1.Pod) int64 {
	c, err := strconv.ParseInt(p.Annotations["controller.kubernetes.io/pod-deletion-cost"], 10, 32)
	if err != nil {
		return 0
	}
	return c
}

// hasLabels reports whether set holds every label of want (a selector
// from want matches set), without building a selector per pod.
func hasLabels(set, want map[string]string) bool {
	for k, v := range want {
		if got, ok := set[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (r *replication) updateStatus(ctx context.Context, v *replicaSetView, c counts) (time.Duration, error) {
	st := appsv1.ReplicaSetStatus{Replicas: c.active, FullyLabeledReplicas: c.labeled, ReadyReplicas: c.ready,
		AvailableReplicas: c.available, ObservedGeneration: v.meta.GetGeneration()}
	after := c.after
	old := v.status
	old.Conditions = nil
	if equality.Semantic.DeepEqual(old, st) {
		return after, nil
	}
	var err error
	switch o := v.meta.(type) {
	case *corev1.ReplicationController:
		upd := o.DeepCopy()
		upd.Status.Replicas, upd.Status.FullyLabeledReplicas = st.Replicas, st.FullyLabeledReplicas
		upd.Status.ReadyReplicas, upd.Status.AvailableReplicas = st.ReadyReplicas, st.AvailableReplicas
		upd.Status.ObservedGeneration = st.ObservedGeneration
		_, err = r.m.o.Client.CoreV1().ReplicationControllers(o.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	case *appsv1.ReplicaSet:
		upd := o.DeepCopy()
		st.Conditions = upd.Status.Conditions
		upd.Status = st
		_, err = r.m.o.Client.AppsV1().ReplicaSets(o.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	}
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	return after, err
}
