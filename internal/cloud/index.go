package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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

func (t *table[T]) set(v *T, rev int64) {
	t.m[t.id(v)] = row[T]{v: v, rev: rev}
	t.sorted.Store(nil)
	t.grouped.Store(nil)
}

func (t *table[T]) remove(id string) {
	delete(t.m, id)
	t.sorted.Store(nil)
	t.grouped.Store(nil)
}

// load fills the table from the store.
func (t *table[T]) load(ctx context.Context, st store.Store) error {
	res, err := st.List(ctx, t.prefix, store.ListOptions{})
	if err != nil {
		return err
	}
	for _, kv := range res.KVs {
		v := new(T)
		if err := json.Unmarshal(kv.Value, v); err != nil {
			return fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		t.m[t.id(v)] = row[T]{v: v, rev: kv.ModRev}
	}
	t.sorted.Store(nil)
	return nil
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
	b.ops = append(b.ops, store.DeleteAt(t.prefix+id, r.rev))
	b.applies = append(b.applies, func(int64) { t.remove(id) })
}

func (b *batch) then(f func(rev int64)) { b.applies = append(b.applies, f) }

// commit writes the batch in one transaction and applies it to the index.
// The caller holds s.wmu.
func (s *Sim) commit(ctx context.Context, b *batch) error {
	if b.err != nil {
		return b.err
	}
	if len(b.ops) == 0 {
		return nil
	}
	res, err := s.st.Txn(ctx, b.ops...)
	if err != nil {
		return Errorf(CodeInternal, CSCloudRuntime, "failed to save the change: %v", err)
	}
	s.mu.Lock()
	for _, f := range b.applies {
		f(res.Rev)
	}
	s.mu.Unlock()
	return nil
}
