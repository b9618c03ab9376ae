package cloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Options configure a Sim.
type Options struct {
	// Store holds all state (required).
	Store store.Store
	// Datacenter seeds the store on first start and sets behaviour
	// (required; see LoadDatacenter).
	Datacenter *Datacenter
	// Log is the simulator's logger (default slog.Default()).
	Log *slog.Logger
	// Clock is the time source (default the wall clock).
	Clock Clock
	// InlineWait is how long a call that submits an async job waits for the
	// job to finish before answering, so that jobs that finish at once are
	// complete when the client first polls (default 100 ms; negative: never).
	InlineWait time.Duration
	// ID names this simulator among the servers sharing the store; it
	// should stay the same across restarts. Jobs record the ID of the
	// server running them, and Start fails only the pending jobs of its
	// own ID (a previous run's): with several servers, give each its own.
	ID string
}

// Sim is the simulated cloud. It is an app.Component: Start loads (or, on
// first start, seeds) the state; async jobs run between Start and Stop.
type Sim struct {
	st    store.Store
	dc    *Datacenter
	log   *slog.Logger
	clock Clock
	wait  time.Duration
	id    string
	// idValue is what this server writes at syncKey.
	idValue []byte

	// wmu serializes this server's writers: a writer decides on the index,
	// commits, then applies under mu. Readers take mu only. The follower
	// (see follow.go), which applies other servers' changes, takes both.
	wmu sync.Mutex
	mu  sync.RWMutex
	ix  *index

	ctx     context.Context
	cancel  context.CancelFunc
	jobs    sync.WaitGroup
	started bool

	fol follower

	// policyWake wakes the snapshot policy loop when a policy changes.
	policyWake chan struct{}

	cons consoles
}

var (
	_ app.Component = (*Sim)(nil)
	_ app.Readier   = (*Sim)(nil)
)

// New returns a simulator over opts.Store; Start loads or seeds its state.
func New(ctx context.Context, opts Options) (*Sim, error) {
	if opts.Store == nil {
		return nil, errors.New("cloud: Options.Store is required")
	}
	if opts.Datacenter == nil {
		return nil, errors.New("cloud: Options.Datacenter is required")
	}
	if err := opts.Datacenter.Validate(); err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	s := &Sim{st: opts.Store, dc: opts.Datacenter, log: opts.Log, clock: opts.Clock, wait: opts.InlineWait, ix: newIndex(),
		id: opts.ID, idValue: []byte(strconv.Quote(opts.ID)), policyWake: make(chan struct{}, 1)}
	s.ix.dc = opts.Datacenter
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	if s.wait == 0 {
		s.wait = 100 * time.Millisecond
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return s, nil
}

// Name implements app.Component.
func (s *Sim) Name() string { return "cloud" }

// Ready implements app.Readier: the state is loaded.
func (s *Sim) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.started
}

// Start loads the state from the store, seeding the data center first if
// the store has none, starts following the store's changes (other
// servers'), fails jobs a previous run left pending and settles what they
// left in a transitional state (see recover.go).
func (s *Sim) Start(ctx context.Context) (err error) {
	var rev int64
	if err := s.write(func(*index) (err error) { rev, err = s.load(ctx); return err }); err != nil {
		return err
	}
	s.startFollowing(rev)
	defer func() {
		if err != nil {
			s.stopFollowing()
		}
	}()
	if err := s.write(func(*index) error { return s.failInterruptedJobs(ctx) }); err != nil {
		return err
	}
	if err := s.write(func(*index) error { return s.recoverResources(ctx) }); err != nil {
		return err
	}
	if err := s.write(func(*index) error { return s.loadStandingFaults(ctx) }); err != nil {
		return err
	}
	if err := s.applyPingFaults(ctx); err != nil {
		return err
	}
	if err := s.loadConsoles(ctx); err != nil {
		return err
	}
	s.jobs.Add(3)
	go s.expiryLoop()
	go s.consoleLoop()
	go s.policyLoop()
	s.mu.Lock()
	s.started = true
	n, h := s.ix.vms.len(), s.ix.hosts.len()
	s.mu.Unlock()
	s.log.Info("cloud simulator started", "vms", n, "hosts", h)
	return nil
}

// load seeds an empty store, then reads the state into a fresh index and
// returns the revision it reflects. Two servers seeding one store at once
// conflict on metaKey; the loser's retry (see write) loads the winner's.
// Caller holds wmu.
func (s *Sim) load(ctx context.Context) (int64, error) {
	if _, err := s.st.Get(ctx, metaKey); errors.Is(err, store.ErrNotFound) {
		if err := s.seed(ctx); err != nil {
			return 0, fmt.Errorf("cloud: seed data center: %w", err)
		}
		s.log.Info("seeded data center", "name", s.dc.Name, "zones", len(s.dc.Zones))
	} else if err != nil {
		return 0, fmt.Errorf("cloud: %w", err)
	}
	return s.reload(ctx)
}

// reload replaces the index with a fresh one read from the store. Caller
// holds wmu.
func (s *Sim) reload(ctx context.Context) (int64, error) {
	ix := newIndex()
	ix.dc = s.dc
	ix.snapPolicies.onChange = func(_, _ *SnapshotPolicy) {
		select {
		case s.policyWake <- struct{}{}:
		default:
		}
	}
	rev, err := ix.load(ctx, s.st)
	if err != nil {
		return 0, fmt.Errorf("cloud: load state: %w", err)
	}
	s.mu.Lock()
	s.ix = ix
	s.mu.Unlock()
	return rev, nil
}

// Stop ends running async jobs and waits for them, then stops following
// the store.
func (s *Sim) Stop(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.stopFollowing()
		return ctx.Err()
	}
	s.stopFollowing()
	return nil
}

// Datacenter returns the description the simulator runs with.
func (s *Sim) Datacenter() *Datacenter { return s.dc }

// Now is the simulator's clock.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// read runs f with the index under the read lock.
func (s *Sim) read(f func(ix *index)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f(s.ix)
}

// maxAttempts bounds how often write runs a decision that keeps failing
// because other servers change what it read.
const maxAttempts = 25

// write runs f under the writer lock; f decides on the index (which
// changes only under wmu, so it is stable while f runs) and commits
// batches. When a commit finds that another server changed what f read,
// write waits until the index has caught up with the store and runs f
// again, so the caller sees the outcome on fresh state rather than a
// conflict. f must therefore be safe to run again after a stale commit.
func (s *Sim) write(f func(ix *index) error) error {
	for attempt := 1; ; attempt++ {
		s.wmu.Lock()
		err := f(s.ix)
		s.wmu.Unlock()
		var se *staleError
		if !errors.As(err, &se) {
			return err
		}
		if attempt == maxAttempts {
			s.log.Warn("change conflicted on every attempt", "attempts", attempt, "err", err)
			return Errorf(CodeInternal, CSCloudRuntime, "%s", se.Error())
		}
		// Wait for the change that beat us; a short random pause first
		// keeps two servers from colliding in step again.
		time.Sleep(time.Duration(rand.Int64N(int64(attempt) * int64(200*time.Microsecond))))
		s.log.Debug("another server changed what a change was decided on; deciding again", "attempt", attempt, "err", se.err)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
		serr := s.Sync(ctx)
		cancel()
		// Before Start follows the store there is nothing to wait for: the
		// decision (loading) reads the store itself.
		if serr != nil && !errors.Is(serr, errNotFollowing) {
			return Errorf(CodeInternal, CSCloudRuntime, "%s", se.Error())
		}
	}
}
