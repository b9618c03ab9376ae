// Package etcd is the store backend on a real etcd cluster
// (go.etcd.io/etcd/client/v3), so several stratus servers can share one
// state. The store's revision is etcd's revision; every stratus key lives
// under one prefix (default "/stratus"), so one etcd can hold several
// stratus clouds as long as no prefix is a string prefix of another.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Options configure New.
type Options struct {
	// Endpoints are the etcd client URLs or host:port pairs.
	Endpoints []string
	// Prefix is put before every key. Default "/stratus".
	Prefix string
	// DialTimeout bounds connecting to the cluster at New. Default 5 s.
	DialTimeout time.Duration
	// Logger receives connection messages. Default: discard.
	Logger *slog.Logger
	// ProgressInterval is how often a caught-up watcher that asked for
	// progress notifications gets one, besides those etcd sends. Default 5 s.
	ProgressInterval time.Duration
	// WatchCacheEvents and WatchCacheBytes bound the recent events the
	// shared watch keeps for watchers (see hub). Defaults 50,000 and 64 MiB.
	WatchCacheEvents int
	WatchCacheBytes  int
}

// Store implements store.Store on etcd. All its watchers share one etcd
// watch (see hub).
type Store struct {
	c      *clientv3.Client
	prefix string
	log    *slog.Logger
	opts   Options

	// ctx ends at Close; the shared watch runs in it.
	ctx    context.Context
	cancel context.CancelFunc

	hubMu sync.Mutex
	hub   *hub
	// hubs counts the shared watches started (for tests).
	hubs atomic.Int64
	// compactedRev is the newest revision this process compacted to.
	compactedRev atomic.Int64

	closed    atomic.Bool
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// New connects to the cluster and checks that it answers within
// DialTimeout.
func New(ctx context.Context, opts Options) (store.Store, error) {
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("etcd store: no endpoints")
	}
	if opts.Prefix == "" {
		opts.Prefix = "/stratus"
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = 5 * time.Second
	}
	if opts.WatchCacheEvents <= 0 {
		opts.WatchCacheEvents = 50_000
	}
	if opts.WatchCacheBytes <= 0 {
		opts.WatchCacheBytes = 64 << 20
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   opts.Endpoints,
		DialTimeout: opts.DialTimeout,
		Logger:      zap.NewNop(),
		Context:     context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd store %v: %w", opts.Endpoints, err)
	}
	cctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	resp, err := c.Get(cctx, opts.Prefix, clientv3.WithCountOnly())
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("etcd store %v: no answer within %s: %w", opts.Endpoints, opts.DialTimeout, err)
	}
	log.Info("connected to etcd", "endpoints", opts.Endpoints, "prefix", opts.Prefix, "rev", resp.Header.Revision)
	s := &Store{c: c, prefix: opts.Prefix, log: log, opts: opts, done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return s, nil
}

// err maps client errors to the store's.
func (s *Store) err(err error) error {
	switch {
	case err == nil:
		return nil
	case s.closed.Load():
		return store.ErrClosed
	case errors.Is(err, rpctypes.ErrCompacted):
		return store.ErrCompacted
	case errors.Is(err, rpctypes.ErrFutureRev):
		return store.ErrFutureRevision
	}
	return fmt.Errorf("etcd store: %w", err)
}

