// Package scheduler binds pending pods to nodes: a node must be Ready and
// schedulable, match the pod's nodeSelector and required node affinity,
// break none of its required pod anti-affinity and DoNotSchedule topology
// spread constraints (placement.go), have every NoSchedule and
// NoExecute taint tolerated and enough allocatable CPU, memory and pod slots
// for the pod's requests; among the fitting nodes it prefers the one with
// the fewest replicas of the same owner, then the least requested. A pod
// that fits nowhere gets PodScheduled=False (reason Unschedulable) and a
// FailedScheduling event with the scheduler's usual message, and is tried
// again when nodes change.
//
// Decisions are made one pod at a time against an in-memory accounting of
// what each node holds (pods are "assumed" on their node before the binding
// is written), and bindings are written by a pool of workers, so the API
// round trip is never on the decision path. Like the real scheduler it
// looks at a bounded sample of feasible nodes in a big cluster.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/kube/informersync"
)

// Name is the scheduler name pods ask for (or leave empty).
const Name = "default-scheduler"

// Options configure the scheduler.
type Options struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Recorder  record.EventRecorder
	Log       *slog.Logger
	Clock     clock.WithTicker
	// BindWorkers write bindings in parallel (default 16).
	BindWorkers int
}

// Scheduler is the pod scheduler.
type Scheduler struct {
	client       kubernetes.Interface
	recorder     record.EventRecorder
	log          *slog.Logger
	podLister    corelisters.PodLister
	nodeLister   corelisters.NodeLister
	claimLister  corelisters.PersistentVolumeClaimLister
	volumeLister corelisters.PersistentVolumeLister
	classLister  storagelisters.StorageClassLister
	synced       []cache.InformerSynced
	waiters      sync.WaitGroup // pods waiting for their volumes
	queue        workqueue.TypedRateLimitingInterface[string]
	binds        workqueue.TypedInterface[bindReq]
	bindWorkers  int

	mu      sync.Mutex
	nodes   map[string]*nodeInfo
	order   []string // node names, sorted; rebuilt when dirty
	dirty   bool
	pods    map[types.UID]*assumed
	unsched map[string]struct{} // pod keys waiting for a node change
	next    int
}

type bindReq struct {
	ns, name string
	uid      types.UID
	node     string
	claims   string // comma-separated claims to bind on node first
}

type nodeInfo struct {
	node     *corev1.Node
	cpu, mem int64 // requested (milli CPU, bytes)
	pods     int64
	owners   map[types.UID]int32
}

type assumed struct {
	node     string
	cpu, mem int64
	owner    types.UID
	// namespace and labels are what placement rules select pods by.
	namespace string
	labels    map[string]string
	// prio and name are what preemption weighs and evicts.
	prio int32
	name string
}

// New returns a scheduler; it registers its informers with o.Informers.
func New(o Options) *Scheduler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.BindWorkers <= 0 {
		o.BindWorkers = 16
	}
	s := &Scheduler{
		client: o.Client, recorder: o.Recorder, log: o.Log, bindWorkers: o.BindWorkers,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: o.Clock}),
		binds:   workqueue.NewTyped[bindReq](),
		nodes:   map[string]*nodeInfo{},
		pods:    map[types.UID]*assumed{},
		unsched: map[string]struct{}{},
	}
	pi := o.Informers.Core().V1().Pods()
	ni := o.Informers.Core().V1().Nodes()
	s.podLister, s.nodeLister = pi.Lister(), ni.Lister()
	ci, vi, si := o.Informers.Core().V1().PersistentVolumeClaims(), o.Informers.Core().V1().PersistentVolumes(), o.Informers.Storage().V1().StorageClasses()
	s.claimLister, s.volumeLister, s.classLister = ci.Lister(), vi.Lister(), si.Lister()
	s.synced = []cache.InformerSynced{pi.Informer().HasSynced, ni.Informer().HasSynced, ci.Informer().HasSynced,
		vi.Informer().HasSynced, si.Informer().HasSynced}
	for _, inf := range []cache.SharedIndexInformer{ci.Informer(), vi.Informer(), si.Informer()} {
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: s.volumeChanged,
			UpdateFunc: func(_, obj any) { s.volumeChanged(obj) }})
	}
	_, _ = pi.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.podChanged(obj, false) },
		UpdateFunc: func(_, obj any) { s.podChanged(obj, false) },
		DeleteFunc: func(obj any) { s.podChanged(obj, true) },
	})
	_, _ = ni.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.nodeChanged(obj, false) },
		UpdateFunc: func(_, obj any) { s.nodeChanged(obj, false) },
		DeleteFunc: func(obj any) { s.nodeChanged(obj, true) },
	})
	return s
}

