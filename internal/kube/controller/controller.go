// Package controller is stratus's controller manager: one component that
// runs the scheduler and every controller the cluster needs (replication
// controllers, replica sets, deployments, jobs, cron jobs, daemon sets,
// stateful sets, endpoints and endpoint slices, volume binding and
// provisioning, horizontal pod autoscaling, resource quota usage,
// node life cycle with pod CIDRs, garbage collection by ownerReferences,
// namespace deletion, a word on LoadBalancer Services) over one set of shared informers. It speaks to the
// cluster only through client-go, so it runs against any Kubernetes API.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/kube/controller/scheduler"
	"github.com/stratus-cloud/stratus/internal/kube/eventsink"
	"github.com/stratus-cloud/stratus/internal/kube/informersync"
	"github.com/stratus-cloud/stratus/internal/kube/sharedpods"
)

// Options configure the controller manager.
type Options struct {
	// Client reaches the Kubernetes API (required).
	Client kubernetes.Interface
	// SchedulerClient is the scheduler's (default Client): a client of its
	// own names its writes' field manager kube-scheduler, as on a cluster.
	SchedulerClient kubernetes.Interface
	Log             *slog.Logger
	// Metrics registers the manager's metrics (nil: none).
	Metrics prometheus.Registerer
	// Clock is injected for tests (default real).
	Clock clock.WithTicker
	// Workers per controller (default 8; replication gets twice that).
	Workers int
	// NodeMonitorGracePeriod: a node whose lease was not renewed for this
	// long turns NotReady (Unknown) (default 40 s, as kube-controller-manager).
	NodeMonitorGracePeriod time.Duration
	// NodeMonitorPeriod: how often node health is checked (default 5 s).
	NodeMonitorPeriod time.Duration
	// ClusterCIDR is where pod CIDRs (/24 each) come from (default
	// 127.128.0.0/9: loopback, reachable without a network plugin).
	ClusterCIDR string
	// Disable names controllers not to run: "scheduler", "replication",
	// "replicaset", "deployment", "endpoints", "endpointslice",
	// "nodelifecycle", "nodeipam", "garbagecollector", "namespace", "job", "cronjob", "daemonset", "statefulset", "disruption", "persistentvolume-binder", "horizontalpodautoscaling", "resourcequota",
	// "servicelb" (the event that says LoadBalancer Services get no
	// external IP: a cloud controller that gives them one disables it),
	// "serviceaccount" (default ServiceAccounts, kube-root-ca.crt, legacy
	// token Secrets), "csr", "validatingadmissionpolicy-status" (type
	// checking of ValidatingAdmissionPolicies).
	Disable []string
	// RootCA is the cluster CA published in every namespace's
	// kube-root-ca.crt ConfigMap (empty: not published).
	RootCA []byte
	// LegacyTokenSigner fills legacy token Secrets (nil: left empty).
	LegacyTokenSigner LegacyTokenSigner
	// CSRSigner signs approved node client certificate requests (nil:
	// approved, not signed). The "csr" controller approves them.
	CSRSigner CSRSigner
	// ClusterSigningDuration is how long the node client certificates
	// it signs last, at most (kube-controller-manager's
	// --cluster-signing-duration; 0: a year). A request's
	// expirationSeconds may ask for less, not under 10 minutes.
	ClusterSigningDuration time.Duration
	// VolumeDir holds the hostPath directories the volume provisioner
	// makes for claims used on exec and docker nodes (empty: every
	// provisioned volume is simulated). The "persistentvolume-binder"
	// controller binds claims and provisions.
	VolumeDir string
	// Pods is the process's shared pod informer (nil: the manager runs
	// its own). The scheduler and every controller read pods from it.
	Pods *sharedpods.Informer
	// HPASyncPeriod is how often each HorizontalPodAutoscaler is
	// evaluated (default 15 s, as kube-controller-manager).
	HPASyncPeriod time.Duration
}

