package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/kube/eventsink"
	"github.com/stratus-cloud/stratus/internal/kube/informersync"
	"github.com/stratus-cloud/stratus/internal/kube/sharedpods"
	"github.com/stratus-cloud/stratus/internal/runtime"
)

type nodeConfig struct {
	name     string
	capacity corev1.ResourceList
	labels   map[string]string
	taints   []corev1.Taint
	// internalIP overrides the engine's address for this node; addresses
	// are reported besides it (a VM's ExternalIP); providerID is the
	// node's spec.providerID.
	internalIP string
	addresses  []corev1.NodeAddress
	providerID string
}

type engineConfig struct {
	client     kubernetes.Interface
	rt         runtime.Runtime
	certs      Certs
	addr       string
	internalIP string
	workers    int
	timing     Timing
	clock      clock.WithTicker
	log        *slog.Logger
	name       string
	single     string // the node name when the engine serves one node
	nodes      []nodeConfig
	// pods is the process's shared pod informer (nil: the engine watches
	// the pods bound to nodes itself).
	pods *sharedpods.Informer
}

// engine runs the pods of a fixed set of nodes.
type engine struct {
	cfg    engineConfig
	client kubernetes.Interface
	rt     runtime.Runtime
	rtName string
	log    *slog.Logger
	clock  clock.WithTicker
	timing Timing

	// nodesMu guards nodes and nodeList, which a pool's AddNode and
	// RemoveNode change while it runs.
	nodesMu  sync.RWMutex
	nodes    map[string]*node
	nodeList []*node

	podQ workqueue.TypedRateLimitingInterface[string]
	hbQ  workqueue.TypedDelayingInterface[string]

	podInformer  cache.SharedIndexInformer
	podLister    corelisters.PodLister
	nodeInformer cache.SharedIndexInformer
	broadcaster  record.EventBroadcaster

	mu   sync.Mutex
	pods map[string]*podState // by namespace/name

	leasesOff atomic.Bool // the API serves no leases: heartbeat through node status

	ln  net.Listener
	srv *http.Server

	ready  atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newEngine(c engineConfig) *engine {
	c.timing = c.timing.withDefaults()
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.workers <= 0 {
		c.workers = 4
	}
	if c.addr == "" {
		c.addr = "127.0.0.1:0"
	}
	e := &engine{
		cfg: c, client: c.client, rt: c.rt, rtName: c.rt.Info().Name, log: c.log.With("component", c.name),
		clock: c.clock, timing: c.timing, nodes: make(map[string]*node, len(c.nodes)),
		pods: map[string]*podState{},
	}
	for _, nc := range c.nodes {
		n := &node{name: nc.name, cfg: nc}
		e.nodes[nc.name] = n
		e.nodeList = append(e.nodeList, n)
	}
	return e
}

func (e *engine) logAddr() net.Addr {
	if e.ln == nil {
		return nil
	}
	return e.ln.Addr()
}

func (e *engine) start(ctx context.Context) error {
	ln, err := net.Listen("tcp", e.cfg.addr)
	if err != nil {
		return fmt.Errorf("agent: log server: %w", err)
	}
	e.ln = ln
	if e.cfg.internalIP == "" {
		e.cfg.internalIP = ln.Addr().(*net.TCPAddr).IP.String()
		if ip := net.ParseIP(e.cfg.internalIP); ip == nil || ip.IsUnspecified() {
			e.cfg.internalIP = "127.0.0.1"
		}
	}
	if e.cfg.certs == nil {
		_ = ln.Close()
		return errors.New("agent: no certificates for the node server (Options.Certs)")
	}
	tlsCfg, err := e.serverTLS(ctx)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("agent: node server: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel = cancel
	e.srv = &http.Server{Handler: e.nodeHandler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsCfg,
		BaseContext: func(net.Listener) context.Context { return runCtx }}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("log server stopped", "err", err)
		}
	}()

	e.broadcaster, _ = eventsink.NewBroadcaster(runCtx, e.client)
	e.nodesMu.Lock()
	for _, n := range e.nodeList {
		n.recorder = e.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: n.name})
	}
	e.nodesMu.Unlock()

	e.podQ = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 30*time.Second),
		workqueue.TypedRateLimitingQueueConfig[string]{Clock: e.clock})
	e.hbQ = workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{Clock: e.clock})

	fail := func(err error) error {
		_ = e.stop(context.Background())
		return err
	}
	e.ensureLeaseNamespace(runCtx)
	if err := e.registerAll(runCtx); err != nil {
		return fail(err)
	}

	// informers: pods bound to our nodes, and our nodes
	podSel := fields.OneTermNotEqualSelector("spec.nodeName", "").String()
	nodeTweak := func(*metav1.ListOptions) {}
	if e.cfg.single != "" {
		podSel = fields.OneTermEqualSelector("spec.nodeName", e.cfg.single).String()
		nodeTweak = func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", e.cfg.single).String()
		}
	}
	pf := informers.NewSharedInformerFactoryWithOptions(e.client, e.timing.ResyncInterval,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = podSel }), informers.WithTransform(dropManagedFields))
	nf := informers.NewSharedInformerFactoryWithOptions(e.client, 0, informers.WithTweakListOptions(nodeTweak), informers.WithTransform(dropManagedFields))
	var podView *sharedpods.View
	if e.cfg.pods != nil {
		// The process's pod informer (every pod; onPod keeps ours). It
		// does not resync: resync below.
		podView = e.cfg.pods.View()
		e.podInformer = podView
		e.podLister = corelisters.NewPodLister(podView.GetIndexer())
		e.wg.Add(2)
		go func() { defer e.wg.Done(); podView.Run(runCtx.Done()); podView.Release() }()
		go func() { defer e.wg.Done(); e.resync(runCtx) }()
	} else {
		e.podInformer = pf.Core().V1().Pods().Informer()
		e.podLister = pf.Core().V1().Pods().Lister()
	}
	e.nodeInformer = nf.Core().V1().Nodes().Informer()
	_, _ = e.podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    e.onPod,
		UpdateFunc: func(_, obj any) { e.onPod(obj) },
		DeleteFunc: e.onPod,
	})
	_, _ = e.nodeInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    e.onNode,
		UpdateFunc: func(_, obj any) { e.onNode(obj) },
		DeleteFunc: e.onNodeDeleted,
	})
	pf.Start(runCtx.Done())
	nf.Start(runCtx.Done())
	e.wg.Add(1)
	go func() { defer e.wg.Done(); <-runCtx.Done(); pf.Shutdown(); nf.Shutdown() }()
	if !informersync.Wait(ctx.Done(), e.podInformer.HasSynced, e.nodeInformer.HasSynced) {
		return fail(errors.New("agent: informers did not sync"))
	}

	for range e.cfg.workers {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.podWorker(runCtx) }()
	}
	hbWorkers := min(e.cfg.workers, 8)
	for range hbWorkers {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.heartbeatWorker(runCtx) }()
	}
	for _, n := range e.nodeSnapshot() {
		first := e.timing.RenewInterval
		if e.numNodes() > 1 {
			// spread a pool's first heartbeats (and lease creations) evenly
			first = time.Duration(rand.Int64N(int64(first))) + time.Millisecond
		}
		e.hbQ.AddAfter(n.name, e.beatDelay(first))
	}
	e.ready.Store(true)
	e.log.Info("node agent started", "nodes", e.numNodes(), "runtime", e.rtName, "logs", ln.Addr().String())
	return nil
}

