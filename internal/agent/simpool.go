package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/kube/sharedpods"
	"github.com/stratus-cloud/stratus/internal/runtime"
)

// SimPoolOptions configure a pool of simulated nodes.
type SimPoolOptions struct {
	// Client reaches the Kubernetes API (required).
	Client kubernetes.Interface
	// Count is the number of nodes started with the pool; a pool of 0
	// gets its nodes by AddNode.
	Count int
	// Prefix names the nodes Prefix0, Prefix1, … (default "sim-node-").
	Prefix string
	// Runtime runs every node's containers (required; normally
	// sim.New). The pool owns it and closes it on Stop.
	Runtime runtime.Runtime
	// Capacity of each node (default 32 CPUs, 256 GiB, 110 pods, as kwok).
	Capacity corev1.ResourceList
	// Labels and Taints are added to every node.
	Labels map[string]string
	Taints []corev1.Taint
	// Certs, Addr: the shared node server (see Options).
	Certs Certs
	Addr  string
	// Workers sync pods and heartbeats (default 16).
	Workers int
	// Pods is the process's shared pod informer (nil: the pool watches the
	// pods bound to nodes itself).
	Pods   *sharedpods.Informer
	Timing Timing
	Clock  clock.WithTicker
	Log    *slog.Logger
}

// SimPool runs many simulated nodes in one engine; it is an app.Component.
type SimPool struct {
	e *engine
	// A pool of no nodes starts its engine (informers over every bound
	// pod, a log server) with its first AddNode: until a VM joins it costs
	// nothing.
	startMu  sync.Mutex
	ctx      context.Context // from Start, for a deferred start
	started  bool
	capacity corev1.ResourceList
	labels   map[string]string
	taints   []corev1.Taint
}

var (
	_ app.Component = (*SimPool)(nil)
	_ app.Readier   = (*SimPool)(nil)
)

// SimCapacity is the default capacity of a simulated node.
func SimCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("32"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
}

// NewSimPool returns a pool of Count simulated nodes.
func NewSimPool(o SimPoolOptions) (*SimPool, error) {
	if o.Client == nil || o.Runtime == nil || o.Count < 0 {
		return nil, errors.New("agent: sim pool needs Client, Runtime and Count >= 0")
	}
	if o.Prefix == "" {
		o.Prefix = "sim-node-"
	}
	if o.Capacity == nil {
		o.Capacity = SimCapacity()
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	labels := map[string]string{"node.stratus.io/simulated": "true"}
	for k, v := range o.Labels {
		labels[k] = v
	}
	nodes := make([]nodeConfig, o.Count)
	for i := range nodes {
		nodes[i] = nodeConfig{name: fmt.Sprintf("%s%d", o.Prefix, i), capacity: o.Capacity, labels: labels, taints: o.Taints}
	}
	e := newEngine(engineConfig{
		client: o.Client, rt: o.Runtime, certs: o.Certs, addr: o.Addr,
		workers: o.Workers, timing: o.Timing, clock: o.Clock, log: o.Log, name: "simpool", nodes: nodes, pods: o.Pods,
	})
	return &SimPool{e: e, capacity: o.Capacity, labels: labels, taints: o.Taints}, nil
}

// Name implements app.Component.
func (p *SimPool) Name() string { return "sim-nodes" }

// Start registers every node and begins syncing their pods; a pool of no
// nodes waits for its first AddNode.
func (p *SimPool) Start(ctx context.Context) error {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	p.ctx = context.WithoutCancel(ctx)
	if p.e.numNodes() == 0 {
		return nil
	}
	p.started = true
	return p.e.start(ctx)
}

// Stop stops the pool and closes its runtime.
func (p *SimPool) Stop(ctx context.Context) error {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	if !p.started {
		if c, ok := p.e.rt.(interface{ Close() error }); ok {
			return c.Close()
		}
		return nil
	}
	return p.e.stop(ctx)
}

// Ready implements app.Readier.
func (p *SimPool) Ready() bool {
	p.startMu.Lock()
	lazy := !p.started && p.ctx != nil
	p.startMu.Unlock()
	return lazy || p.e.ready.Load()
}

// ensureStarted starts the engine of a pool that started with no nodes.
func (p *SimPool) ensureStarted() error {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	if p.started {
		return nil
	}
	if p.ctx == nil {
		return errors.New("agent: the pool is not running")
	}
	if err := p.e.start(p.ctx); err != nil {
		return err
	}
	p.started = true
	return nil
}

// LogAddr is the shared log server's address once started.
func (p *SimPool) LogAddr() net.Addr { return p.e.logAddr() }

// NodeNames lists the pool's nodes.
func (p *SimPool) NodeNames() []string {
	nodes := p.e.nodeSnapshot()
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.name)
	}
	return names
}

