package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coordlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/stratus-cloud/stratus/internal/kube/controller/scheduler"
)

// nodeLifecycle watches node heartbeats (leases, or the Ready condition's
// heartbeat when there are no leases): a node silent for the grace period
// gets its conditions set to Unknown and the unreachable taints, its pods
// are marked not ready and, once their toleration of the taint runs out,
// evicted; a node heard from again gets its taints removed. It also hands
// each node a /24 pod CIDR from the cluster range (the node IPAM
// controller's job) and deletes the pods of deleted nodes (pod GC).
type nodeLifecycle struct {
	m           *Manager
	loop        *loop
	nodeLister  corelisters.NodeLister
	leaseLister coordlisters.LeaseLister
	podIdx      cache.Indexer
	rec         record.EventRecorder
	lifecycle   bool
	ipam        bool

	mu       sync.Mutex
	seen     map[string]heartbeat // node → last heartbeat and when we saw it change
	cidrBase net.IP
	cidrMax  int
	used     map[int]string // /24 index → node
}

type heartbeat struct {
	beat     time.Time // the heartbeat's own time (lease renewTime)
	observed time.Time // our clock when it last changed
}

const nodeNameIndex = "spec.nodeName"

// Taints of unhealthy nodes.
var (
	taintUnreachable = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	taintUnreachNS   = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}
)

func (m *Manager) addNodeLifecycle(lifecycle, ipam bool) error {
	_, cidr, err := net.ParseCIDR(m.o.ClusterCIDR)
	if err != nil || cidr.IP.To4() == nil {
		return fmt.Errorf("controller: cluster CIDR %q: not an IPv4 CIDR", m.o.ClusterCIDR)
	}
	ones, _ := cidr.Mask.Size()
	if ones > 24 {
		return fmt.Errorf("controller: cluster CIDR %q is smaller than one /24", m.o.ClusterCIDR)
	}
	nl := &nodeLifecycle{m: m, lifecycle: lifecycle, ipam: ipam, seen: map[string]heartbeat{},
		cidrBase: cidr.IP.To4(), cidrMax: 1 << (24 - ones), used: map[int]string{}, rec: m.recorder("node-controller")}
	nl.loop = m.newLoop("nodelifecycle", m.o.Workers, nl.sync)
	ni := m.factory.Core().V1().Nodes()
	nl.nodeLister = ni.Lister()
	_, _ = ni.Informer().AddEventHandler(nl.loop.handler())
	if lifecycle {
		li := m.factory.Coordination().V1().Leases()
		nl.leaseLister = li.Lister()
		_, _ = li.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    nl.leaseChanged,
			UpdateFunc: func(_, obj any) { nl.leaseChanged(obj) },
		})
		pods := m.factory.Core().V1().Pods().Informer()
		if _, ok := pods.GetIndexer().GetIndexers()[nodeNameIndex]; !ok {
			_ = pods.AddIndexers(cache.Indexers{nodeNameIndex: func(obj any) ([]string, error) {
				if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
					return []string{p.Spec.NodeName}, nil
				}
				return nil, nil
			}})
		}
		nl.podIdx = pods.GetIndexer()
		m.runs = append(m.runs, nl.monitor)
	}
	return nil
}

func (nl *nodeLifecycle) leaseChanged(obj any) {
	l, ok := obj.(*coordinationv1.Lease)
	if !ok || l.Namespace != "kube-node-lease" || l.Spec.RenewTime == nil {
		return
	}
	nl.mu.Lock()
	hb := nl.seen[l.Name]
	changed := !hb.beat.Equal(l.Spec.RenewTime.Time)
	if changed {
		nl.seen[l.Name] = heartbeat{beat: l.Spec.RenewTime.Time, observed: nl.m.o.Clock.Now()}
	}
	nl.mu.Unlock()
	if changed && hb.observed.IsZero() {
		nl.loop.q.Add(l.Name)
	}
}

