package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/app"
)

// Options configure a Dashboard.
type Options struct {
	// CloudStack is the CloudStack API handler (what serves /client/api);
	// the dashboard calls it in-process as the logged-in user (required).
	CloudStack http.Handler
	// Kube is a client of the Kubernetes API with cluster-wide read access;
	// nil hides the Kubernetes views.
	Kube kubernetes.Interface
	// KubeWatch, if set, gives the list and watch of a resource that the
	// Kubernetes views follow for changes, read in the process (stratus up
	// passes the API server's own, apiserver.Server.ListerWatcher, so no
	// event is encoded and decoded again for the dashboard); nil reads them
	// through Kube.
	KubeWatch func(group, version, resource string) (*cache.ListWatch, error)
	// CloudChanges returns a channel that closes at the next change to the
	// cloud's state (cloud.Sim.Changed), so cloud pages refresh (required).
	CloudChanges func() <-chan struct{}
	// Marathon is the Marathon and Mesos API; nil hides the Marathon views.
	Marathon *MarathonAPI
	// Faults is stratus's fault API; nil shows only the simulator's rules.
	Faults *FaultAPI
	// Log is the dashboard's logger (default slog.Default()).
	Log *slog.Logger
	// Clock gives the time (default the wall clock); tests move it.
	Clock clock.PassiveClock
	// Metrics, if set, gets the gauges of live sessions and open streams.
	Metrics prometheus.Registerer
}

// Timings of the live machinery.
const (
	// minRefresh is the least time between two renders of one live page,
	// so a burst of changes costs each client a few renders a second.
	minRefresh = 250 * time.Millisecond
	// samplePeriod is how often the plots over time take a sample.
	samplePeriod = 5 * time.Second
	// heartbeat keeps idle event streams open through proxies.
	heartbeat = 25 * time.Second
	// defaultIdle is the session idle timeout when CloudStack names none.
	defaultIdle = 30 * time.Minute
)

// Dashboard is the web UI. It is an app.Component: its change followers and
// samplers run between Start and Stop; Handler serves the pages.
type Dashboard struct {
	api       *cloudAPI
	kube      kubernetes.Interface
	kubeWatch func(group, version, resource string) (*cache.ListWatch, error)
	marathon  *marathonClient
	faultAPI  *FaultAPI
	cloud     func() <-chan struct{}
	log       *slog.Logger
	clock     clock.PassiveClock
	pages     *pages
	// viewList is the pages in navigation order; views finds them by name.
	viewList []*view
	views    map[string]*view

	sessions  *sessions
	streams   atomic.Int64 // open live-update streams
	cloudChg  *changes
	kubeChg   *changes
	podSeries series

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{} // closed by Stop: live streams end
	wg      sync.WaitGroup
	started bool
}

var _ app.Component = (*Dashboard)(nil)

// New returns a dashboard over the given APIs. It serves pages at once;
// live updates and samples begin with Start.
func New(opts Options) (*Dashboard, error) {
	if opts.CloudStack == nil {
		return nil, errors.New("dashboard: Options.CloudStack is required")
	}
	if opts.CloudChanges == nil {
		return nil, errors.New("dashboard: Options.CloudChanges is required")
	}
	d := &Dashboard{
		api:       newCloudAPI(opts.CloudStack),
		kube:      opts.Kube,
		kubeWatch: opts.KubeWatch,
		cloud:     opts.CloudChanges,
		marathon:  newMarathonClient(opts.Marathon),
		faultAPI:  opts.Faults,
		log:       opts.Log,
		clock:     opts.Clock,
		sessions:  newSessions(),
		cloudChg:  newChanges(),
		kubeChg:   newChanges(),
		done:      make(chan struct{}),
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.log = d.log.With("component", "dashboard")
	if d.clock == nil {
		d.clock = clock.RealClock{}
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	d.pages = p
	if opts.Metrics != nil {
		d.register(opts.Metrics)
	}
	d.viewList = d.allViews()
	d.views = make(map[string]*view, len(d.viewList))
	for _, v := range d.viewList {
		d.views[v.Name] = v
	}
	return d, nil
}

// register adds the dashboard's gauges: what it holds per browser.
func (d *Dashboard) register(reg prometheus.Registerer) {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "stratus_dashboard_sessions", Help: "Dashboard sessions kept (until idle past their timeout, at most 1000)."},
			func() float64 { return float64(d.sessions.len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "stratus_dashboard_streams", Help: "Open live-update streams of dashboard pages."},
			func() float64 { return float64(d.streams.Load()) }),
	} {
		if err := reg.Register(c); err != nil {
			d.log.Warn("cannot register metrics", "err", err)
		}
	}
}

// Name implements app.Component.
func (d *Dashboard) Name() string { return "dashboard" }

// Start begins following the APIs' changes and sampling.
func (d *Dashboard) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return errors.New("dashboard: already started")
	}
	d.started = true
	ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	d.wg.Add(2)
	go func() { defer d.wg.Done(); followCloud(ctx, d.cloud, d.cloudChg) }()
	go func() { defer d.wg.Done(); d.sampleLoop(ctx) }()
	if d.kube != nil {
		watched, err := kubeWatched(d.kube, d.kubeWatch)
		if err != nil {
			d.cancel()
			d.started = false
			return err
		}
		for kind, lw := range watched {
			d.wg.Add(1)
			go func() { defer d.wg.Done(); followKube(ctx, kind, lw, d.kubeChg, d.log) }()
		}
	}
	return nil
}

// Stop ends the watchers, samplers and open live streams, and waits for
// them within ctx.
func (d *Dashboard) Stop(ctx context.Context) error {
	d.mu.Lock()
	if !d.started {
		d.mu.Unlock()
		return nil
	}
	d.started = false
	d.cancel()
	close(d.done)
	d.mu.Unlock()
	waited := make(chan struct{})
	go func() { d.wg.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopped is closed once Stop is called.
func (d *Dashboard) stopped() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}