// Manager runs the scheduler and the controllers; it is an app.Component
// and an app.Readier (ready once every informer has synced).
type Manager struct {
	o       Options
	log     *slog.Logger
	factory informers.SharedInformerFactory
	podView *sharedpods.View // Options.Pods's view, released on Stop
	bcast   record.EventBroadcaster
	metrics *metrics

	sched *scheduler.Scheduler
	hist  *history // ControllerRevisions, shared by daemonset and statefulset
	loops []*loop
	runs  []func(ctx context.Context)
	// extraFactories are filtered informer factories started with factory.
	extraFactories []informers.SharedInformerFactory

	ready  atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var (
	_ app.Component = (*Manager)(nil)
	_ app.Readier   = (*Manager)(nil)
)

// New builds the manager; nothing runs before Start.
func New(o Options) *Manager {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.NodeMonitorGracePeriod <= 0 {
		o.NodeMonitorGracePeriod = 40 * time.Second
	}
	if o.NodeMonitorPeriod <= 0 {
		o.NodeMonitorPeriod = 5 * time.Second
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = "127.128.0.0/9"
	}
	return &Manager{o: o, log: o.Log.With("component", "controller-manager"), metrics: newMetrics(o.Metrics)}
}

// Name implements app.Component.
func (m *Manager) Name() string { return "controller-manager" }

// Ready implements app.Readier.
func (m *Manager) Ready() bool { return m.ready.Load() }

func (m *Manager) enabled(name string) bool {
	for _, d := range m.o.Disable {
		if d == name {
			return false
		}
	}
	return true
}

func (m *Manager) recorder(component string) record.EventRecorder {
	return m.bcast.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
}

// Start builds the controllers, starts the informers and, once they have
// synced, the workers. It returns without waiting for the sync; Ready
// reports it.
func (m *Manager) Start(ctx context.Context) error {
	if m.o.Client == nil {
		return errors.New("controller: Options.Client is required")
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.factory = informers.NewSharedInformerFactoryWithOptions(m.o.Client, 0, informers.WithTransform(dropManagedFields))
	if m.o.Pods != nil {
		// Every Pods() informer of the factory is the shared one.
		v := m.o.Pods.View()
		m.podView = v
		m.factory.InformerFor(&corev1.Pod{}, func(kubernetes.Interface, time.Duration) cache.SharedIndexInformer { return v })
	}
	m.bcast, _ = eventsink.NewBroadcaster(runCtx, m.o.Client)

	if m.enabled("scheduler") {
		sc := m.o.SchedulerClient
		if sc == nil {
			sc = m.o.Client
		}
		m.sched = scheduler.New(scheduler.Options{Client: sc, Informers: m.factory,
			Recorder: m.recorder(scheduler.Name), Log: m.log.With("controller", "scheduler"), Clock: m.o.Clock})
		m.runs = append(m.runs, m.sched.Run)
	}
	if m.enabled("replication") {
		m.addReplication(rcKind)
	}
	if m.enabled("replicaset") {
		m.addReplication(rsKind)
	}
	if m.enabled("deployment") {
		m.addDeployment()
	}
	if m.enabled("endpoints") || m.enabled("endpointslice") {
		m.addEndpoints(m.enabled("endpoints"), m.enabled("endpointslice"))
	}
	if m.enabled("nodelifecycle") || m.enabled("nodeipam") {
		if err := m.addNodeLifecycle(m.enabled("nodelifecycle"), m.enabled("nodeipam")); err != nil {
			cancel()
			return err
		}
	}
	if m.enabled("job") {
		m.addJob()
	}
	if m.enabled("cronjob") {
		m.addCronJob()
	}
	if m.enabled("daemonset") {
		m.addDaemonSet()
	}
	if m.enabled("statefulset") {
		m.addStatefulSet()
	}
	if m.enabled("disruption") {
		m.addDisruption()
	}
	if m.enabled("resourcequota") {
		m.addResourceQuota()
	}
	if m.enabled("horizontalpodautoscaling") {
		m.addHPA()
	}
	if m.enabled("persistentvolume-binder") {
		m.addVolumes()
	}
	if m.enabled("garbagecollector") {
		m.addGC()
	}
	if m.enabled("namespace") {
		m.addNamespace()
	}
	if m.enabled("servicelb") {
		m.addServiceLB()
	}
	if m.enabled("serviceaccount") {
		m.addServiceAccounts()
	}
	if m.enabled("csr") {
		m.addCSRs()
	}
	if m.enabled("validatingadmissionpolicy-status") {
		m.addVAPStatus()
	}

	m.factory.Start(runCtx.Done())
	for _, f := range m.extraFactories {
		f.Start(runCtx.Done())
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if !informersync.Factory(runCtx.Done(), m.factory) {
			return
		}
		for _, f := range m.extraFactories {
			if !informersync.Factory(runCtx.Done(), f) {
				return
			}
		}
		for _, l := range m.loops {
			m.wg.Add(1)
			go func() { defer m.wg.Done(); l.run(runCtx) }()
		}
		for _, r := range m.runs {
			m.wg.Add(1)
			go func() { defer m.wg.Done(); r(runCtx) }()
		}
		m.ready.Store(true)
		m.log.Info("controllers started", "loops", len(m.loops)+len(m.runs))
	}()
	return nil
}

// Stop stops every controller and waits for them.
func (m *Manager) Stop(ctx context.Context) error {
	m.ready.Store(false)
	if m.cancel == nil {
		return nil
	}
	m.cancel()
	for _, l := range m.loops {
		l.q.ShutDown()
	}
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		m.factory.Shutdown()
		for _, f := range m.extraFactories {
			f.Shutdown()
		}
		if m.podView != nil {
			m.podView.Release()
		}
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("controller: stop: %w", ctx.Err())
	}
	m.bcast.Shutdown()
	return err
}

// loop is one controller's work queue and workers.
type loop struct {
	name    string
	q       workqueue.TypedRateLimitingInterface[string]
	workers int
	sync    func(ctx context.Context, key string) (time.Duration, error)
	log     *slog.Logger
	m       *metrics
}

func (m *Manager) newLoop(name string, workers int, sync func(ctx context.Context, key string) (time.Duration, error)) *loop {
	l := &loop{
		name: name, workers: workers, sync: sync, log: m.log.With("controller", name), m: m.metrics,
		q: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: m.o.Clock}),
	}
	m.loops = append(m.loops, l)
	return l
}

