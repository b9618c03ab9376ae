package gce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// CloudStackConfig says how the gateway reaches CloudStack.
type CloudStackConfig struct {
	// URL is the API endpoint, e.g. http://127.0.0.1:8080/client/api.
	URL string
	// APIKey and SecretKey are the gateway's own key pair (the root
	// admin's in `stratus up`): used to tell which account a key pair
	// belongs to when that account cannot see it itself, and by
	// AdminToken.
	APIKey, SecretKey string
	// HTTPClient carries the calls: an in-process transport in `stratus
	// up`, plain HTTP standalone. Nil means a client with a 60 s timeout.
	HTTPClient *http.Client
}

// Options configure a Gateway.
type Options struct {
	CloudStack CloudStackConfig
	// Store keeps tokens, labels, metadata, firewall settings and
	// operation records under /gce/.
	Store store.Store
	// BaseURL is the URL clients use to reach the gateway
	// ("http://127.0.0.1:8080"); selfLinks are built on it. Empty: taken
	// from each request's Host.
	BaseURL string
	// Log is the gateway's logger; nil means slog.Default().
	Log *slog.Logger
	// WaitTimeout bounds one operations.wait call (GCE holds it about two
	// minutes); default 2 minutes.
	WaitTimeout time.Duration
	// Clock gives the time; nil means the wall clock.
	Clock clock.PassiveClock
	// OperationTTL is how long a finished operation stays readable and
	// listable; after it the operation answers 404 notFound. Default 24 h.
	OperationTTL time.Duration
	// SweepInterval is how often expired operations and tokens are
	// removed. Default 10 minutes, or half of OperationTTL if shorter.
	SweepInterval time.Duration
	// GroupInterval is how often managed instance groups are reconciled
	// in the background (see groups.go). Default 5 s.
	GroupInterval time.Duration
	// Metrics, when set, gets gauges of the operations and tokens kept
	// (stratus_gce_operations, stratus_gce_tokens).
	Metrics prometheus.Registerer
}

// Gateway is the GCE v1 API in front of a CloudStack endpoint. It is an
// app.Component: Start begins the sweeping of expired tokens.
type Gateway struct {
	opts  Options
	log   *slog.Logger
	st    store.Store
	hc    *http.Client
	admin *csclient.Client
	mux   *http.ServeMux
	clock clock.PassiveClock

	tokens   store.Typed[tokenRecord]
	projects store.Typed[projectMeta]
	// projectNames and accountProjects map project names and accounts
	// one to one (see projectnames.go).
	projectNames    store.Typed[projectClaim]
	accountProjects store.Typed[accountProject]

	mu      sync.Mutex
	clients map[string]*csclient.Client // by API key

	// netMu keeps concurrent inserts from each making a default network.
	netMu sync.Mutex
	// opLocks serialize refreshes of one operation (striped by name);
	// groupLocks the reconciles of one instance group (see groups.go).
	opLocks    [64]sync.Mutex
	groupLocks [64]sync.Mutex

	cancel context.CancelFunc
	done   chan struct{}
}

var _ app.Component = (*Gateway)(nil)

// New returns a gateway; it makes no calls until it serves a request.
func New(opts Options) (*Gateway, error) {
	if opts.Store == nil {
		return nil, errors.New("gce: Options.Store is required")
	}
	if opts.CloudStack.URL == "" {
		return nil, errors.New("gce: Options.CloudStack.URL is required")
	}
	g := &Gateway{
		opts:    opts,
		log:     opts.Log,
		st:      opts.Store,
		hc:      opts.CloudStack.HTTPClient,
		clock:   opts.Clock,
		clients: map[string]*csclient.Client{},
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.hc == nil {
		g.hc = &http.Client{Timeout: 60 * time.Second}
	}
	if g.clock == nil {
		g.clock = clock.RealClock{}
	}
	if g.opts.WaitTimeout <= 0 {
		g.opts.WaitTimeout = 2 * time.Minute
	}
	if g.opts.OperationTTL <= 0 {
		g.opts.OperationTTL = DefaultOperationTTL
	}
	if g.opts.GroupInterval <= 0 {
		g.opts.GroupInterval = 5 * time.Second
	}
	if g.opts.SweepInterval <= 0 {
		g.opts.SweepInterval = min(10*time.Minute, g.opts.OperationTTL/2)
	}
	g.opts.BaseURL = strings.TrimRight(g.opts.BaseURL, "/")
	if opts.CloudStack.APIKey != "" {
		g.admin = g.client(opts.CloudStack.APIKey, opts.CloudStack.SecretKey)
	}
	g.tokens = store.Typed[tokenRecord]{S: g.st, Prefix: "/gce/tokens/"}
	g.projects = store.Typed[projectMeta]{S: g.st, Prefix: "/gce/projects/"}
	g.projectNames = store.Typed[projectClaim]{S: g.st, Prefix: "/gce/projectnames/"}
	g.accountProjects = store.Typed[accountProject]{S: g.st, Prefix: "/gce/accountprojects/"}
	g.mux = g.routes()
	if opts.Metrics != nil {
		count := func(prefix string) func() float64 {
			return func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				n, _ := g.st.Count(ctx, prefix)
				return float64(n)
			}
		}
		for _, c := range []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "stratus_gce_operations", Help: "GCE operations kept (finished ones until OperationTTL)."}, count("/gce/operations/")),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "stratus_gce_tokens", Help: "OAuth tokens kept (until they expire)."}, count("/gce/tokens/")),
		} {
			if err := opts.Metrics.Register(c); err != nil {
				g.log.Warn("cannot register metrics", "err", err)
			}
		}
	}
	return g, nil
}

// Handler serves /compute/v1/…, /batch/compute/v1 and /oauth2/token.
func (g *Gateway) Handler() http.Handler { return g.mux }

// Name implements app.Component.
func (g *Gateway) Name() string { return "gce" }

// Start implements app.Component: it gives the accounts of stored tokens
// their project names (see projectnames.go), then sweeps expired tokens now
// and then, and reconciles the managed instance groups.
func (g *Gateway) Start(ctx context.Context) error {
	if err := g.migrateProjects(ctx); err != nil {
		return fmt.Errorf("gce: give stored tokens' accounts their project names: %w", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	g.done = make(chan struct{})
	go func() {
		defer close(g.done)
		t := time.NewTicker(g.opts.SweepInterval)
		defer t.Stop()
		groups := time.NewTicker(g.opts.GroupInterval)
		defer groups.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				g.sweepTokens(ctx)
				g.sweepOperations(ctx)
			case <-groups.C:
				g.reconcileGroups(ctx)
			}
		}
	}()
	return nil
}

// Stop implements app.Component.
func (g *Gateway) Stop(ctx context.Context) error {
	if g.cancel == nil {
		return nil
	}
	g.cancel()
	select {
	case <-g.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// client returns the (cached) CloudStack client of a key pair.
func (g *Gateway) client(apiKey, secret string) *csclient.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.clients[apiKey]; ok && c.SameSecret(secret) {
		return c
	}
	c := csclient.New(g.opts.CloudStack.URL, apiKey, secret, g.hc)
	g.clients[apiKey] = c
	return c
}

// now is the gateway's time.
func (g *Gateway) now() time.Time { return g.clock.Now() }
