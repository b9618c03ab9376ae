package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/stratus-cloud/stratus/internal/store"
)

// keyRoot is where the simulator keeps everything in the store.
const keyRoot = "/cloud/"

// row is one indexed object with the store revision it was read or written at.
// Indexed values are never modified in place: a change writes a copy.
type row[T any] struct {
	v   *T
	rev int64
}

// table indexes the objects of one kind by id, mirrored from the store.
type table[T any] struct {
	kind   Kind
	prefix string
	m      map[string]row[T]
	id     func(*T) string
	seq    func(*T) int64
	sorted atomic.Pointer[[]*T]
	// group, when set, keys a secondary index built on demand (tags by
	// resource, VMs by account).
	group   func(*T) string
	grouped atomic.Pointer[map[string][]*T]
	// onChange, when set, keeps a derived index in step (old or new is nil
	// for a create or a removal). Called with mu held for writing.
	onChange func(old, new *T)
	// tombs is the index's record of recent local deletes (see index.tombs).
	tombs map[string]int64
}

// byGroup returns the objects whose group key is k, in creation order.
func (t *table[T]) byGroup(k string) []*T {
	if p := t.grouped.Load(); p != nil {
		return (*p)[k]
	}
	m := map[string][]*T{}
	for _, v := range t.all() {
		g := t.group(v)
		m[g] = append(m[g], v)
	}
	t.grouped.Store(&m)
	return m[k]
}

func newTable[T any](kind Kind, name string, id func(*T) string, seq func(*T) int64) *table[T] {
	return &table[T]{kind: kind, prefix: keyRoot + name + "/", m: map[string]row[T]{}, id: id, seq: seq}
}

func (t *table[T]) segment() string {
	return strings.TrimSuffix(strings.TrimPrefix(t.prefix, keyRoot), "/")
}

func (t *table[T]) setTombs(m map[string]int64) { t.tombs = m }

func (t *table[T]) get(id string) (*T, bool) {
	r, ok := t.m[id]
	return r.v, ok
}

func (t *table[T]) len() int { return len(t.m) }

// all returns every object in creation order. The slice is shared: callers
// must not modify it.
func (t *table[T]) all() []*T {
	if p := t.sorted.Load(); p != nil {
		return *p
	}
	out := make([]*T, 0, len(t.m))
	for _, r := range t.m {
		out = append(out, r.v)
	}
	slices.SortFunc(out, func(a, b *T) int {
		sa, sb := t.seq(a), t.seq(b)
		if sa != sb {
			if sa < sb {
				return -1
			}
			return 1
		}
		if t.id(a) < t.id(b) {
			return -1
		}
		return 1
	})
	t.sorted.Store(&out)
	return out
}

// set indexes v as of store revision rev, unless the index already holds a
// newer revision of it.
func (t *table[T]) set(v *T, rev int64) {
	id := t.id(v)
	old, had := t.m[id]
	if had && old.rev > rev {
		return
	}
	t.m[id] = row[T]{v: v, rev: rev}
	t.sorted.Store(nil)
	t.grouped.Store(nil)
	if t.onChange != nil {
		t.onChange(old.v, v)
	}
}

func (t *table[T]) remove(id string) {
	old, had := t.m[id]
	if !had {
		return
	}
	delete(t.m, id)
	t.sorted.Store(nil)
	t.grouped.Store(nil)
	if t.onChange != nil {
		t.onChange(old.v, nil)
	}
}

// stalePut reports whether a put of id at rev is already reflected in the
// table: it holds that revision or a newer one, or deleted the key later.
func (t *table[T]) stalePut(id string, rev int64) bool {
	if r, ok := t.m[id]; ok && r.rev >= rev {
		return true
	}
	return t.tombs[t.prefix+id] >= rev
}

// staleDelete reports whether a delete of id at rev has nothing to do.
func (t *table[T]) staleDelete(id string, rev int64) bool {
	r, ok := t.m[id]
	return !ok || r.rev >= rev
}

// applyPut indexes a stored value (from a load or another writer's change)
// unless the table already reflects it.
func (t *table[T]) applyPut(id string, kv *store.KV) error {
	if t.stalePut(id, kv.ModRev) {
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	if t.id(v) != id {
		return fmt.Errorf("decode %s: id %q does not match its key", kv.Key, t.id(v))
	}
	t.set(v, kv.ModRev)
	return nil
}

// applyDelete removes id for a delete at rev unless it is stale.
func (t *table[T]) applyDelete(id string, rev int64) {
	if !t.staleDelete(id, rev) {
		t.remove(id)
	}
}

// batch collects the writes of one transaction and what to do to the index
// once it commits.
type batch struct {
	ops     []store.Op
	applies []func(rev int64)
	err     error
	// pending are the address claims this batch makes.
	pending map[string]bool
	// hosts are the hosts this batch changes, as changed so far.
	hosts map[string]*Host
	// dropped are the volumes this batch deletes ahead of the changes that
	// would otherwise write them (an account's purge, see purgeStorage).
	dropped map[string]bool
	// purged are the accounts this batch removes (a project's account can
	// be reached twice: with its project's last Admin, and on its own).
	purged map[string]bool
}

// put adds a write of v (a create if the table has no such id, else an
// update conditioned on the indexed revision).
func put[T any](b *batch, t *table[T], v *T) {
	data, err := json.Marshal(v)
	if err != nil {
		b.err = err
		return
	}
	id := t.id(v)
	key := t.prefix + id
	if r, ok := t.m[id]; ok {
		b.ops = append(b.ops, store.Update(key, data, r.rev))
	} else {
		b.ops = append(b.ops, store.Create(key, data))
	}
	b.applies = append(b.applies, func(rev int64) { t.set(v, rev) })
}

// del adds a delete of id conditioned on the indexed revision.
func del[T any](b *batch, t *table[T], id string) {
	r, ok := t.m[id]
	if !ok {
		return
	}
	key := t.prefix + id
	b.ops = append(b.ops, store.DeleteAt(key, r.rev))
	b.applies = append(b.applies, func(rev int64) {
		t.remove(id)
		t.tombs[key] = rev
	})
}

func (b *batch) then(f func(rev int64)) { b.applies = append(b.applies, f) }

// commit writes the batch in one transaction and applies it to the index.
// Every transaction also reserves creation sequence numbers when the batch
// used more than this server had reserved, and touches syncKey, so a
// reader can learn the revision of the last change to the cloud (Sync). A
// failed revision condition means another server changed what the batch
// was decided on: commit answers a *staleError, on which write refreshes
// the index and runs the whole decision again. The caller holds s.wmu.
func (s *Sim) commit(ctx context.Context, b *batch) error {
	if b.err != nil {
		return b.err
	}
	if len(b.ops) == 0 {
		return nil
	}
	ix := s.ix
	ops := b.ops
	if op, ok := ix.seqOp(); ok {
		ops = append(ops, op)
	}
	ops = append(ops, store.Put(syncKey, s.idValue))
	res, err := s.st.Txn(ctx, ops...)
	if err != nil {
		ix.seqAbort()
		if errors.Is(err, store.ErrConflict) {
			return &staleError{err: err}
		}
		return Errorf(CodeInternal, CSCloudRuntime, "failed to save the change: %v", err)
	}
	s.mu.Lock()
	ix.seqCommitted(res.Rev)
	for _, f := range b.applies {
		f(res.Rev)
	}
	s.mu.Unlock()
	return nil
}

// staleError is a transaction that failed a revision condition: the index
// was behind the store.
type staleError struct{ err error }

func (e *staleError) Error() string { return "failed to save the change: " + e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }
