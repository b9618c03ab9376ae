package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Parallel is a Component made of components that do not depend on each
// other: Start starts them all at once and returns when every one has
// started (if one fails, those that started are stopped again); Stop stops
// them all at once. It is ready when every member is.
type Parallel struct {
	N     string
	Parts []Component
	// Log, when set, gets a debug line per part started, with its time.
	Log *slog.Logger

	mu      sync.Mutex
	started []bool // by index in Parts (a Func is not comparable)
}

var (
	_ Component = (*Parallel)(nil)
	_ Readier   = (*Parallel)(nil)
)

// Name implements Component.
func (p *Parallel) Name() string { return p.N }

// Start implements Component.
func (p *Parallel) Start(ctx context.Context) error {
	p.mu.Lock()
	p.started = make([]bool, len(p.Parts))
	p.mu.Unlock()
	errs := make([]error, len(p.Parts))
	var wg sync.WaitGroup
	for i, c := range p.Parts {
		wg.Go(func() {
			t0 := time.Now()
			if err := c.Start(ctx); err != nil {
				errs[i] = fmt.Errorf("start %s: %w", c.Name(), err)
				return
			}
			p.mu.Lock()
			p.started[i] = true
			p.mu.Unlock()
			if p.Log != nil {
				p.Log.Debug("component started", "component", c.Name(), "took", time.Since(t0))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = p.Stop(context.WithoutCancel(ctx))
		return err
	}
	return nil
}

// Stop implements Component.
func (p *Parallel) Stop(ctx context.Context) error {
	p.mu.Lock()
	started := p.started
	p.started = nil
	p.mu.Unlock()
	errs := make([]error, len(p.Parts))
	var wg sync.WaitGroup
	for i, c := range p.Parts {
		if i >= len(started) || !started[i] {
			continue
		}
		wg.Go(func() {
			if err := c.Stop(ctx); err != nil {
				errs[i] = fmt.Errorf("stop %s: %w", c.Name(), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Ready implements Readier.
func (p *Parallel) Ready() bool { return len(p.NotReady()) == 0 }

// NotReady names the members that have not started or are not ready.
func (p *Parallel) NotReady() []string { return NotReady(p.Statuses()) }

// Statuses lists the members with their readiness (a member is ready once it
// has started and, if it is a Readier, says so).
func (p *Parallel) Statuses() []PartStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]PartStatus, 0, len(p.Parts))
	for i, c := range p.Parts {
		ready := i < len(p.started) && p.started[i]
		if r, ok := c.(Readier); ok && ready {
			ready = r.Ready()
		}
		out = append(out, PartStatus{Name: c.Name(), Ready: ready})
	}
	return out
}
