// Package app runs stratus's parts as one process: each part is a Component
// with Start and Stop; Run starts them in order, all or none (if one fails to
// start, those already started are stopped again in reverse order), and
// stops them in reverse order when the context ends. Readiness is the AND of
// every part's readiness.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Component is one part of the process: a store, an API front, a
// controller, an agent.
type Component interface {
	// Name is a short stable name for logs and /readyz ("store", "cloudstack").
	Name() string
	// Start begins the component's work and returns once it is started.
	// Work that continues goes on in goroutines the component owns, bounded
	// by ctx; ctx ends when the process stops.
	Start(ctx context.Context) error
	// Stop ends the work and waits for it, within ctx's deadline.
	Stop(ctx context.Context) error
}

// Readier is implemented by components whose readiness is more than
// "started" (a controller that must sync its caches first).
type Readier interface {
	Ready() bool
}

// Func adapts a pair of functions to a Component.
type Func struct {
	N       string
	StartFn func(ctx context.Context) error
	StopFn  func(ctx context.Context) error
	ReadyFn func() bool
}

// Name implements Component.
func (f Func) Name() string { return f.N }

// Start implements Component.
func (f Func) Start(ctx context.Context) error {
	if f.StartFn == nil {
		return nil
	}
	return f.StartFn(ctx)
}

// Stop implements Component.
func (f Func) Stop(ctx context.Context) error {
	if f.StopFn == nil {
		return nil
	}
	return f.StopFn(ctx)
}

// Ready implements Readier.
func (f Func) Ready() bool { return f.ReadyFn == nil || f.ReadyFn() }

// DefaultStopTimeout bounds a whole shutdown unless a Group says otherwise:
// every stratus process (up, server, agent, gce) stops within it.
const DefaultStopTimeout = 30 * time.Second

// Group starts and stops components in order.
type Group struct {
	Log *slog.Logger
	// StopTimeout bounds the whole shutdown. Default DefaultStopTimeout.
	StopTimeout time.Duration

	mu      sync.Mutex
	comps   []Component
	started []Component
}

// Add appends components; they start in the order added.
func (g *Group) Add(cs ...Component) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.comps = append(g.comps, cs...)
}

func (g *Group) log() *slog.Logger {
	if g.Log == nil {
		return slog.Default()
	}
	return g.Log
}

// Start starts every component in order. If one fails, those already
// started are stopped in reverse order and the error is returned.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	comps := append([]Component(nil), g.comps...)
	g.mu.Unlock()
	for _, c := range comps {
		t0 := time.Now()
		if err := c.Start(ctx); err != nil {
			g.log().Error("component failed to start", "component", c.Name(), "err", err)
			_ = g.StopWithin(ctx)
			return fmt.Errorf("start %s: %w", c.Name(), err)
		}
		g.mu.Lock()
		g.started = append(g.started, c)
		g.mu.Unlock()
		g.log().Debug("component started", "component", c.Name(), "took", time.Since(t0))
	}
	return nil
}

func (g *Group) stopTimeout() time.Duration {
	if g.StopTimeout <= 0 {
		return DefaultStopTimeout
	}
	return g.StopTimeout
}

// Run is a process's life: it starts every component, calls started (if
// set) once they all have, waits for ctx to end (a signal), and stops them
// within the stop timeout.
func (g *Group) Run(ctx context.Context, started func()) error {
	if err := g.Start(ctx); err != nil {
		return err
	}
	if started != nil {
		started()
	}
	<-ctx.Done()
	return g.StopWithin(ctx)
}

// StopWithin stops the group within its stop timeout, counted from now
// (ctx's values are kept, its cancellation is not).
func (g *Group) StopWithin(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.stopTimeout())
	defer cancel()
	return g.Stop(sctx)
}

// Stop stops the started components in reverse order and returns every
// error joined.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	started := g.started
	g.started = nil
	g.mu.Unlock()
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		c := started[i]
		if err := c.Stop(ctx); err != nil {
			g.log().Error("component failed to stop", "component", c.Name(), "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", c.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// PartStatus is one part's name and whether it has started and is ready.
type PartStatus struct {
	Name  string
	Ready bool
}

// Statuses lists every component in start order, the members of a Parallel
// one by one, each with its readiness: what /readyz?verbose shows.
func (g *Group) Statuses() []PartStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []PartStatus
	// Components start in order, so the first len(g.started) have started.
	for i, c := range g.comps {
		if p, ok := c.(*Parallel); ok {
			out = append(out, p.Statuses()...)
			continue
		}
		ready := i < len(g.started)
		if r, ok := c.(Readier); ok && ready {
			ready = r.Ready()
		}
		out = append(out, PartStatus{Name: c.Name(), Ready: ready})
	}
	return out
}

// Ready reports whether every component has started and is ready, and the
// names of those that are not.
func (g *Group) Ready() (bool, []string) {
	notReady := NotReady(g.Statuses())
	return len(notReady) == 0, notReady
}

// NotReady names the parts that are not ready.
func NotReady(parts []PartStatus) []string {
	var out []string
	for _, p := range parts {
		if !p.Ready {
			out = append(out, p.Name)
		}
	}
	return out
}
