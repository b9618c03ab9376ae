// Package store is stratus's one source of truth: a versioned key-value
// store with multi-key transactions and watch, shaped on what its callers
// (the CloudStack simulator, the GCE gateway, the Kubernetes API) send.
//
// Every committed write advances one global revision that only grows; that
// revision is what Kubernetes clients see as resourceVersion. Three backends
// implement Store: memory (no disk), bolt (one bbolt file, the default) and
// etcd (a real etcd cluster, so several stratus servers share state). One
// conformance suite (storetest) runs against each.
package store

import (
	"context"
	"errors"
	"fmt"
)

// Errors callers match with errors.Is.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrConflict: a transaction's comparison failed (the key changed, or
	// exists when it must not, or is missing when it must exist).
	ErrConflict = errors.New("store: revision conflict")
	// ErrCompacted: the requested revision is older than the history kept.
	ErrCompacted = errors.New("store: required revision has been compacted")
	// ErrFutureRevision: the requested revision has not happened yet.
	ErrFutureRevision = errors.New("store: required revision is in the future")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// Limits every backend enforces, so a write that one backend accepts is
// accepted by all (bbolt caps keys at 32 KiB, etcd requests at 1.5 MiB).
const (
	// MaxKeySize is the longest key, in bytes.
	MaxKeySize = 4096
	// MaxValueSize is the largest value, in bytes: etcd's 1.5 MiB request
	// limit less 12 KiB for the key and a transaction's other operations
	// (the Kubernetes API stores objects of up to this size, as
	// kube-apiserver stores what etcd takes).
	MaxValueSize = 3<<19 - 12<<10
)

// ErrInvalid marks a transaction no backend would accept (no ops, an empty
// or too long key, a too large value, an unknown op kind).
var ErrInvalid = errors.New("store: invalid transaction")

// KV is one stored object at one revision. KVs returned by a Store are
// shared: callers must not modify them or their Value.
type KV struct {
	Key   string
	Value []byte
	// CreateRev is the revision at which the key was (last) created.
	CreateRev int64
	// ModRev is the revision of the last write to the key.
	ModRev int64
}

// OpKind says what an Op does.
type OpKind uint8

const (
	// OpPut writes Value at Key.
	OpPut OpKind = iota + 1
	// OpDelete removes Key; deleting a missing key is a conflict only when
	// the op carries a condition.
	OpDelete
	// OpCheck writes nothing: it only asserts its condition.
	OpCheck
)

// Cond is the condition an Op puts on the key's current state. The zero
// value means no condition.
type Cond struct {
	// Kind selects the test.
	Kind CondKind
	// Rev is the ModRev the key must have for CondRevision.
	Rev int64
}

// CondKind names a condition on a key.
type CondKind uint8

const (
	// CondNone: no condition.
	CondNone CondKind = iota
	// CondAbsent: the key must not exist ("create").
	CondAbsent
	// CondExists: the key must exist.
	CondExists
	// CondRevision: the key must exist with ModRev == Cond.Rev.
	CondRevision
)

// Op is one write in a transaction. The store keeps Value: callers must not
// modify it after passing it to Txn.
type Op struct {
	Kind  OpKind
	Key   string
	Value []byte
	If    Cond
}

// Put returns an unconditional put.
func Put(key string, value []byte) Op { return Op{Kind: OpPut, Key: key, Value: value} }

// Create returns a put that fails with ErrConflict when the key exists.
func Create(key string, value []byte) Op {
	return Op{Kind: OpPut, Key: key, Value: value, If: Cond{Kind: CondAbsent}}
}

// Update returns a put that fails with ErrConflict unless the key's ModRev is rev.
func Update(key string, value []byte, rev int64) Op {
	return Op{Kind: OpPut, Key: key, Value: value, If: Cond{Kind: CondRevision, Rev: rev}}
}

// Delete returns an unconditional delete (a missing key is not an error).
func Delete(key string) Op { return Op{Kind: OpDelete, Key: key} }

// DeleteAt returns a delete that fails with ErrConflict unless the key's ModRev is rev.
func DeleteAt(key string, rev int64) Op {
	return Op{Kind: OpDelete, Key: key, If: Cond{Kind: CondRevision, Rev: rev}}
}

// Check returns an op that writes nothing and only asserts a condition, so a
// transaction can depend on a key it does not change.
func Check(key string, c Cond) Op { return Op{Kind: OpCheck, Key: key, If: c} }

// TxnResult is what a committed transaction reports.
type TxnResult struct {
	// Rev is the revision the transaction committed at (the store's
	// revision after it). A transaction of only checks commits nothing and
	// reports the current revision.
	Rev int64
}

