// Package memory is the in-memory store engine: an ordered index of the
// newest value of every key, a bounded history of recent changes for watch,
// and a commit path that can hand each batch of transactions to a Persister
// before making it visible.
//
// Used alone (New with no Persister) it is the `memory` backend for
// throw-away runs. The bolt backend is this engine with a Persister that
// writes every batch to a bbolt file, so reads and watches never touch disk.
package memory

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Change is one key's new state in a committed batch; KV.Value is nil for a
// delete.
type Change struct {
	Delete bool
	KV     *store.KV
}

// Persister makes a batch of changes durable before the engine shows them.
// Changes are in revision order; Rev is the store revision after the batch.
type Persister interface {
	Persist(changes []Change, rev int64) error
}

// Options configure an Engine.
type Options struct {
	// Persister, when set, is called with each commit batch; concurrent
	// transactions are grouped into one call (group commit).
	Persister Persister
	// HistoryLimit is how many recent events are kept for watches that
	// start in the past or fall behind. Default 100,000.
	HistoryLimit int
	// ProgressInterval is how often a quiet watcher with ProgressNotify gets
	// an empty batch. Default 5 s.
	ProgressInterval time.Duration
	// Initial state, loaded from disk by a durable backend.
	Initial    []*store.KV
	InitialRev int64
}

// Engine implements store.Store in memory.
type Engine struct {
	opts Options

	mu       sync.RWMutex
	tree     *btree.BTreeG[*store.KV]
	rev      int64
	oldest   int64 // history holds every event with rev > oldest
	hist     []store.Event
	notify   chan struct{}
	closed   bool
	closedCh chan struct{}

	sendMu sync.RWMutex // guards sends on reqs against Close closing it
	reqs   chan *txnReq
	done   chan struct{}
}

var _ store.Store = (*Engine)(nil)

type txnReq struct {
	ops  []store.Op
	res  store.TxnResult
	err  error
	done chan struct{}
}

func lessKV(a, b *store.KV) bool { return a.Key < b.Key }

// New returns an engine with the given options.
func New(opts Options) *Engine {
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = 100_000
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = 5 * time.Second
	}
	e := &Engine{
		opts:     opts,
		tree:     btree.NewG[*store.KV](32, lessKV),
		rev:      opts.InitialRev,
		oldest:   opts.InitialRev,
		notify:   make(chan struct{}),
		closedCh: make(chan struct{}),
	}
	for _, kv := range opts.Initial {
		e.tree.ReplaceOrInsert(kv)
	}
	if opts.Persister != nil {
		e.reqs = make(chan *txnReq, 1024)
		e.done = make(chan struct{})
		go e.committer()
	}
	return e
}

// Get implements store.Store.
func (e *Engine) Get(ctx context.Context, key string) (*store.KV, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, store.ErrClosed
	}
	kv, ok := e.tree.Get(&store.KV{Key: key})
	if !ok {
		return nil, store.ErrNotFound
	}
	return kv, nil
}

// List implements store.Store.
func (e *Engine) List(ctx context.Context, prefix string, opts store.ListOptions) (store.ListResult, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return store.ListResult{}, store.ErrClosed
	}
	if opts.MinRev > e.rev {
		return store.ListResult{}, store.ErrFutureRevision
	}
	res := store.ListResult{Rev: e.rev}
	start := prefix
	if opts.After != "" && opts.After >= prefix {
		start = opts.After + "\x00"
	}
	e.tree.AscendGreaterOrEqual(&store.KV{Key: start}, func(kv *store.KV) bool {
		if !strings.HasPrefix(kv.Key, prefix) {
			return false
		}
		if opts.Limit > 0 && len(res.KVs) == opts.Limit {
			res.More = true
			return false
		}
		res.KVs = append(res.KVs, kv)
		return true
	})
	return res, nil
}

// Count implements store.Store.
func (e *Engine) Count(ctx context.Context, prefix string) (int64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return 0, store.ErrClosed
	}
	var n int64
	e.tree.AscendGreaterOrEqual(&store.KV{Key: prefix}, func(kv *store.KV) bool {
		if !strings.HasPrefix(kv.Key, prefix) {
			return false
		}
		n++
		return true
	})
	return n, nil
}

// Rev implements store.Store.
func (e *Engine) Rev(ctx context.Context) (int64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return 0, store.ErrClosed
	}
	return e.rev, nil
}

