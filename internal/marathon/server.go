package marathon

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/stratus-cloud/stratus/internal/kube/informersync"
)

// Options configure a Server.
type Options struct {
	// Client reaches the Kubernetes API (required).
	Client kubernetes.Interface
	// Username and Password are the HTTP basic credentials every request
	// must carry (required; see LoadOrCreateCredentials).
	Username, Password string
	// URL returns where the API is served, for /v2/info, /v2/leader and
	// the master's state (nil: http://127.0.0.1:8080).
	URL func() string
	// Log receives the server's logs (nil: discarded).
	Log *slog.Logger
	// Metrics registers the server's metrics (nil: none).
	Metrics prometheus.Registerer
}

// Server is the Marathon v2 API and the Mesos master's endpoints; it is an
// app.Component (Start, Stop, Ready).
type Server struct {
	o     Options
	log   *slog.Logger
	kc    kubernetes.Interface
	start time.Time

	deps  cache.SharedIndexInformer
	pods  cache.SharedIndexInformer
	nodes cache.SharedIndexInformer
	// unhealthy holds the node agents' Unhealthy events of the tasks
	// (their probes' failures), by pod uid (health.go).
	unhealthy cache.SharedIndexInformer

	appsMu sync.Mutex
	parsed map[string]parsedApp // Deployment name → its decoded app, by resourceVersion

	// mu orders writes: one change of the apps at a time, so lock checks
	// and port assignment see every earlier change.
	mu          sync.Mutex
	active      map[string]*deployment // by deployment id
	nextPort    int
	lastVersion time.Time

	kick   chan struct{}
	events *bus
	tasks  taskStates
	delays delays
	checks checkRunner
	// ports are the host ports the tasks hold on each node; portQ the
	// pods waiting for theirs (hostports.go).
	ports nodePorts
	portQ workqueue.TypedRateLimitingInterface[string]
	// relaunchQ holds the failed tasks until their launch delay has
	// passed (delay.go).
	relaunchQ workqueue.TypedDelayingInterface[string]

	frameworkID string
	ready       atomic.Bool
	runCtx      context.Context // until Stop: the server's own writes
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	mDeployments prometheus.Gauge
}

type parsedApp struct {
	rv  string
	app *App
}

// New returns a server; Start begins its informers.
func New(o Options) (*Server, error) {
	if o.Client == nil {
		return nil, fmt.Errorf("marathon: a Kubernetes client is required")
	}
	if o.Username == "" || o.Password == "" {
		return nil, fmt.Errorf("marathon: credentials are required")
	}
	if o.URL == nil {
		o.URL = func() string { return "http://127.0.0.1:8080" }
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{o: o, log: log, kc: o.Client, parsed: map[string]parsedApp{}, active: map[string]*deployment{},
		nextPort: PortRangeMin, kick: make(chan struct{}, 1), start: time.Now()}
	s.events = newBus()
	s.tasks.last, s.tasks.counts = map[string]string{}, map[string]*stateCounts{}
	s.delays = delays{m: map[string]*launchDelay{}, counted: map[types.UID]int32{}, relaunch: map[types.UID]time.Time{}}
	s.relaunchQ = workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{Name: "marathon-relaunch"})
	s.ports, s.portQ = newNodePorts(), newPortQueue()
	s.checks = checkRunner{tasks: map[types.UID]*taskChecks{}, sem: make(chan struct{}, 32)}
	s.mDeployments = prometheus.NewGauge(prometheus.GaugeOpts{Name: "stratus_marathon_deployments_active", Help: "Marathon deployments that have not finished."})
	if o.Metrics != nil {
		for _, c := range []prometheus.Collector{s.mDeployments, s.events.mSubscribers, s.events.mDropped, s.events.mPublished} {
			if err := o.Metrics.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Name names the component.
func (s *Server) Name() string { return "marathon" }

// Ready reports whether the caches have synced.
func (s *Server) Ready() bool { return s.ready.Load() }

// Start makes sure the namespace exists and syncs the caches of
// Deployments, pods and nodes.
func (s *Server) Start(ctx context.Context) error {
	ns, err := s.kc.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		ns, err = s.kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace,
			Labels: map[string]string{managedBy: "marathon"}}}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			ns, err = s.kc.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("marathon namespace: %w", err)
	}
	s.frameworkID = string(ns.UID) + "-0000"
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.runCtx, s.cancel = runCtx, cancel
	f := informers.NewSharedInformerFactoryWithOptions(s.kc, 0, informers.WithNamespace(Namespace))
	s.deps = f.Apps().V1().Deployments().Informer()
	s.pods = f.Core().V1().Pods().Informer()
	if err := s.pods.AddIndexers(cache.Indexers{LabelApp: func(obj any) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok && p.Labels[LabelApp] != "" {
			return []string{p.Labels[LabelApp]}, nil
		}
		return nil, nil
	}}); err != nil {
		cancel()
		return err
	}
	nf := informers.NewSharedInformerFactory(s.kc, 0)
	s.nodes = nf.Core().V1().Nodes().Informer()
	ef := informers.NewSharedInformerFactoryWithOptions(s.kc, 0, informers.WithNamespace(Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "reason=Unhealthy" }))
	s.unhealthy = ef.Core().V1().Events().Informer()
	if err := s.unhealthy.AddIndexers(cache.Indexers{indexPodUID: eventPodUID}); err != nil {
		cancel()
		return err
	}
	if _, err := s.deps.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.poke() },
		UpdateFunc: func(any, any) { s.poke() },
		DeleteFunc: func(obj any) { s.forget(obj); s.poke() },
	}); err != nil {
		cancel()
		return err
	}
	if _, err := s.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.podChanged(obj, false); s.poke() },
		UpdateFunc: func(_, obj any) { s.podChanged(obj, false); s.poke() },
		DeleteFunc: func(obj any) { s.podChanged(obj, true); s.poke() },
	}); err != nil {
		cancel()
		return err
	}
	f.Start(runCtx.Done())
	nf.Start(runCtx.Done())
	ef.Start(runCtx.Done())
	// informersync, not cache.WaitForCacheSync: its 100 ms poll was most
	// of every stratus start.
	if !informersync.WaitContext(ctx, s.deps.HasSynced, s.pods.HasSynced, s.nodes.HasSynced, s.unhealthy.HasSynced) {
		cancel()
		f.Shutdown()
		nf.Shutdown()
		ef.Shutdown()
		return fmt.Errorf("marathon: caches did not sync: %w", context.Cause(ctx))
	}
	if err := s.resume(ctx); err != nil {
		cancel()
		f.Shutdown()
		nf.Shutdown()
		ef.Shutdown()
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.track(runCtx)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runChecks(runCtx)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.relaunchWorker(runCtx)
	}()
	for range hostPortWorkers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.portWorker(runCtx)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-runCtx.Done()
		s.portQ.ShutDown()
		s.relaunchQ.ShutDown()
		f.Shutdown()
		nf.Shutdown()
		ef.Shutdown()
	}()
	s.ready.Store(true)
	return nil
}