// ConflictError says which op's condition failed. It matches ErrConflict.
type ConflictError struct {
	Key string
	// Current is the key's state when the comparison failed (nil if absent).
	Current *KV
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: revision conflict on %q", e.Key)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ListOptions shape a List.
type ListOptions struct {
	// Limit caps the items returned; 0 means no limit.
	Limit int
	// After, when set, starts the list after this key (exclusive), for paging.
	After string
	// MinRev, when non-zero, asks for a list no older than that revision
	// (Kubernetes' "NotOlderThan"); every backend serves its newest state,
	// and answers ErrFutureRevision when MinRev is ahead of it.
	MinRev int64
	// Rev, when non-zero, lists the state at exactly that revision (for
	// Kubernetes' "Exact" lists and continued pages): ErrCompacted when the
	// history no longer reaches back to it, ErrFutureRevision when the store
	// has not reached it. MinRev is ignored then.
	Rev int64
	// Count asks, when Limit cuts the list short, for Remaining: how many
	// keys under the prefix follow the last one returned, in the same
	// state (etcd's range count, which Kubernetes turns into a list's
	// remainingItemCount). It costs a walk over the rest of the range.
	Count bool
}

// ListResult is a consistent snapshot of the keys under a prefix.
type ListResult struct {
	KVs []*KV
	// Rev is the store revision the snapshot reflects.
	Rev int64
	// More is true when Limit cut the list short.
	More bool
	// Remaining is, when More and ListOptions.Count, how many keys under
	// the prefix follow the returned ones.
	Remaining int64
}

// EventType is what happened to a key.
type EventType uint8

const (
	// EventPut: created or modified.
	EventPut EventType = iota + 1
	// EventDelete: deleted.
	EventDelete
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	}
	return "UNKNOWN"
}

// Event is one change seen by a watcher.
type Event struct {
	Type EventType
	// KV is the new state; for a delete, Key is set, ModRev is the deleting
	// revision, and Value is nil.
	KV *KV
	// Prev is the state before the change (nil for a create). A delete
	// always carries Prev so watchers can report the last object.
	Prev *KV
}

// Created reports whether a put created the key.
func (e Event) Created() bool { return e.Type == EventPut && e.Prev == nil }

// WatchOptions shape a Watch.
type WatchOptions struct {
	// Rev is the first revision to deliver: events with ModRev >= Rev. Zero
	// means "from now on" (after the current revision).
	Rev int64
	// ProgressNotify asks for empty batches carrying the current revision
	// now and then, so a quiet watcher still learns how far it is (for
	// Kubernetes bookmarks).
	ProgressNotify bool
}

// WatchBatch is a group of events from one or more transactions, in revision
// order. An empty batch with Rev set is a progress notification. A batch
// with Err set is the last one on the channel.
type WatchBatch struct {
	Events []Event
	// Rev is the store revision this batch brings the watcher up to.
	Rev int64
	// Err ends the watch (ErrCompacted when the watcher fell out of history).
	Err error
}

// Store is the interface every backend implements. All methods are safe for
// concurrent use.
type Store interface {
	// Get returns the current value of key, or ErrNotFound.
	Get(ctx context.Context, key string) (*KV, error)
	// List returns the keys with the given prefix, in key order.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Count returns how many keys have the prefix.
	Count(ctx context.Context, prefix string) (int64, error)
	// Txn applies ops atomically: all conditions are checked against the
	// state before the transaction, then every write commits at one new
	// revision. A key written more than once keeps only its last write,
	// applied to the state before the transaction (see Collapse). When a
	// condition fails nothing is written and the error is a *ConflictError.
	// A transaction that changes nothing (only checks, or deletes of missing
	// keys) does not advance the revision. When Txn returns nil the write is
	// durable (for durable backends).
	Txn(ctx context.Context, ops ...Op) (TxnResult, error)
	// Watch streams changes to keys with the prefix, from opts.Rev on. The
	// channel closes when ctx ends or the store closes; a batch with Err is
	// sent first when the watch ends for another reason. A watch from a
	// compacted revision is such a reason: its channel carries one batch
	// with Err ErrCompacted (Watch itself does not fail for it), and so does
	// a watcher that fell so far behind that the history it needs is gone.
	Watch(ctx context.Context, prefix string, opts WatchOptions) (<-chan WatchBatch, error)
	// Rev returns the current store revision.
	Rev(ctx context.Context) (int64, error)
	// Compact discards history older than rev: a watch from rev still works,
	// one from rev-1 answers ErrCompacted. Compacting to a revision already
	// compacted is not an error; one ahead of the store is ErrFutureRevision.
	Compact(ctx context.Context, rev int64) error
	// Close releases the backend; later calls answer ErrClosed.
	Close() error
}