// Compact implements store.Store: history up to rev is dropped.
func (e *Engine) Compact(ctx context.Context, rev int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return store.ErrClosed
	}
	if rev > e.rev {
		return store.ErrFutureRevision
	}
	if rev <= e.oldest {
		return nil
	}
	i := 0
	for i < len(e.hist) && e.hist[i].KV.ModRev <= rev {
		i++
	}
	e.hist = append([]store.Event(nil), e.hist[i:]...)
	e.oldest = rev
	return nil
}

// Txn implements store.Store.
func (e *Engine) Txn(ctx context.Context, ops ...store.Op) (store.TxnResult, error) {
	if err := validateOps(ops); err != nil {
		return store.TxnResult{}, err
	}
	if e.reqs == nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return store.TxnResult{}, store.ErrClosed
		}
		ov := overlay{e: e}
		changes, err := ov.eval(ops, e.rev+1)
		if err != nil {
			return store.TxnResult{Rev: e.rev}, err
		}
		if len(changes) == 0 {
			return store.TxnResult{Rev: e.rev}, nil
		}
		e.apply(changes, e.rev+1)
		return store.TxnResult{Rev: e.rev}, nil
	}
	req := &txnReq{ops: ops, done: make(chan struct{})}
	e.sendMu.RLock()
	select {
	case <-e.closedCh:
		e.sendMu.RUnlock()
		return store.TxnResult{}, store.ErrClosed
	default:
	}
	select {
	case e.reqs <- req:
		e.sendMu.RUnlock()
	case <-ctx.Done():
		e.sendMu.RUnlock()
		return store.TxnResult{}, ctx.Err()
	}
	// Once queued, the transaction may commit: wait for the answer so an
	// acknowledged write is never reported as failed.
	<-req.done
	return req.res, req.err
}

func validateOps(ops []store.Op) error {
	if len(ops) == 0 {
		return errors.New("store: empty transaction")
	}
	for _, op := range ops {
		if op.Key == "" {
			return errors.New("store: empty key")
		}
		switch op.Kind {
		case store.OpPut, store.OpDelete, store.OpCheck:
		default:
			return errors.New("store: unknown op kind")
		}
	}
	return nil
}

// overlay evaluates transactions against the committed state plus the
// effects of earlier transactions in the same batch.
type overlay struct {
	e       *Engine
	pending map[string]*store.KV // nil value: deleted in this batch
}

func (o *overlay) current(key string) *store.KV {
	if o.pending != nil {
		if kv, ok := o.pending[key]; ok {
			return kv
		}
	}
	kv, ok := o.e.tree.Get(&store.KV{Key: key})
	if !ok {
		return nil
	}
	return kv
}

// eval checks ops' conditions and returns their changes at rev, recording
// them in the overlay. On a conflict nothing is recorded.
func (o *overlay) eval(ops []store.Op, rev int64) ([]Change, error) {
	for _, op := range ops {
		cur := o.current(op.Key)
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
			return nil, &store.ConflictError{Key: op.Key, Current: cur}
		}
	}
	var changes []Change
	seen := make(map[string]int, len(ops))
	for _, op := range ops {
		var ch Change
		switch op.Kind {
		case store.OpCheck:
			continue
		case store.OpPut:
			cur := o.current(op.Key)
			kv := &store.KV{Key: op.Key, Value: op.Value, CreateRev: rev, ModRev: rev}
			if cur != nil {
				kv.CreateRev = cur.CreateRev
			}
			ch = Change{KV: kv}
		case store.OpDelete:
			if o.current(op.Key) == nil {
				continue
			}
			ch = Change{Delete: true, KV: &store.KV{Key: op.Key, ModRev: rev}}
		}
		if o.pending == nil {
			o.pending = make(map[string]*store.KV)
		}
		if ch.Delete {
			o.pending[op.Key] = nil
		} else {
			o.pending[op.Key] = ch.KV
		}
		// A key written twice in one transaction keeps only its last write.
		if i, dup := seen[op.Key]; dup {
			changes[i] = ch
			continue
		}
		seen[op.Key] = len(changes)
		changes = append(changes, ch)
	}
	return changes, nil
}

