package agent

import (
	"cmp"
	"context"
	"fmt"
	"net"
	goruntime "runtime"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
)

// LeaseNamespace holds the node leases.
const LeaseNamespace = "kube-node-lease"

// KubeletVersion is what nodes report as their kubelet version.
const KubeletVersion = "v1.33.0-stratus"

// node is one node the engine runs.
type node struct {
	name     string
	cfg      nodeConfig
	recorder record.EventRecorder

	mu         sync.Mutex
	cidr       *net.IPNet
	ips        ipAlloc
	lease      *coordinationv1.Lease
	lastStatus time.Time
	uid        string
	// pressure are the pressure conditions the node reports True (a
	// fault's: the sim nodes have no real memory, disk or PIDs to run out of).
	pressure []corev1.NodeConditionType
}

// pressureConditions: what the kubelet reports for each pressure
// condition, (False reason and message, True reason and message).
var pressureConditions = []struct {
	t                            corev1.NodeConditionType
	okReason, okMsg, reason, msg string
}{
	{corev1.NodeMemoryPressure, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"},
	{corev1.NodeDiskPressure, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", "KubeletHasDiskPressure", "kubelet has disk pressure"},
	{corev1.NodePIDPressure, "KubeletHasSufficientPID", "kubelet has sufficient PID available", "KubeletHasInsufficientPID", "kubelet has insufficient PID available"},
}

// PressureConditions are the node conditions SimPool.SetPressure takes.
func PressureConditions() []corev1.NodeConditionType {
	out := make([]corev1.NodeConditionType, len(pressureConditions))
	for i, p := range pressureConditions {
		out[i] = p.t
	}
	return out
}

// ipAlloc hands out the addresses of a /24 (x.y.z.2 to x.y.z.254; .1 is
// kept, as a bridge's gateway would be).
type ipAlloc struct {
	used [256]bool
	next int
}

func (a *ipAlloc) take(i int) { a.used[i] = true }

func (a *ipAlloc) alloc() (int, bool) {
	for k := range 253 {
		i := 2 + (a.next+k)%253
		if !a.used[i] {
			a.used[i] = true
			a.next = i - 1
			return i, true
		}
	}
	return 0, false
}

// podIP allocates an address for a pod (prefer reuses a previous one).
func (n *node) podIP(prefer string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cidr == nil {
		return "", false
	}
	base := n.cidr.IP.To4()
	if ip := net.ParseIP(prefer).To4(); ip != nil && n.cidr.Contains(ip) && ip[3] >= 2 && ip[3] < 255 && !n.ips.used[ip[3]] {
		n.ips.take(int(ip[3]))
		return ip.String(), true
	}
	i, ok := n.ips.alloc()
	if !ok {
		return "", false
	}
	return net.IPv4(base[0], base[1], base[2], byte(i)).String(), true
}

func (n *node) releaseIP(ip string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := net.ParseIP(ip).To4()
	if p == nil || n.cidr == nil || !n.cidr.Contains(p) {
		return
	}
	n.ips.used[p[3]] = false
}

func (n *node) setCIDR(s string) {
	if s == "" {
		return
	}
	_, cidr, err := net.ParseCIDR(s)
	if err != nil || cidr.IP.To4() == nil {
		return
	}
	if ones, _ := cidr.Mask.Size(); ones != 24 {
		// a wider range works too: we use its first /24
		cidr.Mask = net.CIDRMask(24, 32)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cidr == nil || !n.cidr.IP.Equal(cidr.IP) {
		n.cidr = cidr
		n.ips = ipAlloc{}
	}
}

func (n *node) hasCIDR() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cidr != nil
}

func (e *engine) ensureLeaseNamespace(ctx context.Context) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: LeaseNamespace}}
	if _, err := e.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		e.log.Debug("cannot create the lease namespace", "err", err)
	}
}

// registerAll registers every node, 64 at a time.
func (e *engine) registerAll(ctx context.Context) error {
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, n := range e.nodeSnapshot() {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := e.register(ctx, n); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func (e *engine) nodeLabels(n *node) map[string]string {
	l := map[string]string{
		corev1.LabelHostname:      n.name,
		corev1.LabelOSStable:      goruntime.GOOS,
		corev1.LabelArchStable:    goruntime.GOARCH,
		"node.stratus.io/runtime": e.rtName,
	}
	for k, v := range n.cfg.labels {
		l[k] = v
	}
	return l
}

func (e *engine) nodeStatus(n *node, old *corev1.NodeStatus) corev1.NodeStatus {
	now := metav1.NewTime(e.clock.Now().Truncate(time.Second))
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
		if old != nil {
			for _, oc := range old.Conditions {
				if oc.Type == t && oc.Status == s {
					c.LastTransitionTime = oc.LastTransitionTime
				}
			}
		}
		return c
	}
	port := int32(0)
	if e.ln != nil {
		port = int32(e.ln.Addr().(*net.TCPAddr).Port)
	}
	n.mu.Lock()
	pressure := n.pressure
	n.mu.Unlock()
	conds := make([]corev1.NodeCondition, 0, len(pressureConditions)+1)
	for _, p := range pressureConditions {
		if slices.Contains(pressure, p.t) {
			conds = append(conds, cond(p.t, corev1.ConditionTrue, p.reason, p.msg))
		} else {
			conds = append(conds, cond(p.t, corev1.ConditionFalse, p.okReason, p.okMsg))
		}
	}
	st := corev1.NodeStatus{
		Capacity:    n.cfg.capacity.DeepCopy(),
		Allocatable: n.cfg.capacity.DeepCopy(),
		Conditions:  append(conds, cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status")),
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: cmp.Or(n.cfg.internalIP, e.cfg.internalIP)},
			{Type: corev1.NodeHostName, Address: n.name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: port}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID: n.name, SystemUUID: n.name, BootID: n.name,
			KernelVersion: "stratus", OSImage: "stratus " + e.rtName + " node",
			ContainerRuntimeVersion: e.rtName + "://stratus",
			KubeletVersion:          KubeletVersion, KubeProxyVersion: KubeletVersion,
			OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH,
		},
	}
	st.Addresses = append(st.Addresses, n.cfg.addresses...)
	if old != nil {
		st.Images = old.Images
	}
	return st
}

// register creates the node (or takes over an existing one), marks it
// Ready and creates its lease.
func (e *engine) register(ctx context.Context, n *node) error {
	nodes := e.client.CoreV1().Nodes()
	obj := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: e.nodeLabels(n)},
		Spec:       corev1.NodeSpec{Taints: n.cfg.taints, ProviderID: n.cfg.providerID},
	}
	obj.Status = e.nodeStatus(n, nil)
	created, err := nodes.Create(ctx, obj, metav1.CreateOptions{})
	switch {
	case err == nil:
		if !isReady(&created.Status) {
			created.Status = obj.Status
			if created, err = nodes.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("agent: node %s status: %w", n.name, err)
			}
		}
		n.recorder.Eventf(nodeRef(created), corev1.EventTypeNormal, "Starting", "Starting kubelet.")
	case apierrors.IsAlreadyExists(err):
		cur, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("agent: node %s: %w", n.name, err)
		}
		changed := false
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		for k, v := range obj.Labels {
			if cur.Labels[k] != v {
				cur.Labels[k] = v
				changed = true
			}
		}
		if cur.Spec.ProviderID == "" && n.cfg.providerID != "" {
			cur.Spec.ProviderID = n.cfg.providerID
			changed = true
		}
		for _, t := range n.cfg.taints {
			if !hasTaint(cur.Spec.Taints, t) {
				cur.Spec.Taints = append(cur.Spec.Taints, t)
				changed = true
			}
		}
		if changed {
			if cur, err = nodes.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("agent: node %s: %w", n.name, err)
			}
		}
		cur.Status = e.nodeStatus(n, &cur.Status)
		if cur, err = nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("agent: node %s status: %w", n.name, err)
		}
		created = cur
		n.recorder.Eventf(nodeRef(created), corev1.EventTypeNormal, "Starting", "Starting kubelet.")
	default:
		return fmt.Errorf("agent: register node %s: %w", n.name, err)
	}
	n.setCIDR(created.Spec.PodCIDR)
	n.mu.Lock()
	n.lastStatus = e.clock.Now()
	n.uid = string(created.UID)
	n.mu.Unlock()
	if e.numNodes() == 1 {
		// one node: its lease at once; a pool creates leases with the first
		// heartbeat, spread over the renew interval, so that registering
		// thousands of nodes is one write each
		if err := e.renewLease(ctx, n); err != nil {
			e.log.Debug("node lease", "node", n.name, "err", err)
		}
	}
	return nil
}

func nodeRef(n *corev1.Node) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: n.Name, UID: n.UID}
}

func hasTaint(ts []corev1.Taint, t corev1.Taint) bool {
	for _, x := range ts {
		if x.Key == t.Key && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

func isReady(st *corev1.NodeStatus) bool {
	for _, c := range st.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// renewLease creates or renews n's lease. When the API serves no leases it
// switches the engine to status heartbeats.
func (e *engine) renewLease(ctx context.Context, n *node) error {
	if e.leasesOff.Load() {
		return nil
	}
	leases := e.client.CoordinationV1().Leases(LeaseNamespace)
	now := metav1.NewMicroTime(e.clock.Now())
	n.mu.Lock()
	l := n.lease
	uid := n.uid
	n.mu.Unlock()
	dur := int32(e.timing.LeaseDuration / time.Second)
	for attempt := 0; attempt < 3; attempt++ {
		var err error
		var got *coordinationv1.Lease
		if l == nil {
			l = &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: LeaseNamespace},
				Spec:       coordinationv1.LeaseSpec{HolderIdentity: &n.name, LeaseDurationSeconds: &dur, RenewTime: &now},
			}
			if uid != "" {
				l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.name, UID: typesUID(uid)}}
			}
			got, err = leases.Create(ctx, l, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				got, err = leases.Get(ctx, n.name, metav1.GetOptions{})
				if err == nil {
					l = got
					continue
				}
			}
		} else {
			l = l.DeepCopy()
			l.Spec.RenewTime = &now
			l.Spec.HolderIdentity = &n.name
			l.Spec.LeaseDurationSeconds = &dur
			got, err = leases.Update(ctx, l, metav1.UpdateOptions{})
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				fresh, gerr := leases.Get(ctx, n.name, metav1.GetOptions{})
				if gerr == nil {
					l = fresh
				} else {
					l = nil
				}
				continue
			}
		}
		if err != nil {
			if apierrors.IsNotFound(err) && l != nil && l.ResourceVersion == "" {
				// the lease resource itself is not served
				e.leasesOff.Store(true)
				e.log.Info("the API serves no node leases; heartbeats go through node status")
				return nil
			}
			return err
		}
		n.mu.Lock()
		n.lease = got
		n.mu.Unlock()
		return nil
	}
	return fmt.Errorf("agent: lease %s: too many conflicts", n.name)
}