// jitter spreads d by up to -10 %, so many nodes do not beat in step.
func (e *engine) jitter(d time.Duration) time.Duration {
	if e.numNodes() < 2 {
		return d
	}
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}

// beatDelay turns a pool node's delay to its next heartbeat into the delay
// to the next multiple of a fortieth of the renew interval (250 ms by
// default) after it, so the heartbeats of a pool come in a few batches a
// second instead of one timer wake-up each (1,000 nodes: 100 a second),
// and the work one batch brings (requests, watch events, informer
// handlers) runs while the process is awake anyway. A lease is then
// renewed at most 250 ms later than its jittered interval, which the
// kubelet's own renewal jitter (up to 4 % of 10 s) also allows.
func (e *engine) beatDelay(d time.Duration) time.Duration {
	q := e.timing.RenewInterval / 40
	if e.numNodes() < 2 || q <= 0 {
		return d
	}
	now := e.clock.Now()
	due := now.Add(d)
	if r := due.Truncate(q); r.Before(due) {
		due = r.Add(q)
	}
	return due.Sub(now)
}

func (e *engine) stop(ctx context.Context) error {
	e.ready.Store(false)
	if e.cancel != nil {
		e.cancel()
	}
	if e.podQ != nil {
		e.podQ.ShutDown()
	}
	if e.hbQ != nil {
		e.hbQ.ShutDown()
	}
	var errs []error
	if e.srv != nil {
		if err := e.srv.Shutdown(ctx); err != nil {
			_ = e.srv.Close()
		}
	} else if e.ln != nil {
		_ = e.ln.Close()
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("agent: workers did not stop: %w", ctx.Err()))
	}
	if e.broadcaster != nil {
		e.broadcaster.Shutdown()
	}
	if c, ok := e.rt.(interface{ Close() error }); ok {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// resync syncs every pod of the engine's nodes each ResyncInterval, as an
// informer's resync does (for an engine on the shared pod informer).
func (e *engine) resync(ctx context.Context) {
	t := e.clock.NewTicker(e.timing.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		for _, obj := range e.podInformer.GetStore().List() {
			e.onPod(obj)
		}
	}
}

func (e *engine) onPod(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key := pod.Namespace + "/" + pod.Name
	if e.node(pod.Spec.NodeName) == nil {
		e.mu.Lock()
		_, known := e.pods[key]
		e.mu.Unlock()
		if !known {
			return
		}
	}
	e.podQ.Add(key)
}

func (e *engine) podWorker(ctx context.Context) {
	for {
		key, quit := e.podQ.Get()
		if quit {
			return
		}
		after, err := e.syncPod(ctx, key)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				e.log.Debug("pod sync failed; retrying", "pod", key, "err", err)
			}
			e.podQ.AddRateLimited(key)
		default:
			e.podQ.Forget(key)
			if after > 0 {
				e.podQ.AddAfter(key, after)
			}
		}
		e.podQ.Done(key)
	}
}