// NodeSpec describes a node added to a running pool: a machine that
// joined (a VM whose user data ran the join command).
type NodeSpec struct {
	Name string
	// Capacity (default: the pool's).
	Capacity corev1.ResourceList
	// Labels are added to the pool's.
	Labels map[string]string
	// InternalIP is reported instead of the pool's address; Addresses
	// (ExternalIP, …) besides it.
	InternalIP string
	Addresses  []corev1.NodeAddress
	// ProviderID is the node's spec.providerID.
	ProviderID string
}

// AddNode registers a node with the running pool and keeps it alive until
// RemoveNode; a node already in the pool is left as it is.
func (p *SimPool) AddNode(ctx context.Context, s NodeSpec) error {
	if s.Name == "" {
		return errors.New("agent: a node needs a name")
	}
	nc := nodeConfig{name: s.Name, capacity: s.Capacity, labels: map[string]string{}, taints: p.taints,
		internalIP: s.InternalIP, addresses: s.Addresses, providerID: s.ProviderID}
	if nc.capacity == nil {
		nc.capacity = p.capacity
	}
	for k, v := range p.labels {
		nc.labels[k] = v
	}
	for k, v := range s.Labels {
		nc.labels[k] = v
	}
	if err := p.ensureStarted(); err != nil {
		return err
	}
	return p.e.addNode(ctx, nc)
}

// RemoveNode stops running the node, as its machine stopping would: its
// heartbeats end and its containers stop; the Node object stays. It
// reports whether the pool ran the node.
func (p *SimPool) RemoveNode(name string) bool {
	p.startMu.Lock()
	started := p.started
	p.startMu.Unlock()
	return started && p.e.removeNode(name)
}

// RestartNode restarts a running node, as its machine rebooting does: the
// node stops running, reports NotReady while its kubelet starts (the
// reason and message a starting kubelet posts) and is Ready again once it
// has registered. A watcher sees the node blink.
func (p *SimPool) RestartNode(ctx context.Context, name string) error {
	n := p.e.node(name)
	if n == nil || !p.RemoveNode(name) {
		return fmt.Errorf("agent: the pool does not run node %s", name)
	}
	nodes := p.e.client.CoreV1().Nodes()
	cur, err := nodes.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("agent: node %s: %w", name, err)
	}
	now := metav1.NewTime(p.e.clock.Now().Truncate(time.Second))
	for i := range cur.Status.Conditions {
		if c := &cur.Status.Conditions[i]; c.Type == corev1.NodeReady {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, "KubeletNotReady", "container runtime status check may not have completed yet"
			c.LastHeartbeatTime, c.LastTransitionTime = now, now
		}
	}
	if _, err := nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("agent: node %s status: %w", name, err)
	}
	return p.e.addNode(ctx, n.cfg)
}

// HasNode reports whether the pool runs the node.
func (p *SimPool) HasNode(name string) bool { return p.e.node(name) != nil }

// SetPressure makes the node report the given pressure conditions True
// (MemoryPressure, DiskPressure, PIDPressure; none: all False) and posts
// its status at once, as the kubelet does when its eviction thresholds
// are crossed.
func (p *SimPool) SetPressure(ctx context.Context, name string, conds []corev1.NodeConditionType) error {
	for _, c := range conds {
		if !slices.Contains(PressureConditions(), c) {
			return fmt.Errorf("agent: condition %q: want MemoryPressure, DiskPressure or PIDPressure", c)
		}
	}
	n := p.e.node(name)
	if n == nil {
		return fmt.Errorf("agent: the pool runs no node %q", name)
	}
	n.mu.Lock()
	n.pressure = slices.Clone(conds)
	n.mu.Unlock()
	return p.e.updateNodeStatus(ctx, n, nil)
}
