package main

import (
	"context"
	"log/slog"
)

// clientGoLogger is the logger client-go's own lines (klog) go to: the
// same handler as ours, with its informational lines (leader election
// attempts, event broadcasting) at debug level, where an operator who wants
// them finds them; its warnings and errors stay as they are.
func clientGoLogger(log *slog.Logger) *slog.Logger {
	return slog.New(infoAsDebug{log.Handler()}).With("component", "client-go")
}

// infoAsDebug passes records on with INFO lowered to DEBUG.
type infoAsDebug struct{ h slog.Handler }

func (d infoAsDebug) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return d.h.Enabled(ctx, l)
}

func (d infoAsDebug) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return d.h.Handle(ctx, r)
}

func (d infoAsDebug) WithAttrs(as []slog.Attr) slog.Handler { return infoAsDebug{d.h.WithAttrs(as)} }
func (d infoAsDebug) WithGroup(name string) slog.Handler    { return infoAsDebug{d.h.WithGroup(name)} }