// apply makes committed changes visible; e.mu must be held for writing.
// Changes may span several revisions (a group commit).
func (e *Engine) apply(changes []Change, rev int64) {
	for _, ch := range changes {
		prev, _ := e.tree.Get(&store.KV{Key: ch.KV.Key})
		if ch.Delete {
			if prev == nil {
				continue
			}
			e.tree.Delete(prev)
			e.hist = append(e.hist, store.Event{Type: store.EventDelete, KV: ch.KV, Prev: prev})
			continue
		}
		e.tree.ReplaceOrInsert(ch.KV)
		e.hist = append(e.hist, store.Event{Type: store.EventPut, KV: ch.KV, Prev: prev})
	}
	e.rev = rev
	if over := len(e.hist) - e.opts.HistoryLimit; over > 0 {
		// Drop whole revisions only, so a watcher never sees half a txn.
		cut := e.hist[over-1].KV.ModRev
		for over < len(e.hist) && e.hist[over].KV.ModRev == cut {
			over++
		}
		e.oldest = cut
		e.hist = append(e.hist[:0:0], e.hist[over:]...)
	}
	close(e.notify)
	e.notify = make(chan struct{})
}

const maxBatch = 512

// committer groups queued transactions into one Persist call.
func (e *Engine) committer() {
	defer close(e.done)
	batch := make([]*txnReq, 0, maxBatch)
	for {
		req, ok := <-e.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], req)
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-e.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		e.commitBatch(batch)
	}
}

func (e *Engine) commitBatch(batch []*txnReq) {
	// Only the committer writes, so reading state under RLock is enough
	// while the batch is evaluated and persisted; readers keep going.
	e.mu.RLock()
	closed := e.closed
	rev := e.rev
	ov := overlay{e: e}
	var all []Change
	for _, r := range batch {
		if closed {
			r.err = store.ErrClosed
			continue
		}
		changes, err := ov.eval(r.ops, rev+1)
		if err != nil {
			r.err = err
			r.res.Rev = rev
			continue
		}
		if len(changes) > 0 {
			rev++
			all = append(all, changes...)
		}
		r.res.Rev = rev
	}
	e.mu.RUnlock()

	if len(all) > 0 {
		if err := e.opts.Persister.Persist(all, rev); err != nil {
			for _, r := range batch {
				if r.err == nil {
					r.err = err
				}
			}
		} else {
			e.mu.Lock()
			e.apply(all, rev)
			e.mu.Unlock()
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}

// Watch implements store.Store.
func (e *Engine) Watch(ctx context.Context, prefix string, opts store.WatchOptions) (<-chan store.WatchBatch, error) {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, store.ErrClosed
	}
	next := opts.Rev
	if next == 0 {
		next = e.rev + 1
	}
	if next <= e.oldest {
		e.mu.RUnlock()
		return nil, store.ErrCompacted
	}
	e.mu.RUnlock()
	out := make(chan store.WatchBatch, 16)
	go e.watchLoop(ctx, prefix, next, opts.ProgressNotify, out)
	return out, nil
}

// watchLoop feeds one watcher from the history. Writers never wait for it:
// a slow watcher only falls behind, and gets ErrCompacted if the history it
// needs is dropped before it reads it.
func (e *Engine) watchLoop(ctx context.Context, prefix string, next int64, progress bool, out chan<- store.WatchBatch) {
	defer close(out)
	var tick <-chan time.Time
	if progress {
		t := time.NewTicker(e.opts.ProgressInterval)
		defer t.Stop()
		tick = t.C
	}
	send := func(b store.WatchBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		case <-e.closedCh:
			return false
		}
	}
	for {
		e.mu.RLock()
		if e.closed {
			e.mu.RUnlock()
			return
		}
		if next <= e.oldest {
			e.mu.RUnlock()
			send(store.WatchBatch{Err: store.ErrCompacted})
			return
		}
		var evs []store.Event
		// History is in revision order: find the first event at or after next.
		lo, hi := 0, len(e.hist)
		for lo < hi {
			m := (lo + hi) / 2
			if e.hist[m].KV.ModRev < next {
				lo = m + 1
			} else {
				hi = m
			}
		}
		for _, ev := range e.hist[lo:] {
			if strings.HasPrefix(ev.KV.Key, prefix) {
				evs = append(evs, ev)
			}
		}
		cur := e.rev
		wait := e.notify
		e.mu.RUnlock()

		if cur >= next {
			if len(evs) > 0 && !send(store.WatchBatch{Events: evs, Rev: cur}) {
				return
			}
			next = cur + 1
		}
		select {
		case <-wait:
		case <-tick:
			if !send(store.WatchBatch{Rev: next - 1}) {
				return
			}
		case <-ctx.Done():
			return
		case <-e.closedCh:
			return
		}
	}
}

// Close implements store.Store. Queued transactions are answered before it
// returns.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.closedCh)
	e.mu.Unlock()
	if e.reqs != nil {
		e.sendMu.Lock()
		close(e.reqs)
		e.sendMu.Unlock()
		<-e.done
	}
	return nil
}
