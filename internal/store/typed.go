package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Typed stores values of one Go type under a key prefix, encoded as JSON,
// so callers do not repeat encode/decode and compare-and-swap loops.
// The zero value is not usable: set S and Prefix (for example "/cloud/vms/").
type Typed[T any] struct {
	S      Store
	Prefix string
}

// Item is a decoded value with the revision it was read at.
type Item[T any] struct {
	Name string
	Rev  int64
	Val  *T
}

// Key returns the full store key for name.
func (t Typed[T]) Key(name string) string { return t.Prefix + name }

func (t Typed[T]) decode(kv *KV) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return nil, fmt.Errorf("store: decode %s: %w", kv.Key, err)
	}
	return v, nil
}

// Get returns the value stored under name and its ModRev.
func (t Typed[T]) Get(ctx context.Context, name string) (*T, int64, error) {
	kv, err := t.S.Get(ctx, t.Key(name))
	if err != nil {
		return nil, 0, err
	}
	v, err := t.decode(kv)
	return v, kv.ModRev, err
}

// Create stores v under name, failing with ErrConflict if it exists.
func (t Typed[T]) Create(ctx context.Context, name string, v *T) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	res, err := t.S.Txn(ctx, Create(t.Key(name), b))
	return res.Rev, err
}

// Put stores v under name unconditionally.
func (t Typed[T]) Put(ctx context.Context, name string, v *T) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	res, err := t.S.Txn(ctx, Put(t.Key(name), b))
	return res.Rev, err
}

// Op returns a put of v under name conditioned on c, for use in a
// multi-key transaction.
func (t Typed[T]) Op(name string, v *T, c Cond) (Op, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Op{}, err
	}
	return Op{Kind: OpPut, Key: t.Key(name), Value: b, If: c}, nil
}

// Update reads the value under name, passes it to fn and writes what fn
// returns, retrying when another writer got there first. fn must not keep
// the pointer it is given between calls; returning an error stops the
// update and returns that error.
func (t Typed[T]) Update(ctx context.Context, name string, fn func(*T) (*T, error)) (*T, int64, error) {
	for {
		cur, rev, err := t.Get(ctx, name)
		if err != nil {
			return nil, 0, err
		}
		next, err := fn(cur)
		if err != nil {
			return nil, 0, err
		}
		b, err := json.Marshal(next)
		if err != nil {
			return nil, 0, err
		}
		res, err := t.S.Txn(ctx, Update(t.Key(name), b, rev))
		if errors.Is(err, ErrConflict) {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		return next, res.Rev, nil
	}
}

// Delete removes name; a missing key answers ErrNotFound.
func (t Typed[T]) Delete(ctx context.Context, name string) error {
	_, err := t.S.Txn(ctx, Op{Kind: OpDelete, Key: t.Key(name), If: Cond{Kind: CondExists}})
	if errors.Is(err, ErrConflict) {
		return ErrNotFound
	}
	return err
}

// List returns every value under the prefix, in key order, and the
// revision of the snapshot.
func (t Typed[T]) List(ctx context.Context) ([]Item[T], int64, error) {
	res, err := t.S.List(ctx, t.Prefix, ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	items := make([]Item[T], 0, len(res.KVs))
	for _, kv := range res.KVs {
		v, err := t.decode(kv)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, Item[T]{Name: kv.Key[len(t.Prefix):], Rev: kv.ModRev, Val: v})
	}
	return items, res.Rev, nil
}