// monitor looks at every node's health each NodeMonitorPeriod.
func (nl *nodeLifecycle) monitor(ctx context.Context) {
	t := nl.m.o.Clock.NewTicker(nl.m.o.NodeMonitorPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		nodes, _ := nl.nodeLister.List(everything)
		now := nl.m.o.Clock.Now()
		for _, n := range nodes {
			stale := nl.stale(n, now)
			if stale != hasTaint(n.Spec.Taints, taintUnreachable) || (stale && readyStatus(n) != corev1.ConditionUnknown) {
				nl.loop.q.Add(n.Name)
			} else if stale {
				nl.loop.q.Add(n.Name) // evictions may be due
			}
		}
	}
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

// stale reports whether n has not been heard from within the grace period.
func (nl *nodeLifecycle) stale(n *corev1.Node, now time.Time) bool {
	nl.mu.Lock()
	hb, ok := nl.seen[n.Name]
	nl.mu.Unlock()
	// the Ready condition's heartbeat counts too (agents without leases)
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status != corev1.ConditionUnknown && c.LastHeartbeatTime.After(hb.beat) {
			hb = heartbeat{beat: c.LastHeartbeatTime.Time, observed: now}
			nl.mu.Lock()
			nl.seen[n.Name] = hb
			nl.mu.Unlock()
			ok = true
		}
	}
	if !ok {
		// never seen: count from when we first looked
		nl.mu.Lock()
		nl.seen[n.Name] = heartbeat{observed: now}
		nl.mu.Unlock()
		return false
	}
	return now.Sub(hb.observed) > nl.m.o.NodeMonitorGracePeriod
}

