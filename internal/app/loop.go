package app

import (
	"context"
	"log/slog"
	"time"
)

// Loop is a Component that runs Fn at once and then every Interval until
// stopped: the shape of a part that follows another API by looking at it
// again and again. A failed pass is logged and the next one tries again.
//
// With Wake set, a pass also comes as soon as the channel Wake returned
// before the last pass closes (a change feed, such as cloud.Sim.Changed),
// but not sooner than MinGap after the last pass began: a burst of
// changes costs one pass per MinGap rather than one per change.
type Loop struct {
	N        string
	Interval time.Duration
	Fn       func(ctx context.Context) error
	Log      *slog.Logger
	Wake     func() <-chan struct{}
	MinGap   time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

var _ Component = (*Loop)(nil)

// Name implements Component.
func (l *Loop) Name() string { return l.N }

// Start starts the passes; the first begins at once.
func (l *Loop) Start(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.Interval)
		defer t.Stop()
		for {
			var wake <-chan struct{} // taken before the pass: nothing it misses is lost
			if l.Wake != nil {
				wake = l.Wake()
			}
			began := time.Now()
			if err := l.Fn(runCtx); err != nil && runCtx.Err() == nil && l.Log != nil {
				l.Log.Warn("pass failed", "part", l.N, "err", err)
			}
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			case <-wake:
				if gap := l.MinGap - time.Since(began); gap > 0 {
					select {
					case <-runCtx.Done():
						return
					case <-time.After(gap):
					}
				}
			}
		}
	}()
	return nil
}

// Stop ends the passes and waits for the one under way.
func (l *Loop) Stop(ctx context.Context) error {
	if l.cancel == nil {
		return nil
	}
	l.cancel()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