// podState is what the agent knows of one pod it runs.
type podState struct {
	mu          sync.Mutex // held by the pod's sync; the log server reads ctrs under it
	key         string
	uid         types.UID
	node        *node
	ip          string
	ctrs        ctrList
	startTime   time.Time
	terminating bool      // containers are being stopped for deletion
	stopped     bool      // every container is stopped after deletion began
	finalDelete time.Time // when the delete with grace 0 was sent
	// changes counts changes of what the status is computed from besides
	// the pod object; verified* is the pod version and count at which the
	// stored status was last found right, so a resync of an unchanged pod
	// skips computing it again.
	changes         uint64
	verifiedRV      string
	verifiedChanges uint64
}

// ctrList is a pod's containers by name: a slice, not a map, since a pod
// has one or a few (a map of one cost 450 bytes a pod, 4.5 MB at 10,000).
type ctrList []ctrEntry

type ctrEntry struct {
	name string
	cs   *ctrState
}

// get returns the named container's state, or nil.
func (l ctrList) get(name string) *ctrState {
	for i := range l {
		if l[i].name == name {
			return l[i].cs
		}
	}
	return nil
}

// set sets the named container's state.
func (l *ctrList) set(name string, cs *ctrState) {
	for i := range *l {
		if (*l)[i].name == name {
			(*l)[i].cs = cs
			return
		}
	}
	*l = append(*l, ctrEntry{name, cs})
}

// ctrState is one container of a pod across its restarts.
type ctrState struct {
	id       string // current runtime container ("" before the first start)
	status   runtime.Status
	restarts int32
	lastID   string
	last     *runtime.Status // the previous run, once restarted
	// back-off before the next restart
	backoff      time.Duration
	backoffUntil time.Time
	// why the container is not running ("" when it is or runs soon)
	waitReason, waitMessage string
	exitHandled             bool // back-off already computed for this exit
	probes                  probeSet
	// the last CPU sample and the rate it gave (usage.go)
	cpuAt    time.Time
	cpuUsed  time.Duration
	cpuNanos int64
}

// dropManagedFields is the informers' transform: the agent never reads
// managed fields, so its cached pods and nodes go without them, and its
// status writes carry none (the kubelet's status patches carry none
// either); the server keeps the stored ones for a request without any.
func dropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil && m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// node returns the node of that name, or nil.
func (e *engine) node(name string) *node {
	e.nodesMu.RLock()
	defer e.nodesMu.RUnlock()
	return e.nodes[name]
}

func (e *engine) numNodes() int {
	e.nodesMu.RLock()
	defer e.nodesMu.RUnlock()
	return len(e.nodeList)
}

func (e *engine) nodeSnapshot() []*node {
	e.nodesMu.RLock()
	defer e.nodesMu.RUnlock()
	return append([]*node(nil), e.nodeList...)
}

// addNode registers one more node with the running engine and starts its
// heartbeats. A node of that name already there is left as it is.
func (e *engine) addNode(ctx context.Context, nc nodeConfig) error {
	if !e.ready.Load() {
		return errors.New("agent: the pool is not running")
	}
	n := &node{name: nc.name, cfg: nc}
	n.recorder = e.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: n.name})
	e.nodesMu.Lock()
	if _, ok := e.nodes[nc.name]; ok {
		e.nodesMu.Unlock()
		return nil
	}
	e.nodes[nc.name] = n
	e.nodeList = append(e.nodeList, n)
	e.nodesMu.Unlock()
	if err := e.register(ctx, n); err != nil {
		e.removeNode(nc.name)
		return err
	}
	if err := e.renewLease(ctx, n); err != nil {
		e.log.Debug("node lease", "node", n.name, "err", err)
	}
	e.hbQ.AddAfter(n.name, e.beatDelay(e.jitter(e.timing.RenewInterval)))
	return nil
}

// removeNode stops running a node, as its machine stopping would: no
// more heartbeats, its containers stopped. The Node object stays (a cloud
// controller or the node life cycle controller decides about it).
func (e *engine) removeNode(name string) bool {
	e.nodesMu.Lock()
	n, ok := e.nodes[name]
	if ok {
		delete(e.nodes, name)
		for i, x := range e.nodeList {
			if x == n {
				e.nodeList = append(e.nodeList[:i], e.nodeList[i+1:]...)
				break
			}
		}
	}
	e.nodesMu.Unlock()
	if !ok {
		return false
	}
	e.mu.Lock()
	var keys []string
	for k, ps := range e.pods {
		if ps.node == n {
			keys = append(keys, k)
		}
	}
	e.mu.Unlock()
	for _, k := range keys {
		e.podQ.Add(k) // its pods are forgotten: their node is gone
	}
	return true
}
