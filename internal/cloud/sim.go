package cloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

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
}

// Sim is the simulated cloud. It is an app.Component: Start loads (or, on
// first start, seeds) the state; async jobs run between Start and Stop.
type Sim struct {
	st    store.Store
	dc    *Datacenter
	log   *slog.Logger
	clock Clock
	wait  time.Duration

	// wmu serializes writers: a writer decides on the index, commits, then
	// applies under mu. Readers take mu only.
	wmu sync.Mutex
	mu  sync.RWMutex
	ix  *index

	ctx     context.Context
	cancel  context.CancelFunc
	jobs    sync.WaitGroup
	started bool
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
	s := &Sim{st: opts.Store, dc: opts.Datacenter, log: opts.Log, clock: opts.Clock, wait: opts.InlineWait, ix: newIndex()}
	s.ix.dc = opts.Datacenter
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clock == nil {
		s.clock = RealClock{}
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
// the store has none, and fails jobs a previous run left pending.
func (s *Sim) Start(ctx context.Context) error {
	if err := s.write(func(*index) error { return s.load(ctx) }); err != nil {
		return err
	}
	if err := s.write(func(*index) error { return s.failInterruptedJobs(ctx) }); err != nil {
		return err
	}
	if err := s.write(func(*index) error { return s.loadStandingFaults(ctx) }); err != nil {
		return err
	}
	if err := s.applyPingFaults(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.started = true
	n, h := s.ix.vms.len(), s.ix.hosts.len()
	s.mu.Unlock()
	s.log.Info("cloud simulator started", "vms", n, "hosts", h)
	return nil
}

// load seeds an empty store, then reads the state into a fresh index.
// Caller holds wmu.
func (s *Sim) load(ctx context.Context) error {
	if _, err := s.st.Get(ctx, metaKey); errors.Is(err, store.ErrNotFound) {
		if err := s.seed(ctx); err != nil {
			return fmt.Errorf("cloud: seed data center: %w", err)
		}
		s.log.Info("seeded data center", "name", s.dc.Name, "zones", len(s.dc.Zones))
	} else if err != nil {
		return fmt.Errorf("cloud: %w", err)
	}
	ix := newIndex()
	ix.dc = s.dc
	if err := ix.load(ctx, s.st); err != nil {
		return fmt.Errorf("cloud: load state: %w", err)
	}
	s.mu.Lock()
	s.ix = ix
	s.mu.Unlock()
	return nil
}

// Stop ends running async jobs and waits for them.
func (s *Sim) Stop(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.jobs.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

// write runs f under the writer lock; f decides on the index (which only
// writers change, so it is stable while wmu is held) and commits batches.
func (s *Sim) write(f func(ix *index) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return f(s.ix)
}

// nextSeq returns the next creation sequence number. Caller holds wmu.
func (ix *index) nextSeq() int64 {
	ix.seq++
	return ix.seq
}