func (s *Store) kv(kv *mvccpb.KeyValue) *store.KV {
	if kv == nil {
		return nil
	}
	v := kv.Value
	if v == nil {
		v = []byte{}
	}
	return &store.KV{
		Key:       string(kv.Key[len(s.prefix):]),
		Value:     v,
		CreateRev: kv.CreateRevision,
		ModRev:    kv.ModRevision,
	}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (*store.KV, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	resp, err := s.c.Get(ctx, s.prefix+key)
	if err != nil {
		return nil, s.err(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, store.ErrNotFound
	}
	return s.kv(resp.Kvs[0]), nil
}

// List implements store.Store: one linearizable range read.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) (store.ListResult, error) {
	if s.closed.Load() {
		return store.ListResult{}, store.ErrClosed
	}
	full := s.prefix + prefix
	start := full
	if opts.After != "" && opts.After >= prefix {
		start = s.prefix + opts.After + "\x00"
	}
	end := clientv3.GetPrefixRangeEnd(full)
	if start >= end && end != "\x00" {
		// Nothing can follow After under the prefix; etcd would read the
		// range backwards.
		if opts.Rev != 0 {
			// Still answer whether that revision can be read.
			if _, err := s.c.Get(ctx, full, clientv3.WithRev(opts.Rev), clientv3.WithCountOnly()); err != nil {
				return store.ListResult{}, s.err(err)
			}
			return store.ListResult{Rev: opts.Rev}, nil
		}
		rev, err := s.Rev(ctx)
		if err != nil {
			return store.ListResult{}, err
		}
		if opts.MinRev > rev {
			return store.ListResult{}, store.ErrFutureRevision
		}
		return store.ListResult{Rev: rev}, nil
	}
	ops := []clientv3.OpOption{clientv3.WithRange(end)}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(int64(opts.Limit)))
	}
	if opts.Rev != 0 {
		ops = append(ops, clientv3.WithRev(opts.Rev))
	}
	resp, err := s.c.Get(ctx, start, ops...)
	if err != nil {
		return store.ListResult{}, s.err(err)
	}
	res := store.ListResult{Rev: resp.Header.Revision, More: resp.More}
	if opts.Count && resp.More {
		// etcd counts the whole range, whatever the limit.
		res.Remaining = resp.Count - int64(len(resp.Kvs))
	}
	switch {
	case opts.Rev != 0:
		res.Rev = opts.Rev
	case opts.MinRev > resp.Header.Revision:
		return store.ListResult{}, store.ErrFutureRevision
	}
	if len(resp.Kvs) > 0 {
		res.KVs = make([]*store.KV, len(resp.Kvs))
		for i, kv := range resp.Kvs {
			res.KVs[i] = s.kv(kv)
		}
	}
	return res, nil
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	resp, err := s.c.Get(ctx, s.prefix+prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, s.err(err)
	}
	return resp.Count, nil
}

// Rev implements store.Store.
func (s *Store) Rev(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	resp, err := s.c.Get(ctx, s.prefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, s.err(err)
	}
	return resp.Header.Revision, nil
}

// Compact implements store.Store (etcd compacts the whole cluster).
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	_, err := s.c.Compact(ctx, rev)
	if errors.Is(err, rpctypes.ErrCompacted) {
		err = nil // already compacted that far
	}
	if err == nil {
		for cur := s.compactedRev.Load(); rev > cur && !s.compactedRev.CompareAndSwap(cur, rev); cur = s.compactedRev.Load() {
		}
		s.hubMu.Lock()
		if s.hub != nil {
			s.hub.compacted(rev)
		}
		s.hubMu.Unlock()
	}
	return s.err(err)
}

// Txn implements store.Store as one etcd transaction: the conditions become
// compares, the (collapsed) writes the success branch, and the failure
// branch reads the conditioned keys so the conflict can name one.
func (s *Store) Txn(ctx context.Context, ops ...store.Op) (store.TxnResult, error) {
	if err := store.Validate(ops); err != nil {
		return store.TxnResult{}, err
	}
	if s.closed.Load() {
		return store.TxnResult{}, store.ErrClosed
	}
	var (
		cmps  []clientv3.Cmp
		reads []clientv3.Op
		conds []int // indexes of ops with conditions
	)
	for i := range ops {
		op := &ops[i]
		k := s.prefix + op.Key
		switch op.If.Kind {
		case store.CondNone:
			continue
		case store.CondAbsent:
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		case store.CondExists:
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), ">", 0))
		case store.CondRevision:
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", op.If.Rev))
			if op.If.Rev <= 0 {
				// A missing key has ModRevision 0 but never matches.
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), ">", 0))
			}
		}
		conds = append(conds, i)
		reads = append(reads, clientv3.OpGet(k))
	}
	writes := store.Collapse(nil, ops)
	then := make([]clientv3.Op, len(writes))
	for i, w := range writes {
		if w.Kind == store.OpDelete {
			then[i] = clientv3.OpDelete(s.prefix + w.Key)
		} else {
			then[i] = clientv3.OpPut(s.prefix+w.Key, string(w.Value))
		}
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Then(then...).Else(reads...).Commit()
	if err != nil {
		return store.TxnResult{}, s.err(err)
	}
	res := store.TxnResult{Rev: resp.Header.Revision}
	if resp.Succeeded {
		return res, nil
	}
	// The reads ran at the same revision as the compares: find the first
	// condition that failed.
	for j, i := range conds {
		op := &ops[i]
		var cur *store.KV
		if rr := resp.Responses[j].GetResponseRange(); rr != nil && len(rr.Kvs) > 0 {
			cur = s.kv(rr.Kvs[0])
		}
		ok := true
		switch op.If.Kind {
		case store.CondAbsent:
			ok = cur == nil
		case store.CondExists:
			ok = cur != nil
		case store.CondRevision:
			ok = cur != nil && cur.ModRev == op.If.Rev
		}
		if !ok {
			return res, &store.ConflictError{Key: op.Key, Current: cur}
		}
	}
	return res, &store.ConflictError{Key: ops[conds[0]].Key}
}