func (e *engine) heartbeatWorker(ctx context.Context) {
	for {
		name, quit := e.hbQ.Get()
		if quit {
			return
		}
		n := e.node(name)
		if n != nil {
			e.heartbeat(ctx, n)
			e.hbQ.AddAfter(name, e.beatDelay(e.jitter(e.timing.RenewInterval)))
		}
		e.hbQ.Done(name)
	}
}

// heartbeat renews the lease and, when due or when someone marked the node
// not Ready, writes the full status.
func (e *engine) heartbeat(ctx context.Context, n *node) {
	// A server that stopped answering must not hold the heartbeat: each
	// try has a deadline, and a failed one is tried once more at once (a
	// client of several servers has moved on to the next by then).
	for attempt := 1; ; attempt++ {
		hctx, cancel := context.WithTimeout(ctx, e.requestTimeout())
		err := e.renewLease(hctx, n)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		if attempt == 2 {
			e.log.Warn("node lease renewal failed", "node", n.name, "err", err)
			break
		}
		e.log.Debug("node lease renewal failed; trying again", "node", n.name, "err", err)
	}
	n.mu.Lock()
	due := e.clock.Since(n.lastStatus) >= e.timing.StatusReportInterval
	n.mu.Unlock()
	cur, _, _ := e.nodeInformer.GetIndexer().GetByKey(n.name)
	curNode, _ := cur.(*corev1.Node)
	if curNode != nil && !isReady(&curNode.Status) {
		due = true
	}
	if !due && !e.leasesOff.Load() {
		return
	}
	hctx, cancel := context.WithTimeout(ctx, e.requestTimeout())
	defer cancel()
	if err := e.updateNodeStatus(hctx, n, curNode); err != nil && ctx.Err() == nil {
		e.log.Warn("node status update failed", "node", n.name, "err", err)
	}
}

// requestTimeout bounds one heartbeat's API calls: the renew interval,
// but at least 2 s.
func (e *engine) requestTimeout() time.Duration {
	return max(e.timing.RenewInterval, 2*time.Second)
}

func (e *engine) updateNodeStatus(ctx context.Context, n *node, cur *corev1.Node) error {
	nodes := e.client.CoreV1().Nodes()
	for attempt := 0; attempt < 3; attempt++ {
		if cur == nil {
			got, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				// deleted under us: register again, as the kubelet does
				return e.register(ctx, n)
			}
			if err != nil {
				return err
			}
			cur = got
		}
		upd := cur.DeepCopy()
		upd.Status = e.nodeStatus(n, &cur.Status)
		_, err := nodes.UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			cur = nil
			continue
		}
		if err != nil {
			return err
		}
		n.mu.Lock()
		n.lastStatus = e.clock.Now()
		n.mu.Unlock()
		if !isReady(&cur.Status) {
			n.recorder.Eventf(nodeRef(cur), corev1.EventTypeNormal, "NodeReady", "Node %s status is now: NodeReady", n.name)
		}
		return nil
	}
	return fmt.Errorf("agent: node %s status: too many conflicts", n.name)
}

func (e *engine) onNode(obj any) {
	nd, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	n := e.node(nd.Name)
	if n == nil {
		return
	}
	had := n.hasCIDR()
	n.setCIDR(nd.Spec.PodCIDR)
	if !had && n.hasCIDR() {
		// pods waiting for addresses can start now
		e.mu.Lock()
		var keys []string
		for k, ps := range e.pods {
			if ps.node == n && ps.ip == "" {
				keys = append(keys, k)
			}
		}
		e.mu.Unlock()
		for _, k := range keys {
			e.podQ.Add(k)
		}
	}
	if !isReady(&nd.Status) && e.ready.Load() {
		e.hbQ.Add(n.name)
	}
}

func (e *engine) onNodeDeleted(obj any) {
	if d, ok := obj.(interface{ GetName() string }); ok {
		if n := e.node(d.GetName()); n != nil && e.ready.Load() {
			n.mu.Lock()
			n.lease = nil
			n.lastStatus = time.Time{}
			n.mu.Unlock()
			e.hbQ.Add(n.name)
		}
	}
}