// CloseStreams ends the /v2/events streams (for an HTTP server's
// shutdown, which waits for open requests).
func (s *Server) CloseStreams() { s.events.close() }

// Stop ends the event streams and the informers.
func (s *Server) Stop(ctx context.Context) error {
	s.ready.Store(false)
	s.events.close()
	if s.cancel != nil {
		s.cancel()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Handler serves the Marathon and Mesos paths, behind basic auth.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("pong\n"))
	})
	mux.HandleFunc("GET /metrics", s.metricsJSON)
	s.routes(mux)
	s.mesosRoutes(mux)
	return s.authenticate(mux)
}

// authenticate answers 401 with Marathon's body unless the request
// carries the credentials.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(s.o.Username)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(s.o.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Mesosphere"`)
			writeJSON(w, http.StatusUnauthorized, errUnauthorized)
			return
		}
		if !s.ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, &apiError{Message: "Marathon is starting"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apps returns every app, ordered by id.
func (s *Server) apps() []*App {
	objs := s.deps.GetStore().List()
	out := make([]*App, 0, len(objs))
	for _, o := range objs {
		if a := s.appOf(o.(*appsv1.Deployment)); a != nil {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// app returns the app with this id, or nil.
func (s *Server) app(id string) *App {
	obj, ok, _ := s.deps.GetStore().GetByKey(Namespace + "/" + kubeName(id))
	if !ok {
		return nil
	}
	a := s.appOf(obj.(*appsv1.Deployment))
	if a == nil || a.ID != id {
		return nil
	}
	return a
}

// appOf decodes (once per resourceVersion) the app a Deployment holds;
// callers must not modify it. The instances are the Deployment's
// replicas, which `kubectl scale` may have changed.
func (s *Server) appOf(d *appsv1.Deployment) *App {
	raw := d.Annotations[annotationApp]
	if raw == "" || d.DeletionTimestamp != nil {
		return nil
	}
	s.appsMu.Lock()
	defer s.appsMu.Unlock()
	if p, ok := s.parsed[d.Name]; ok && p.rv == d.ResourceVersion {
		return p.app
	}
	a := newApp()
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		s.log.Warn("marathon: unreadable app annotation", "deployment", d.Name, "err", err)
		return nil
	}
	if d.Spec.Replicas != nil {
		a.Instances = int(*d.Spec.Replicas)
	}
	s.parsed[d.Name] = parsedApp{rv: d.ResourceVersion, app: &a}
	return &a
}

// forget drops the decoded app of a deleted Deployment.
func (s *Server) forget(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if d, ok := obj.(*appsv1.Deployment); ok {
		s.appsMu.Lock()
		delete(s.parsed, d.Name)
		s.appsMu.Unlock()
	}
}

// observe puts an object a write returned into the cache, so the next
// read sees it, unless the cache already holds something newer.
func observe(inf cache.SharedIndexInformer, obj metav1.Object) {
	key := obj.GetNamespace() + "/" + obj.GetName()
	if old, ok, _ := inf.GetIndexer().GetByKey(key); ok {
		if o, ok := old.(metav1.Object); ok && newerRV(o.GetResourceVersion(), obj.GetResourceVersion()) {
			return
		}
	}
	_ = inf.GetIndexer().Update(obj)
}

// newerRV reports whether resourceVersion a is newer than b (both are
// store revisions).
func newerRV(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}

// podsOf returns the pods of an app, oldest first.
func (s *Server) podsOf(id string) []*corev1.Pod {
	out := s.appPods(id)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreationTimestamp.Equal(&out[j].CreationTimestamp) {
			return out[i].CreationTimestamp.Before(&out[j].CreationTimestamp)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// appPods returns the pods of an app in no order (for counts: a sort of
// 10,000 pods was most of a GET /v2/apps while an app scaled).
func (s *Server) appPods(id string) []*corev1.Pod {
	objs, _ := s.pods.GetIndexer().ByIndex(LabelApp, appLabel(id))
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// nodeValues lists, sorted, the values the nodes have for a label.
func (s *Server) nodeValues(key string) []string {
	seen := map[string]bool{}
	for _, o := range s.nodes.GetStore().List() {
		if v, ok := o.(*corev1.Node).Labels[key]; ok {
			seen[v] = true
		}
	}
	return sortedKeys(seen)
}
