package instance

import (
	"context"
	"log/slog"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// ClientGoLogger is the logger client-go's own lines (klog) go to: the
// same handler as ours, with its informational lines (leader election
// attempts, event broadcasting) at debug level, where an operator who wants
// them finds them; its warnings and errors stay as they are. A process
// that is all stratus (`stratus up`, `stratus agent`) makes it klog's
// global logger.
func ClientGoLogger(log *slog.Logger) *slog.Logger {
	return slog.New(infoAsDebug{log.Handler()}).With("component", "client-go")
}

// withClientGoLogger gives ctx the instance's ClientGoLogger as klog's
// contextual logger: what client-go logs through the context it is given
// (leader election, informers' cache syncs) goes to this instance's log,
// not to the process's klog output, so instances in one process (tests)
// each keep their own and print nothing by default.
func withClientGoLogger(ctx context.Context, log *slog.Logger) context.Context {
	return klog.NewContext(ctx, logr.FromSlogHandler(ClientGoLogger(log).Handler()))
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