func hasTaint(ts []corev1.Taint, t corev1.Taint) bool {
	for _, x := range ts {
		if x.Key == t.Key && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

var everything = labels.Everything()

func (nl *nodeLifecycle) sync(ctx context.Context, name string) (time.Duration, error) {
	n, err := nl.nodeLister.Get(name)
	if apierrors.IsNotFound(err) {
		nl.release(name)
		if nl.lifecycle {
			return 0, nl.deleteOrphans(ctx, name)
		}
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if nl.ipam {
		if err := nl.assignCIDR(ctx, n); err != nil {
			return 0, err
		}
	}
	if !nl.lifecycle {
		return 0, nil
	}
	now := nl.m.o.Clock.Now()
	stale := nl.stale(n, now)
	tainted := hasTaint(n.Spec.Taints, taintUnreachable)
	switch {
	case stale && (!tainted || readyStatus(n) != corev1.ConditionUnknown):
		if err := nl.markUnknown(ctx, n, now); err != nil {
			return 0, err
		}
		return nl.m.o.NodeMonitorPeriod, nil
	case stale:
		return nl.evict(ctx, n, now)
	case !stale && tainted && readyStatus(n) == corev1.ConditionTrue:
		upd := n.DeepCopy()
		upd.Spec.Taints = removeTaints(upd.Spec.Taints, taintUnreachable, taintUnreachNS)
		_, err := nl.m.o.Client.CoreV1().Nodes().Update(ctx, upd, metav1.UpdateOptions{})
		return 0, err
	case !stale:
		return 0, nl.conditionTaints(ctx, n)
	}
	return 0, nil
}

// conditionTaints: the NoSchedule taints the node lifecycle controller
// keeps in step with a node's pressure conditions (TaintNodesByCondition).
var conditionTaints = map[corev1.NodeConditionType]corev1.Taint{
	corev1.NodeMemoryPressure: {Key: corev1.TaintNodeMemoryPressure, Effect: corev1.TaintEffectNoSchedule},
	corev1.NodeDiskPressure:   {Key: corev1.TaintNodeDiskPressure, Effect: corev1.TaintEffectNoSchedule},
	corev1.NodePIDPressure:    {Key: corev1.TaintNodePIDPressure, Effect: corev1.TaintEffectNoSchedule},
}

// conditionTaints adds the taint of each pressure condition that is True
// and removes those of the others.
func (nl *nodeLifecycle) conditionTaints(ctx context.Context, n *corev1.Node) error {
	var add, rm []corev1.Taint
	for _, c := range n.Status.Conditions {
		t, ok := conditionTaints[c.Type]
		switch {
		case !ok:
		case c.Status == corev1.ConditionTrue && !hasTaint(n.Spec.Taints, t):
			add = append(add, t)
		case c.Status != corev1.ConditionTrue && hasTaint(n.Spec.Taints, t):
			rm = append(rm, t)
		}
	}
	if len(add) == 0 && len(rm) == 0 {
		return nil
	}
	upd := n.DeepCopy()
	upd.Spec.Taints = append(removeTaints(upd.Spec.Taints, rm...), add...)
	_, err := nl.m.o.Client.CoreV1().Nodes().Update(ctx, upd, metav1.UpdateOptions{})
	return err
}

func removeTaints(ts []corev1.Taint, rm ...corev1.Taint) []corev1.Taint {
	out := ts[:0]
	for _, t := range ts {
		if !hasTaint(rm, t) {
			out = append(out, t)
		}
	}
	return out
}

// markUnknown sets the node's conditions to Unknown, taints it and marks
// its pods not ready.
func (nl *nodeLifecycle) markUnknown(ctx context.Context, n *corev1.Node, now time.Time) error {
	nodes := nl.m.o.Client.CoreV1().Nodes()
	if readyStatus(n) != corev1.ConditionUnknown {
		upd := n.DeepCopy()
		t := metav1.NewTime(now.Truncate(time.Second))
		for i := range upd.Status.Conditions {
			c := &upd.Status.Conditions[i]
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", t
		}
		got, err := nodes.UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		n = got
		nl.rec.Eventf(&corev1.ObjectReference{Kind: "Node", Name: n.Name, UID: n.UID}, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", n.Name)
		nl.m.log.Info("node stopped posting status", "node", n.Name)
		for _, o := range nl.podsOn(n.Name) {
			nl.markPodNotReady(ctx, o, t)
		}
	}
	if !hasTaint(n.Spec.Taints, taintUnreachable) {
		upd := n.DeepCopy()
		now := metav1.NewTime(now)
		ne := taintUnreachable
		ne.TimeAdded = &now
		upd.Spec.Taints = append(removeTaints(upd.Spec.Taints, taintUnreachable, taintUnreachNS), taintUnreachNS, ne)
		if _, err := nodes.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func (nl *nodeLifecycle) podsOn(node string) []*corev1.Pod {
	objs, _ := nl.podIdx.ByIndex(nodeNameIndex, node)
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		pods = append(pods, o.(*corev1.Pod))
	}
	return pods
}

func (nl *nodeLifecycle) markPodNotReady(ctx context.Context, p *corev1.Pod, t metav1.Time) {
	upd := p.DeepCopy()
	upd.ManagedFields = nil // the shared informer's pods keep them; the write needs none
	changed := false
	for i := range upd.Status.Conditions {
		c := &upd.Status.Conditions[i]
		if (c.Type == corev1.PodReady || c.Type == corev1.ContainersReady) && c.Status != corev1.ConditionFalse {
			c.Status, c.LastTransitionTime = corev1.ConditionFalse, t
			changed = true
		}
	}
	if changed {
		_, _ = nl.m.o.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	}
}

// evict deletes the pods on an unreachable node whose toleration of the
// NoExecute taint has run out; it returns when the next one is due.
func (nl *nodeLifecycle) evict(ctx context.Context, n *corev1.Node, now time.Time) (time.Duration, error) {
	var taint *corev1.Taint
	for i := range n.Spec.Taints {
		if n.Spec.Taints[i].Key == taintUnreachable.Key && n.Spec.Taints[i].Effect == corev1.TaintEffectNoExecute {
			taint = &n.Spec.Taints[i]
		}
	}
	if taint == nil {
		return 0, nil
	}
	added := now
	if taint.TimeAdded != nil {
		added = taint.TimeAdded.Time
	}
	var next time.Duration
	for _, p := range nl.podsOn(n.Name) {
		if p.DeletionTimestamp != nil {
			continue
		}
		wait, forever := tolerationLeft(p, taint, added, now)
		if forever {
			continue
		}
		if wait > 0 {
			if next == 0 || wait < next {
				next = wait
			}
			continue
		}
		nl.rec.Eventf(p, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", p.Namespace, p.Name)
		uid := p.UID
		err := nl.m.o.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return 0, err
		}
	}
	if next == 0 {
		next = nl.m.o.NodeMonitorPeriod
	}
	return next, nil
}

// tolerationLeft is how long p may stay on a node with taint t added at
// added (forever when it tolerates it without a limit).
func tolerationLeft(p *corev1.Pod, t *corev1.Taint, added, now time.Time) (time.Duration, bool) {
	var best *corev1.Toleration
	for i := range p.Spec.Tolerations {
		tol := &p.Spec.Tolerations[i]
		if !scheduler.ToleratesTaint(tol, t) {
			continue
		}
		if tol.TolerationSeconds == nil {
			return 0, true
		}
		if best == nil || *tol.TolerationSeconds < *best.TolerationSeconds {
			best = tol
		}
	}
	if best == nil {
		return 0, false
	}
	left := added.Add(time.Duration(*best.TolerationSeconds) * time.Second).Sub(now)
	if left < 0 {
		left = 0
	}
	return left, false
}

// deleteOrphans force-deletes the pods of a node that no longer exists.
func (nl *nodeLifecycle) deleteOrphans(ctx context.Context, node string) error {
	zero := int64(0)
	for _, p := range nl.podsOn(node) {
		err := nl.m.o.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// cidrOf is the /24 number i of the cluster range.
func (nl *nodeLifecycle) cidrOf(i int) string {
	b := nl.cidrBase
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(i) << 8
	return fmt.Sprintf("%d.%d.%d.0/24", byte(v>>24), byte(v>>16), byte(v>>8))
}

func (nl *nodeLifecycle) indexOf(cidr string) (int, bool) {
	ip, _, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		return 0, false
	}
	b, p := nl.cidrBase, ip.To4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8
	v := uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8
	if v < base || int((v-base)>>8) >= nl.cidrMax {
		return 0, false
	}
	return int((v - base) >> 8), true
}

func (nl *nodeLifecycle) release(node string) {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	delete(nl.seen, node)
	for i, n := range nl.used {
		if n == node {
			delete(nl.used, i)
		}
	}
}

// assignCIDR gives n the lowest free /24 (first recording every CIDR
// nodes already hold, so a restart hands out no duplicate).
func (nl *nodeLifecycle) assignCIDR(ctx context.Context, n *corev1.Node) error {
	nl.mu.Lock()
	if len(nl.used) == 0 {
		all, _ := nl.nodeLister.List(everything)
		for _, o := range all {
			if i, ok := nl.indexOf(o.Spec.PodCIDR); ok {
				nl.used[i] = o.Name
			}
		}
	}
	if n.Spec.PodCIDR != "" {
		if i, ok := nl.indexOf(n.Spec.PodCIDR); ok {
			nl.used[i] = n.Name
		}
		nl.mu.Unlock()
		return nil
	}
	idx := -1
	for i := 0; i < nl.cidrMax; i++ {
		if _, taken := nl.used[i]; !taken {
			idx = i
			break
		}
	}
	if idx < 0 {
		nl.mu.Unlock()
		nl.rec.Eventf(&corev1.ObjectReference{Kind: "Node", Name: n.Name, UID: n.UID}, corev1.EventTypeNormal, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", n.Name)
		return nil
	}
	nl.used[idx] = n.Name
	nl.mu.Unlock()
	cidr := nl.cidrOf(idx)
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"podCIDR": cidr, "podCIDRs": []string{cidr}}})
	_, err := nl.m.o.Client.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		nl.mu.Lock()
		delete(nl.used, idx)
		nl.mu.Unlock()
		return err
	}
	return nil
}
