package app

import (
	"context"
	"log/slog"
	"time"
)

// Loop is a Component that runs Fn at once and then every Interval until
// stopped: the shape of a part that follows another API by looking at it
// again and again. A failed pass is logged and the next one tries again.
type Loop struct {
	N        string
	Interval time.Duration
	Fn       func(ctx context.Context) error
	Log      *slog.Logger

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
			if err := l.Fn(runCtx); err != nil && runCtx.Err() == nil && l.Log != nil {
				l.Log.Warn("pass failed", "part", l.N, "err", err)
			}
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
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
