// Package compactor compacts a store's history on a schedule, as
// kube-apiserver asks etcd to (--etcd-compaction-interval, 5 minutes by
// default): at each tick it compacts to the revision it saw at the
// previous tick, so the history always reaches back at least one interval
// and never further than two.
//
// The memory and bolt backends also bound their history by count; for an
// etcd store this is the only thing that keeps etcd's history (and its
// database file) from growing without end. A watch that starts before the
// compacted revision, or falls that far behind, answers ErrCompacted (410
// Gone on the Kubernetes API), and clients relist.
package compactor

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/store"
)

// DefaultInterval is kube-apiserver's --etcd-compaction-interval default.
const DefaultInterval = 5 * time.Minute

// Options configure a Compactor.
type Options struct {
	// Store is the store to compact (required).
	Store store.Store
	// Interval between compactions; 0 means DefaultInterval, negative
	// turns compaction off.
	Interval time.Duration
	// Log receives a line per compaction at debug level. Default: discard.
	Log *slog.Logger
}

// Compactor is an app.Component that compacts the store until stopped.
type Compactor struct {
	opts   Options
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

var _ app.Component = (*Compactor)(nil)

// New returns a compactor; Start begins the schedule.
func New(opts Options) *Compactor {
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Compactor{opts: opts, log: log}
}

// Name implements app.Component.
func (c *Compactor) Name() string { return "compactor" }

// Start implements app.Component.
func (c *Compactor) Start(ctx context.Context) error {
	if c.opts.Store == nil {
		return errors.New("compactor: Options.Store is required")
	}
	if c.opts.Interval < 0 {
		return nil
	}
	ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.done = make(chan struct{})
	go c.run(ctx)
	return nil
}

// Stop implements app.Component.
func (c *Compactor) Stop(ctx context.Context) error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Compactor) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	var last int64 // the revision seen at the previous tick
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if last > 0 {
			if err := c.opts.Store.Compact(ctx, last); err != nil {
				if ctx.Err() == nil {
					c.log.Warn("compaction failed", "rev", last, "err", err)
				}
			} else {
				c.log.Debug("compacted", "rev", last)
			}
		}
		rev, err := c.opts.Store.Rev(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("compaction: read revision", "err", err)
			}
			continue
		}
		last = rev
	}
}