func responsible(p *corev1.Pod) bool {
	return p.Spec.SchedulerName == "" || p.Spec.SchedulerName == Name
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func (s *Scheduler) podChanged(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if deleted || terminal(p) || p.Spec.NodeName == "" {
		if a := s.pods[p.UID]; a != nil && (deleted || terminal(p)) {
			s.unaccount(p.UID, a)
			// room was freed: pods waiting for it may fit now
			s.retryUnschedulableLocked()
		}
		if !deleted && p.Spec.NodeName == "" && p.DeletionTimestamp == nil && responsible(p) && !terminal(p) {
			s.queue.Add(p.Namespace + "/" + p.Name)
		}
		return
	}
	if _, ok := s.pods[p.UID]; !ok {
		s.account(p.UID, p, p.Spec.NodeName)
	}
}

func (s *Scheduler) nodeChanged(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ni := s.nodes[n.Name]
	if deleted {
		delete(s.nodes, n.Name)
		s.dirty = true
		return
	}
	if ni == nil {
		ni = &nodeInfo{owners: map[types.UID]int32{}}
		s.nodes[n.Name] = ni
		s.dirty = true
	}
	wasFit := ni.node != nil && nodeUsable(ni.node)
	// A taint gone (a pressure condition over, say) may let a pod in, as
	// kube-scheduler's NodeTaintChange event requeues it.
	untainted := false
	if ni.node != nil {
		for i := range ni.node.Spec.Taints {
			if !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.MatchTaint(&ni.node.Spec.Taints[i]) }) {
				untainted = true
			}
		}
	}
	ni.node = n
	if (!wasFit || untainted) && nodeUsable(n) {
		s.retryUnschedulableLocked()
	}
}

func (s *Scheduler) retryUnschedulableLocked() {
	for k := range s.unsched {
		s.queue.Add(k)
		delete(s.unsched, k)
	}
}

func podRequests(p *corev1.Pod) (cpu, mem int64) {
	for i := range p.Spec.Containers {
		r := p.Spec.Containers[i].Resources.Requests
		if q, ok := r[corev1.ResourceCPU]; ok {
			cpu += q.MilliValue()
		}
		if q, ok := r[corev1.ResourceMemory]; ok {
			mem += q.Value()
		}
	}
	for i := range p.Spec.InitContainers {
		r := p.Spec.InitContainers[i].Resources.Requests
		if q, ok := r[corev1.ResourceCPU]; ok && q.MilliValue() > cpu {
			cpu = q.MilliValue()
		}
		if q, ok := r[corev1.ResourceMemory]; ok && q.Value() > mem {
			mem = q.Value()
		}
	}
	return cpu, mem
}

func ownerUID(p *corev1.Pod) types.UID {
	if ref := metav1.GetControllerOf(p); ref != nil {
		return ref.UID
	}
	return ""
}

func (s *Scheduler) account(uid types.UID, p *corev1.Pod, node string) {
	cpu, mem := podRequests(p)
	a := &assumed{node: node, cpu: cpu, mem: mem, owner: ownerUID(p), namespace: p.Namespace, labels: p.Labels, prio: podPriority(p), name: p.Name}
	s.pods[uid] = a
	ni := s.nodes[node]
	if ni == nil {
		ni = &nodeInfo{owners: map[types.UID]int32{}}
		s.nodes[node] = ni
		s.dirty = true
	}
	ni.cpu += cpu
	ni.mem += mem
	ni.pods++
	if a.owner != "" {
		ni.owners[a.owner]++
	}
}

func (s *Scheduler) unaccount(uid types.UID, a *assumed) {
	delete(s.pods, uid)
	ni := s.nodes[a.node]
	if ni == nil {
		return
	}
	ni.cpu -= a.cpu
	ni.mem -= a.mem
	ni.pods--
	if a.owner != "" {
		if ni.owners[a.owner]--; ni.owners[a.owner] <= 0 {
			delete(ni.owners, a.owner)
		}
	}
}

// Run schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	defer s.queue.ShutDown()
	defer s.binds.ShutDown()
	if !informersync.Wait(ctx.Done(), s.synced...) {
		return
	}
	var wg sync.WaitGroup
	for range s.bindWorkers {
		wg.Add(1)
		go func() { defer wg.Done(); s.bindWorker(ctx) }()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for s.scheduleNext(ctx) {
		}
	}()
	<-ctx.Done()
	s.queue.ShutDown()
	s.binds.ShutDown()
	wg.Wait()
	s.waiters.Wait()
}