func (l *loop) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	l.q.ShutDown()
	wg.Wait()
}

func (l *loop) next(ctx context.Context) bool {
	key, quit := l.q.Get()
	if quit {
		return false
	}
	defer l.q.Done(key)
	t0 := time.Now()
	after, err := l.sync(ctx, key)
	l.m.observe(l.name, time.Since(t0), err)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Debug("sync failed; retrying", "key", key, "err", err)
		}
		l.q.AddRateLimited(key)
		return true
	}
	l.q.Forget(key)
	if after > 0 {
		l.q.AddAfter(key, after)
	}
	return true
}

// enqueue adds obj's key (namespace/name or name).
func (l *loop) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err == nil {
		l.q.Add(key)
	}
}

func (l *loop) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    l.enqueue,
		UpdateFunc: func(_, obj any) { l.enqueue(obj) },
		DeleteFunc: l.enqueue,
	}
}

type metrics struct {
	syncs   *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stratus_controller_syncs_total",
			Help: "Controller syncs by controller and result."}, []string{"controller", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "stratus_controller_sync_duration_seconds",
			Help: "Time one controller sync takes.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8)}, []string{"controller"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.syncs, m.seconds} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					continue
				}
			}
		}
	}
	return m
}

func (m *metrics) observe(name string, d time.Duration, err error) {
	res := "ok"
	if err != nil {
		res = "error"
	}
	m.syncs.WithLabelValues(name, res).Inc()
	m.seconds.WithLabelValues(name).Observe(d.Seconds())
}

// dropManagedFields is the informers' transform: no controller reads
// managed fields, so, as kube-controller-manager and kube-scheduler do,
// the cached objects go without them (for 10,000 pods, tens of MB). An
// update of such an object keeps the stored managed fields: the server
// takes them from the stored object when a request has none.
func dropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil && m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
