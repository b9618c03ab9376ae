package backend

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Instrument wraps s so every call is timed in
// stratus_store_operation_duration_seconds{operation} and the newest
// revision seen is stratus_store_revision. Collectors already registered
// with reg (a second store in one process) are shared. Calls allocate
// nothing for the metrics.
func Instrument(s store.Store, reg prometheus.Registerer) store.Store {
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "stratus_store_operation_duration_seconds",
		Help:    "Time taken by store operations, by operation.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 12), // 50µs to 1.2s
	}, []string{"operation"})
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "stratus_store_revision",
		Help: "The newest store revision this process has seen.",
	})
	hist = register(reg, hist)
	gauge = register(reg, gauge)
	if st, ok := s.(store.Statser); ok && reg != nil {
		register(reg, &statsCollector{s: st})
	}
	return &instrumented{
		s:       s,
		get:     hist.WithLabelValues("get"),
		list:    hist.WithLabelValues("list"),
		count:   hist.WithLabelValues("count"),
		txn:     hist.WithLabelValues("txn"),
		watch:   hist.WithLabelValues("watch"),
		rev:     hist.WithLabelValues("rev"),
		compact: hist.WithLabelValues("compact"),
		gauge:   gauge,
	}
}

// register registers c, or returns the collector already registered in its
// place.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a metric of that name with another shape: a programming error
	}
	return c
}

type instrumented struct {
	s                                          store.Store
	get, list, count, txn, watch, rev, compact prometheus.Observer
	gauge                                      prometheus.Gauge
	maxRev                                     atomic.Int64
}

func since(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

// seen raises the revision gauge to r.
func (i *instrumented) seen(r int64) {
	for {
		m := i.maxRev.Load()
		if r <= m {
			return
		}
		if i.maxRev.CompareAndSwap(m, r) {
			i.gauge.Set(float64(r))
			return
		}
	}
}

func (i *instrumented) Get(ctx context.Context, key string) (*store.KV, error) {
	defer since(i.get, time.Now())
	return i.s.Get(ctx, key)
}

func (i *instrumented) List(ctx context.Context, prefix string, opts store.ListOptions) (store.ListResult, error) {
	defer since(i.list, time.Now())
	res, err := i.s.List(ctx, prefix, opts)
	i.seen(res.Rev)
	return res, err
}

func (i *instrumented) Count(ctx context.Context, prefix string) (int64, error) {
	defer since(i.count, time.Now())
	return i.s.Count(ctx, prefix)
}

func (i *instrumented) Txn(ctx context.Context, ops ...store.Op) (store.TxnResult, error) {
	defer since(i.txn, time.Now())
	res, err := i.s.Txn(ctx, ops...)
	i.seen(res.Rev)
	return res, err
}

func (i *instrumented) Watch(ctx context.Context, prefix string, opts store.WatchOptions) (<-chan store.WatchBatch, error) {
	defer since(i.watch, time.Now())
	return i.s.Watch(ctx, prefix, opts)
}

func (i *instrumented) Rev(ctx context.Context) (int64, error) {
	defer since(i.rev, time.Now())
	r, err := i.s.Rev(ctx)
	i.seen(r)
	return r, err
}

func (i *instrumented) Compact(ctx context.Context, rev int64) error {
	defer since(i.compact, time.Now())
	return i.s.Compact(ctx, rev)
}

func (i *instrumented) Close() error { return i.s.Close() }

// Stats implements store.Statser when the wrapped store does.
func (i *instrumented) Stats(ctx context.Context) (store.Stats, error) {
	if st, ok := i.s.(store.Statser); ok {
		return st.Stats(ctx)
	}
	return store.Stats{}, errors.ErrUnsupported
}
