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
func (p *Parallel) NotReady() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for i, c := range p.Parts {
		if i >= len(p.started) || !p.started[i] {
			out = append(out, c.Name())
			continue
		}
		if r, ok := c.(Readier); ok && !r.Ready() {
			out = append(out, c.Name())
		}
	}
	return out
}