func (s *Scheduler) scheduleNext(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	ns, name, _ := strings.Cut(key, "/")
	pod, err := s.podLister.Pods(ns).Get(name)
	if err != nil || pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil || !responsible(pod) || terminal(pod) {
		s.queue.Forget(key)
		return true
	}
	s.mu.Lock()
	if _, done := s.pods[pod.UID]; done {
		// assumed already; the binding is in flight
		s.mu.Unlock()
		return true
	}
	vols, why := s.volumesOf(pod)
	var node string
	var reasons map[string]int
	total := len(s.nodes)
	if why == "" {
		node, reasons, total = s.pick(pod, vols)
	}
	var plan *preemption
	if node != "" {
		s.account(pod.UID, pod, node)
		delete(s.unsched, key)
	} else {
		s.unsched[key] = struct{}{}
		if why == "" {
			plan = s.planPreemption(pod, vols)
		}
	}
	s.mu.Unlock()
	if node == "" {
		s.queue.Forget(key)
		if plan != nil {
			s.preempt(ctx, pod, plan)
		}
		msg := failureMessage(total, reasons)
		if why != "" {
			msg = preFilterMessage(total, why)
		}
		s.unschedulable(ctx, pod, msg)
		return true
	}
	s.queue.Forget(key)
	req := bindReq{ns: pod.Namespace, name: pod.Name, uid: pod.UID, node: node}
	if vols != nil {
		req.claims = strings.Join(vols.delayed, ",")
	}
	s.binds.Add(req)
	return true
}

func (s *Scheduler) bindWorker(ctx context.Context) {
	for {
		req, quit := s.binds.Get()
		if quit {
			return
		}
		s.bind(ctx, req)
		s.binds.Done(req)
	}
}

func (s *Scheduler) bind(ctx context.Context, req bindReq) {
	if req.claims != "" {
		// Binding waits for the claims; other pods do not wait for it.
		s.waiters.Add(1)
		go func() {
			defer s.waiters.Done()
			if err := s.bindVolumes(ctx, req); err != nil {
				s.bindFailed(ctx, req, err)
				return
			}
			req.claims = ""
			s.bind(ctx, req)
		}()
		return
	}
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: req.name, Namespace: req.ns, UID: req.uid},
		Target:     corev1.ObjectReference{Kind: "Node", Name: req.node},
	}
	err := s.client.CoreV1().Pods(req.ns).Bind(ctx, b, metav1.CreateOptions{})
	if err != nil {
		s.bindFailed(ctx, req, err)
		return
	}
	if s.recorder != nil {
		ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: req.ns, Name: req.name, UID: req.uid}
		s.recorder.Eventf(ref, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s", req.ns, req.name, req.node)
	}
}

// bindFailed forgets the pod's place and tries it again.
func (s *Scheduler) bindFailed(ctx context.Context, req bindReq, err error) {
	s.mu.Lock()
	if a := s.pods[req.uid]; a != nil {
		s.unaccount(req.uid, a)
	}
	s.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	s.log.Debug("binding failed", "pod", req.ns+"/"+req.name, "node", req.node, "err", err)
	if !apierrors.IsNotFound(err) {
		s.queue.AddRateLimited(req.ns + "/" + req.name)
	}
}

// nodeUsable: Ready and not cordoned.
func nodeUsable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Reasons a node is filtered out, in the words of the real scheduler.
const (
	reasonNotReady      = "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
	reasonUnschedulable = "node(s) were unschedulable"
	reasonSelector      = "node(s) didn't match Pod's node affinity/selector"
	reasonCPU           = "Insufficient cpu"
	reasonMemory        = "Insufficient memory"
	reasonPods          = "Too many pods"
)

// Tolerates reports whether one of tols tolerates t.
func Tolerates(tols []corev1.Toleration, t *corev1.Taint) bool {
	for i := range tols {
		if ToleratesTaint(&tols[i], t) {
			return true
		}
	}
	return false
}

// ToleratesTaint is the toleration matching rule: same effect (or any),
// and Exists on the key (or on every key) or Equal key and value.
func ToleratesTaint(tol *corev1.Toleration, t *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return tol.Key == "" || tol.Key == t.Key
	case corev1.TolerationOpEqual, "":
		return tol.Key == t.Key && tol.Value == t.Value
	}
	return false
}