// Watch implements store.Store. A watch "from now on" (Rev 0) is pinned to
// the revision after the current one before it starts, so no write that
// follows Watch's return can be missed. Watchers share one etcd watch (see
// hub), so a hundred watchers cost etcd one stream.
func (s *Store) Watch(ctx context.Context, prefix string, opts store.WatchOptions) (<-chan store.WatchBatch, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	h, err := s.sharedHub(ctx)
	if err != nil {
		return nil, err
	}
	from := opts.Rev
	if from <= 0 {
		r, err := s.Rev(ctx)
		if err != nil {
			return nil, err
		}
		from = r + 1
	}
	out := make(chan store.WatchBatch, 16)
	go func() {
		defer close(out)
		h.serve(ctx, prefix, from, opts.ProgressNotify, out)
	}()
	return out, nil
}

// watchAlone feeds a watcher from an etcd watch of its own, from
// revision from on: for a watcher the shared watch cannot serve.
// send hands b to a watcher; false when the watcher or the store is gone.
func (s *Store) send(ctx context.Context, out chan<- store.WatchBatch, b store.WatchBatch) bool {
	select {
	case out <- b:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

func (s *Store) watchAlone(ctx context.Context, prefix string, from int64, progress bool, out chan<- store.WatchBatch) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wopts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithPrevKV()}
	if progress {
		wopts = append(wopts, clientv3.WithProgressNotify())
	}
	wch := s.c.Watch(wctx, s.prefix+prefix, wopts...)
	send := func(b store.WatchBatch) bool { return s.send(ctx, out, b) }
	for resp := range wch {
		switch {
		case resp.CompactRevision != 0:
			send(store.WatchBatch{Err: store.ErrCompacted, Rev: resp.CompactRevision - 1})
			return
		case resp.Canceled || resp.Err() != nil:
			if ctx.Err() != nil || s.closed.Load() {
				return
			}
			send(store.WatchBatch{Err: s.err(resp.Err())})
			return
		case resp.IsProgressNotify():
			if progress && !send(store.WatchBatch{Rev: resp.Header.Revision}) {
				return
			}
			continue
		case len(resp.Events) == 0:
			continue
		}
		evs := s.events(resp.Events)
		if !send(store.WatchBatch{Events: evs, Rev: evs[len(evs)-1].KV.ModRev}) {
			return
		}
	}
}

// Close implements store.Store: the client closes and every watch ends.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.cancel()
		s.closeErr = s.c.Close()
		if errors.Is(s.closeErr, context.Canceled) {
			s.closeErr = nil
		}
	})
	return s.closeErr
}

// Stats implements store.Statser: the keys under the prefix, the
// revisions since the newest compaction this process made (or saw), and
// the first endpoint's database size and the part of it not in use.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	n, err := s.Count(ctx, "")
	if err != nil {
		return store.Stats{}, err
	}
	st := store.Stats{Keys: n, History: -1, CompactedRev: s.compactedRev.Load(), FileBytes: -1, FreeBytes: -1}
	if eps := s.c.Endpoints(); len(eps) > 0 {
		if resp, err := s.c.Status(ctx, eps[0]); err == nil {
			st.FileBytes, st.FreeBytes = resp.DbSize, resp.DbSize-resp.DbSizeInUse
			if st.CompactedRev > 0 {
				st.History = resp.Header.Revision - st.CompactedRev
			}
		}
	}
	return st, nil
}