// fit says why n cannot hold p ("" when it can).
func (s *Scheduler) fit(p *corev1.Pod, sel labels.Selector, cpu, mem int64, ni *nodeInfo, vols *podVolumes) string {
	n := ni.node
	if n == nil {
		return reasonNotReady
	}
	if n.Spec.Unschedulable {
		return reasonUnschedulable
	}
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) && !Tolerates(p.Spec.Tolerations, t) {
			return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
		}
	}
	if !nodeUsable(n) {
		return reasonNotReady
	}
	if sel != nil && !sel.Matches(labels.Set(n.Labels)) {
		return reasonSelector
	}
	alloc := n.Status.Allocatable
	if q, ok := alloc[corev1.ResourcePods]; ok && ni.pods+1 > q.Value() {
		return reasonPods
	}
	if q, ok := alloc[corev1.ResourceCPU]; ok && cpu > 0 && ni.cpu+cpu > q.MilliValue() {
		return reasonCPU
	}
	if q, ok := alloc[corev1.ResourceMemory]; ok && mem > 0 && ni.mem+mem > q.Value() {
		return reasonMemory
	}
	return vols.fits(n)
}

// sampleSize is how many feasible nodes are compared (the real scheduler
// scores a percentage of nodes in big clusters).
func sampleSize(n int) int {
	if n <= 100 {
		return n
	}
	return max(100, n/10)
}

// pick chooses a node for p (s.mu held). With none it returns the count of
// each reason and the number of nodes.
func (s *Scheduler) pick(p *corev1.Pod, vols *podVolumes) (string, map[string]int, int) {
	if s.dirty {
		s.order = s.order[:0]
		for name := range s.nodes {
			s.order = append(s.order, name)
		}
		sort.Strings(s.order)
		s.dirty = false
	}
	var sel labels.Selector
	if len(p.Spec.NodeSelector) > 0 {
		sel = labels.SelectorFromSet(p.Spec.NodeSelector)
	}
	cpu, mem := podRequests(p)
	owner := ownerUID(p)
	rules := s.placementOf(p) // placement.go
	total := len(s.order)
	want := sampleSize(total)
	best, bestSpread, bestLoad := "", int32(0), 0.0
	found := 0
	var reasons map[string]int
	start := s.next
	for i := 0; i < total && found < want; i++ {
		name := s.order[(start+i)%total]
		ni := s.nodes[name]
		why := s.fit(p, sel, cpu, mem, ni, vols)
		if why == "" && rules != nil {
			why = rules.fit(p, ni.node)
		}
		if why != "" {
			if reasons == nil {
				reasons = map[string]int{}
			}
			reasons[why]++
			continue
		}
		found++
		spread := int32(0)
		if owner != "" {
			spread = ni.owners[owner]
		}
		load := loadOf(ni)
		if best == "" || spread < bestSpread || (spread == bestSpread && load < bestLoad) {
			best, bestSpread, bestLoad = name, spread, load
		}
	}
	if total > 0 {
		s.next = (start + 1) % total
	}
	if best == "" {
		return "", reasons, total
	}
	return best, nil, total
}

// loadOf is the larger of the CPU, memory and pod-slot fractions in use.
func loadOf(ni *nodeInfo) float64 {
	a := ni.node.Status.Allocatable
	frac := func(used int64, q int64) float64 {
		if q <= 0 {
			return 0
		}
		return float64(used) / float64(q)
	}
	l := 0.0
	if q, ok := a[corev1.ResourceCPU]; ok {
		l = max(l, frac(ni.cpu, q.MilliValue()))
	}
	if q, ok := a[corev1.ResourceMemory]; ok {
		l = max(l, frac(ni.mem, q.Value()))
	}
	if q, ok := a[corev1.ResourcePods]; ok {
		l = max(l, frac(ni.pods, q.Value()))
	}
	return l
}

// failureMessage formats the reasons as the real scheduler does:
// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match
// Pod's node affinity/selector. preemption: …".
func failureMessage(total int, reasons map[string]int) string {
	if total == 0 {
		return "no nodes available to schedule pods"
	}
	parts := make([]string, 0, len(reasons))
	for r, n := range reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	return fmt.Sprintf("0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.",
		total, strings.Join(parts, ", "), total, total)
}

// preFilterMessage is the message of a pod no node is even looked at for.
func preFilterMessage(total int, why string) string {
	return fmt.Sprintf("0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.",
		total, why, total, total)
}

func (s *Scheduler) unschedulable(ctx context.Context, pod *corev1.Pod, msg string) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message == msg {
			return // already said
		}
	}
	if s.recorder != nil {
		s.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedScheduling", "%s", msg)
	}
	upd := pod.DeepCopy()
	upd.ManagedFields = nil // the shared informer's pods keep them; the write needs none
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: msg, LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))}
	replaced := false
	for i := range upd.Status.Conditions {
		if upd.Status.Conditions[i].Type == corev1.PodScheduled {
			upd.Status.Conditions[i] = cond
			replaced = true
		}
	}
	if !replaced {
		upd.Status.Conditions = append(upd.Status.Conditions, cond)
	}
	if _, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
		s.log.Debug("marking pod unschedulable", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
}
