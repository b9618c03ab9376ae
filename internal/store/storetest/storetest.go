// Package storetest is the conformance suite every store backend passes:
// Run(t, open) checks get, list, count, transactions, revisions and watch
// against a fresh store from open. The memory, bolt and etcd backends each
// run it, so callers can rely on one behaviour whichever backend is wired.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Open returns a fresh, empty store for one test. Run closes it at the end
// of the test. A backend whose watchers get progress notifications only
// rarely should be opened with a short interval (the suite waits up to
// waitFor for one).
type Open func(t *testing.T) store.Store

// waitFor bounds every wait for a watch event.
const waitFor = 10 * time.Second

// Run runs the conformance suite against stores from open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GetMissing", testGetMissing},
		{"CreateGet", testCreateGet},
		{"Conditions", testConditions},
		{"Delete", testDelete},
		{"TxnAtomic", testTxnAtomic},
		{"TxnMultiKey", testTxnMultiKey},
		{"SameKeyTwice", testSameKeyTwice},
		{"CheckOnly", testCheckOnly},
		{"Invalid", testInvalid},
		{"List", testList},
		{"ListPaging", testListPaging},
		{"ListAtRevision", testListAtRevision},
		{"Count", testCount},
		{"RevisionMonotonic", testRevisionMonotonic},
		{"Typed", testTyped},
		{"WatchOrderedUniqueAtomic", testWatchOrdered},
		{"WatchResume", testWatchResume},
		{"WatchPrefix", testWatchPrefix},
		{"WatchPrevious", testWatchPrevious},
		{"WatchCompacted", testWatchCompacted},
		{"WatchProgress", testWatchProgress},
		{"WatchCancel", testWatchCancel},
		{"WatchSlowReader", testWatchSlowReader},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func txn(t *testing.T, s store.Store, ops ...store.Op) int64 {
	t.Helper()
	res, err := s.Txn(ctxT(t), ops...)
	if err != nil {
		t.Fatalf("Txn(%v): %v", ops, err)
	}
	return res.Rev
}

func rev(t *testing.T, s store.Store) int64 {
	t.Helper()
	r, err := s.Rev(ctxT(t))
	if err != nil {
		t.Fatalf("Rev: %v", err)
	}
	return r
}

func get(t *testing.T, s store.Store, key string) *store.KV {
	t.Helper()
	kv, err := s.Get(ctxT(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	if kv, err := s.Get(ctxT(t), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %+v, %v; want ErrNotFound", key, kv, err)
	}
}

func wantConflict(t *testing.T, err error, key string, current *int64) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v; want *store.ConflictError", err)
	}
	if ce.Key != key {
		t.Errorf("conflict key = %q, want %q", ce.Key, key)
	}
	switch {
	case current == nil && ce.Current != nil:
		t.Errorf("conflict Current = %+v, want nil (absent)", ce.Current)
	case current != nil && (ce.Current == nil || ce.Current.ModRev != *current):
		t.Errorf("conflict Current = %+v, want ModRev %d", ce.Current, *current)
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	wantMissing(t, s, "/nope")
}

func testCreateGet(t *testing.T, s store.Store) {
	before := rev(t, s)
	r := txn(t, s, store.Create("/a", []byte("one")))
	if r <= before {
		t.Fatalf("create rev %d, not after %d", r, before)
	}
	kv := get(t, s, "/a")
	if string(kv.Value) != "one" || kv.Key != "/a" || kv.CreateRev != r || kv.ModRev != r {
		t.Fatalf("Get = %+v, want value one at create/mod rev %d", kv, r)
	}
	if got := rev(t, s); got != r {
		t.Fatalf("Rev = %d, want %d", got, r)
	}
	r2 := txn(t, s, store.Put("/empty", []byte{}))
	if kv := get(t, s, "/empty"); len(kv.Value) != 0 || kv.ModRev != r2 {
		t.Fatalf("empty value: %+v", kv)
	}
}

func testConditions(t *testing.T, s store.Store) {
	r1 := txn(t, s, store.Create("/k", []byte("v1")))
	ctx := ctxT(t)

	_, err := s.Txn(ctx, store.Create("/k", []byte("again")))
	wantConflict(t, err, "/k", &r1)

	_, err = s.Txn(ctx, store.Update("/k", []byte("v2"), r1+100))
	wantConflict(t, err, "/k", &r1)

	_, err = s.Txn(ctx, store.Update("/missing", []byte("v"), r1))
	wantConflict(t, err, "/missing", nil)

	r2 := txn(t, s, store.Update("/k", []byte("v2"), r1))
	kv := get(t, s, "/k")
	if string(kv.Value) != "v2" || kv.CreateRev != r1 || kv.ModRev != r2 {
		t.Fatalf("after update: %+v (create %d, mod %d)", kv, r1, r2)
	}
	// The old revision no longer matches.
	_, err = s.Txn(ctx, store.Update("/k", []byte("v3"), r1))
	wantConflict(t, err, "/k", &r2)

	txn(t, s, store.Op{Kind: store.OpPut, Key: "/k", Value: []byte("v3"), If: store.Cond{Kind: store.CondExists}})
	_, err = s.Txn(ctx, store.Op{Kind: store.OpPut, Key: "/nope", Value: []byte("x"), If: store.Cond{Kind: store.CondExists}})
	wantConflict(t, err, "/nope", nil)
	wantMissing(t, s, "/nope")
}

func testDelete(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	r1 := txn(t, s, store.Create("/d", []byte("x")))
	_, err := s.Txn(ctx, store.DeleteAt("/d", r1-1))
	wantConflict(t, err, "/d", &r1)
	get(t, s, "/d")

	r2 := txn(t, s, store.DeleteAt("/d", r1))
	if r2 <= r1 {
		t.Fatalf("delete rev %d not after %d", r2, r1)
	}
	wantMissing(t, s, "/d")

	// Deleting a missing key is fine, changes nothing, and keeps the revision.
	if r3 := txn(t, s, store.Delete("/d")); r3 != r2 {
		t.Fatalf("no-op delete moved the revision %d -> %d", r2, r3)
	}
	_, err = s.Txn(ctx, store.DeleteAt("/d", r1))
	wantConflict(t, err, "/d", nil)
	_, err = s.Txn(ctx, store.Op{Kind: store.OpDelete, Key: "/d", If: store.Cond{Kind: store.CondExists}})
	wantConflict(t, err, "/d", nil)

	// Re-created, a key starts a new life.
	r4 := txn(t, s, store.Create("/d", []byte("y")))
	if kv := get(t, s, "/d"); kv.CreateRev != r4 {
		t.Fatalf("re-created key CreateRev = %d, want %d", kv.CreateRev, r4)
	}
}

func testTxnAtomic(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	r0 := txn(t, s, store.Create("/exists", []byte("x")))
	_, err := s.Txn(ctx,
		store.Put("/t/1", []byte("a")),
		store.Delete("/exists"),
		store.Create("/exists", []byte("nope")), // fails: exists
		store.Put("/t/2", []byte("b")),
	)
	wantConflict(t, err, "/exists", &r0)
	wantMissing(t, s, "/t/1")
	wantMissing(t, s, "/t/2")
	if kv := get(t, s, "/exists"); string(kv.Value) != "x" {
		t.Fatalf("failed txn changed /exists: %+v", kv)
	}
	if r := rev(t, s); r != r0 {
		t.Fatalf("failed txn moved the revision %d -> %d", r0, r)
	}
}

func testTxnMultiKey(t *testing.T, s store.Store) {
	r := txn(t, s,
		store.Create("/m/a", []byte("1")),
		store.Put("/m/b", []byte("2")),
		store.Put("/m/c", []byte("3")),
	)
	for _, k := range []string{"/m/a", "/m/b", "/m/c"} {
		if kv := get(t, s, k); kv.ModRev != r {
			t.Errorf("%s ModRev = %d, want %d (one revision per txn)", k, kv.ModRev, r)
		}
	}
	r2 := txn(t, s, store.Update("/m/a", []byte("x"), r), store.Delete("/m/b"))
	if kv := get(t, s, "/m/a"); kv.ModRev != r2 || kv.CreateRev != r {
		t.Errorf("/m/a = %+v", kv)
	}
	wantMissing(t, s, "/m/b")
}

func testSameKeyTwice(t *testing.T, s store.Store) {
	// The last write wins.
	r := txn(t, s, store.Put("/s", []byte("a")), store.Put("/s", []byte("b")))
	if kv := get(t, s, "/s"); string(kv.Value) != "b" || kv.ModRev != r || kv.CreateRev != r {
		t.Fatalf("put twice: %+v", kv)
	}
	// Delete then put: the key stays, with the new value and its old life.
	r2 := txn(t, s, store.Delete("/s"), store.Put("/s", []byte("c")))
	if kv := get(t, s, "/s"); string(kv.Value) != "c" || kv.ModRev != r2 || kv.CreateRev != r {
		t.Fatalf("delete then put: %+v (want create %d, mod %d)", kv, r, r2)
	}
	// Put then delete: gone.
	txn(t, s, store.Put("/s", []byte("d")), store.Delete("/s"))
	wantMissing(t, s, "/s")
	// Put then delete of a key that did not exist: nothing happens at all.
	before := rev(t, s)
	if r := txn(t, s, store.Put("/s2", []byte("d")), store.Delete("/s2")); r != before {
		t.Fatalf("put+delete of a new key moved the revision %d -> %d", before, r)
	}
	wantMissing(t, s, "/s2")
	// Conditions all see the state before the transaction.
	r3 := txn(t, s, store.Create("/s3", []byte("x")), store.Check("/s3", store.Cond{Kind: store.CondAbsent}))
	if kv := get(t, s, "/s3"); kv.ModRev != r3 {
		t.Fatalf("/s3 = %+v", kv)
	}
}

func testCheckOnly(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	r1 := txn(t, s, store.Create("/c", []byte("x")))
	res, err := s.Txn(ctx, store.Check("/c", store.Cond{Kind: store.CondRevision, Rev: r1}))
	if err != nil || res.Rev != r1 {
		t.Fatalf("check-only txn = %+v, %v; want rev %d", res, err, r1)
	}
	_, err = s.Txn(ctx, store.Check("/c", store.Cond{Kind: store.CondAbsent}))
	wantConflict(t, err, "/c", &r1)
	_, err = s.Txn(ctx, store.Check("/none", store.Cond{Kind: store.CondExists}))
	wantConflict(t, err, "/none", nil)

	// A write guarded by a key it does not change.
	r2 := txn(t, s, store.Check("/c", store.Cond{Kind: store.CondRevision, Rev: r1}), store.Put("/dep", []byte("y")))
	if kv := get(t, s, "/c"); kv.ModRev != r1 {
		t.Fatalf("check changed /c: %+v", kv)
	}
	if kv := get(t, s, "/dep"); kv.ModRev != r2 {
		t.Fatalf("/dep = %+v", kv)
	}
	r3 := txn(t, s, store.Put("/c", []byte("moved")))
	_, err = s.Txn(ctx, store.Check("/c", store.Cond{Kind: store.CondRevision, Rev: r1}), store.Put("/dep", []byte("z")))
	wantConflict(t, err, "/c", &r3)
	if kv := get(t, s, "/dep"); string(kv.Value) != "y" {
		t.Fatalf("guarded write happened: %+v", kv)
	}
}

func testInvalid(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	for name, ops := range map[string][]store.Op{
		"no ops":    nil,
		"empty key": {store.Put("", []byte("x"))},
		"long key":  {store.Put(strings.Repeat("k", store.MaxKeySize+1), nil)},
		"big value": {store.Put("/big", make([]byte, store.MaxValueSize+1))},
		"bad kind":  {{Kind: 99, Key: "/x"}},
		"bad cond":  {{Kind: store.OpPut, Key: "/x", If: store.Cond{Kind: 99}}},
	} {
		if _, err := s.Txn(ctx, ops...); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// The limits themselves are accepted.
	txn(t, s, store.Put("/"+strings.Repeat("k", store.MaxKeySize-1), []byte("x")))
	txn(t, s, store.Put("/big", make([]byte, store.MaxValueSize)))
}

func keysOf(kvs []*store.KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}

func testList(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	for _, k := range []string{"/p/c", "/q/a", "/p/a", "/pz", "/p/b/x", "/p/b", "/o"} {
		txn(t, s, store.Put(k, []byte("v"+k)))
	}
	cur := rev(t, s)
	tests := []struct {
		prefix string
		opts   store.ListOptions
		want   []string
		more   bool
	}{
		{"/p/", store.ListOptions{}, []string{"/p/a", "/p/b", "/p/b/x", "/p/c"}, false},
		{"/p", store.ListOptions{}, []string{"/p/a", "/p/b", "/p/b/x", "/p/c", "/pz"}, false},
		{"", store.ListOptions{}, []string{"/o", "/p/a", "/p/b", "/p/b/x", "/p/c", "/pz", "/q/a"}, false},
		{"/none/", store.ListOptions{}, nil, false},
		{"/p/", store.ListOptions{Limit: 2}, []string{"/p/a", "/p/b"}, true},
		{"/p/", store.ListOptions{Limit: 4}, []string{"/p/a", "/p/b", "/p/b/x", "/p/c"}, false},
		{"/p/", store.ListOptions{Limit: 9}, []string{"/p/a", "/p/b", "/p/b/x", "/p/c"}, false},
		{"/p/", store.ListOptions{After: "/p/b"}, []string{"/p/b/x", "/p/c"}, false},
		{"/p/", store.ListOptions{After: "/p/b", Limit: 1}, []string{"/p/b/x"}, true},
		{"/p/", store.ListOptions{After: "/p/c"}, nil, false},
		{"/p/", store.ListOptions{After: "/a"}, []string{"/p/a", "/p/b", "/p/b/x", "/p/c"}, false},
		{"/p/", store.ListOptions{After: "/z"}, nil, false},
		{"/p/", store.ListOptions{MinRev: cur}, []string{"/p/a", "/p/b", "/p/b/x", "/p/c"}, false},
	}
	for _, tc := range tests {
		res, err := s.List(ctx, tc.prefix, tc.opts)
		if err != nil {
			t.Errorf("List(%q, %+v): %v", tc.prefix, tc.opts, err)
			continue
		}
		got := keysOf(res.KVs)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("List(%q, %+v) = %v, want %v", tc.prefix, tc.opts, got, tc.want)
		}
		if res.More != tc.more {
			t.Errorf("List(%q, %+v).More = %v, want %v", tc.prefix, tc.opts, res.More, tc.more)
		}
		if res.Rev != cur {
			t.Errorf("List(%q, %+v).Rev = %d, want %d", tc.prefix, tc.opts, res.Rev, cur)
		}
		for _, kv := range res.KVs {
			if string(kv.Value) != "v"+kv.Key || kv.ModRev == 0 || kv.CreateRev == 0 {
				t.Errorf("List item %+v", kv)
			}
		}
		checkRemaining(t, s, tc.prefix, tc.opts, res)
	}
	if _, err := s.List(ctx, "/p/", store.ListOptions{MinRev: cur + 1000}); !errors.Is(err, store.ErrFutureRevision) {
		t.Errorf("List with future MinRev: err = %v, want ErrFutureRevision", err)
	}
}

// checkRemaining lists again with Count, and checks that the same page
// comes back with Remaining: the keys a list without Limit has after it
// (and none without Count).
func checkRemaining(t *testing.T, s store.Store, prefix string, opts store.ListOptions, res store.ListResult) {
	t.Helper()
	if res.Remaining != 0 {
		t.Errorf("List(%q, %+v).Remaining = %d without Count", prefix, opts, res.Remaining)
	}
	all := opts
	all.Limit = 0
	whole, err := s.List(ctxT(t), prefix, all)
	if err != nil {
		t.Errorf("List(%q, %+v): %v", prefix, all, err)
		return
	}
	want := int64(0)
	if res.More {
		want = int64(len(whole.KVs) - len(res.KVs))
	}
	counted := opts
	counted.Count = true
	got, err := s.List(ctxT(t), prefix, counted)
	if err != nil {
		t.Errorf("List(%q, %+v): %v", prefix, counted, err)
		return
	}
	if fmt.Sprint(keysOf(got.KVs)) != fmt.Sprint(keysOf(res.KVs)) || got.More != res.More || got.Remaining != want {
		t.Errorf("List(%q, %+v) = %v more=%v remaining=%d, want %v more=%v remaining=%d",
			prefix, counted, keysOf(got.KVs), got.More, got.Remaining, keysOf(res.KVs), res.More, want)
	}
}

func testListAtRevision(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	txn(t, s, store.Put("/s/a", []byte("a1")), store.Put("/s/b", []byte("b1")), store.Put("/s/c", []byte("c1")),
		store.Put("/s/e", []byte("e1")), store.Put("/t/x", []byte("x1")))
	then := rev(t, s)
	// After then: b changes, c goes, d comes, a goes and comes back,
	// e goes; outside the prefix t/x changes.
	txn(t, s, store.Put("/s/b", []byte("b2")))
	txn(t, s, store.Delete("/s/c"), store.Put("/s/d", []byte("d2")))
	txn(t, s, store.Delete("/s/a"))
	txn(t, s, store.Put("/s/a", []byte("a3")), store.Delete("/s/e"), store.Put("/t/x", []byte("x3")))
	now := rev(t, s)

	tests := []struct {
		name string
		opts store.ListOptions
		want string
		more bool
	}{
		{"whole", store.ListOptions{Rev: then}, "/s/a=a1 /s/b=b1 /s/c=c1 /s/e=e1", false},
		{"limit", store.ListOptions{Rev: then, Limit: 2}, "/s/a=a1 /s/b=b1", true},
		{"second page", store.ListOptions{Rev: then, Limit: 2, After: "/s/b"}, "/s/c=c1 /s/e=e1", false},
		{"after a deleted key", store.ListOptions{Rev: then, After: "/s/c"}, "/s/e=e1", false},
		{"limit on a deleted key", store.ListOptions{Rev: then, Limit: 3}, "/s/a=a1 /s/b=b1 /s/c=c1", true},
		{"now", store.ListOptions{Rev: now}, "/s/a=a3 /s/b=b2 /s/d=d2", false},
	}
	for _, tc := range tests {
		res, err := s.List(ctx, "/s/", tc.opts)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, kv := range res.KVs {
			got = append(got, kv.Key+"="+string(kv.Value))
		}
		if strings.Join(got, " ") != tc.want || res.More != tc.more || res.Rev != tc.opts.Rev {
			t.Errorf("%s: got %v more=%v rev=%d, want %s more=%v rev=%d", tc.name, got, res.More, res.Rev, tc.want, tc.more, tc.opts.Rev)
		}
		for _, kv := range res.KVs {
			if kv.ModRev > tc.opts.Rev || kv.CreateRev > kv.ModRev {
				t.Errorf("%s: %s has CreateRev %d ModRev %d, listed at %d", tc.name, kv.Key, kv.CreateRev, kv.ModRev, tc.opts.Rev)
			}
		}
		checkRemaining(t, s, "/s/", tc.opts, res)
	}
	if _, err := s.List(ctx, "/s/", store.ListOptions{Rev: now + 1000}); !errors.Is(err, store.ErrFutureRevision) {
		t.Errorf("List at a future revision: err = %v, want ErrFutureRevision", err)
	}
	if err := s.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, "/s/", store.ListOptions{Rev: then}); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("List at a compacted revision: err = %v, want ErrCompacted", err)
	}
	if res, err := s.List(ctx, "/s/", store.ListOptions{Rev: now}); err != nil || len(res.KVs) != 3 {
		t.Errorf("List at the compaction revision: %v, %v", res.KVs, err)
	}
}

func testListPaging(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const n = 57
	ops := make([]store.Op, 0, n)
	for i := range n {
		ops = append(ops, store.Put(fmt.Sprintf("/pg/%03d", i), []byte(strconv.Itoa(i))))
	}
	txn(t, s, ops...)
	txn(t, s, store.Put("/pg0", []byte("outside")))
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("paging does not end")
		}
		res, err := s.List(ctx, "/pg/", store.ListOptions{Limit: 10, After: after})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, keysOf(res.KVs)...)
		if !res.More {
			break
		}
		after = res.KVs[len(res.KVs)-1].Key
	}
	if len(got) != n {
		t.Fatalf("paged %d keys, want %d: %v", len(got), n, got)
	}
	for i, k := range got {
		if want := fmt.Sprintf("/pg/%03d", i); k != want {
			t.Fatalf("page item %d = %s, want %s", i, k, want)
		}
	}
}

func testCount(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	for _, k := range []string{"/n/a", "/n/b", "/n/c", "/nn", "/m"} {
		txn(t, s, store.Put(k, nil))
	}
	txn(t, s, store.Delete("/n/b"))
	for prefix, want := range map[string]int64{"/n/": 2, "/n": 3, "": 4, "/x": 0} {
		n, err := s.Count(ctx, prefix)
		if err != nil || n != want {
			t.Errorf("Count(%q) = %d, %v; want %d", prefix, n, err, want)
		}
	}
}

func testRevisionMonotonic(t *testing.T, s store.Store) {
	last := rev(t, s)
	for i := range 30 {
		var r int64
		switch i % 3 {
		case 0:
			r = txn(t, s, store.Put("/r", []byte(strconv.Itoa(i))))
		case 1:
			r = txn(t, s, store.Put("/r", nil), store.Put("/r2", nil))
		case 2:
			r = txn(t, s, store.Delete("/r"))
		}
		if r <= last {
			t.Fatalf("txn %d: rev %d not after %d", i, r, last)
		}
		if cur := rev(t, s); cur < r {
			t.Fatalf("Rev() = %d after a txn at %d", cur, r)
		}
		last = r
	}
}

type thing struct {
	N    int    `json:"n"`
	Name string `json:"name"`
}

func testTyped(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	ty := store.Typed[thing]{S: s, Prefix: "/things/"}
	if _, err := ty.Create(ctx, "a", &thing{N: 1, Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ty.Create(ctx, "a", &thing{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := ty.Put(ctx, "b", &thing{N: 2}); err != nil {
		t.Fatal(err)
	}
	v, r, err := ty.Update(ctx, "a", func(x *thing) (*thing, error) { x.N += 10; return x, nil })
	if err != nil || v.N != 11 {
		t.Fatalf("update = %+v, %v", v, err)
	}
	got, gr, err := ty.Get(ctx, "a")
	if err != nil || got.N != 11 || gr != r {
		t.Fatalf("get = %+v @%d, %v; want N 11 @%d", got, gr, err, r)
	}
	items, _, err := ty.List(ctx)
	if err != nil || len(items) != 2 || items[0].Name != "a" || items[1].Name != "b" || items[1].Val.N != 2 {
		t.Fatalf("list = %+v, %v", items, err)
	}
	if err := ty.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := ty.Delete(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if _, _, err := ty.Get(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

// watcher collects a watch's batches.
type watcher struct {
	t       *testing.T
	ch      <-chan store.WatchBatch
	batches []store.WatchBatch
}

func watch(t *testing.T, ctx context.Context, s store.Store, prefix string, opts store.WatchOptions) *watcher {
	t.Helper()
	ch, err := s.Watch(ctx, prefix, opts)
	if err != nil {
		t.Fatalf("Watch(%q, %+v): %v", prefix, opts, err)
	}
	return &watcher{t: t, ch: ch}
}

// next returns the next batch, failing the test after waitFor.
func (w *watcher) next() (store.WatchBatch, bool) {
	w.t.Helper()
	select {
	case b, ok := <-w.ch:
		if ok {
			w.batches = append(w.batches, b)
		}
		return b, ok
	case <-time.After(waitFor):
		w.t.Fatalf("no watch batch within %s", waitFor)
		return store.WatchBatch{}, false
	}
}

// until reads batches (skipping progress notifications) until it has seen
// an event at revision r or later, and returns the events.
func (w *watcher) until(r int64) []store.Event {
	w.t.Helper()
	var evs []store.Event
	for {
		if n := len(evs); n > 0 && evs[n-1].KV.ModRev >= r {
			return evs
		}
		b, ok := w.next()
		if !ok {
			w.t.Fatalf("watch closed before revision %d (got %d events)", r, len(evs))
		}
		if b.Err != nil {
			w.t.Fatalf("watch ended before revision %d: %v", r, b.Err)
		}
		if len(b.Events) > 0 && b.Rev < b.Events[len(b.Events)-1].KV.ModRev {
			w.t.Fatalf("batch Rev %d before its last event %d", b.Rev, b.Events[len(b.Events)-1].KV.ModRev)
		}
		evs = append(evs, b.Events...)
	}
}

func evString(ev store.Event) string {
	return fmt.Sprintf("%s %s@%d", ev.Type, ev.KV.Key, ev.KV.ModRev)
}

func testWatchOrdered(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	w := watch(t, ctx, s, "/w/", store.WatchOptions{})
	txnOf := map[int64][]string{} // revision -> keys written
	var last int64
	for i := range 40 {
		var ops []store.Op
		for j := range i%4 + 1 {
			ops = append(ops, store.Put(fmt.Sprintf("/w/%d", (i+j)%7), []byte(strconv.Itoa(i))))
		}
		last = txn(t, s, ops...)
		for _, op := range store.Collapse(nil, ops) {
			txnOf[last] = append(txnOf[last], op.Key)
		}
	}
	evs := w.until(last)
	seen := map[string]bool{}
	var prev int64
	for _, ev := range evs {
		if ev.KV.ModRev < prev {
			t.Fatalf("event %s after revision %d", evString(ev), prev)
		}
		prev = ev.KV.ModRev
		id := evString(ev)
		if seen[id] {
			t.Fatalf("event %s delivered twice", id)
		}
		seen[id] = true
		if ev.Type != store.EventPut || !strings.HasPrefix(ev.KV.Key, "/w/") {
			t.Fatalf("unexpected event %s", id)
		}
	}
	for r, keys := range txnOf {
		for _, k := range keys {
			if !seen[fmt.Sprintf("PUT %s@%d", k, r)] {
				t.Fatalf("missing event PUT %s@%d", k, r)
			}
		}
	}
	if len(seen) != func() (n int) {
		for _, ks := range txnOf {
			n += len(ks)
		}
		return n
	}() {
		t.Fatalf("got %d events, want one per written key", len(seen))
	}
	// Atomic: a revision's events all arrive in one batch.
	batchOf := map[int64]int{}
	for i, b := range w.batches {
		for _, ev := range b.Events {
			if j, ok := batchOf[ev.KV.ModRev]; ok && j != i {
				t.Fatalf("revision %d split over batches %d and %d", ev.KV.ModRev, j, i)
			}
			batchOf[ev.KV.ModRev] = i
		}
	}
	// Within a revision, events follow the transaction's (collapsed) op order.
	byRev := map[int64][]string{}
	for _, ev := range evs {
		byRev[ev.KV.ModRev] = append(byRev[ev.KV.ModRev], ev.KV.Key)
	}
	for r, keys := range txnOf {
		if fmt.Sprint(byRev[r]) != fmt.Sprint(keys) {
			t.Fatalf("revision %d events %v, want %v", r, byRev[r], keys)
		}
	}
}

func testWatchResume(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	var revs []int64
	for i := range 10 {
		revs = append(revs, txn(t, s, store.Put(fmt.Sprintf("/res/%d", i), nil)))
	}
	from := revs[4]
	w := watch(t, ctx, s, "/res/", store.WatchOptions{Rev: from})
	evs := w.until(revs[9])
	if len(evs) != 6 {
		t.Fatalf("resumed watch got %d events, want 6: %v", len(evs), evs)
	}
	for i, ev := range evs {
		if ev.KV.ModRev != revs[4+i] || ev.KV.Key != fmt.Sprintf("/res/%d", 4+i) {
			t.Fatalf("event %d = %s, want /res/%d@%d", i, evString(ev), 4+i, revs[4+i])
		}
	}
	// And it goes on with new writes.
	r := txn(t, s, store.Put("/res/new", []byte("x")))
	if evs := w.until(r); len(evs) != 1 || evs[0].KV.Key != "/res/new" || string(evs[0].KV.Value) != "x" {
		t.Fatalf("live event after resume: %v", evs)
	}
	// A watch from a future revision waits for it.
	fut := watch(t, ctx, s, "/res/", store.WatchOptions{Rev: r + 2})
	txn(t, s, store.Put("/res/a", nil))
	r2 := txn(t, s, store.Put("/res/b", nil))
	if evs := fut.until(r2); len(evs) != 1 || evs[0].KV.Key != "/res/b" {
		t.Fatalf("future watch: %v", evs)
	}
}

func testWatchPrefix(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	w := watch(t, ctx, s, "/pre/", store.WatchOptions{})
	all := watch(t, ctx, s, "", store.WatchOptions{})
	txn(t, s, store.Put("/pre", nil), store.Put("/other/x", nil), store.Put("/prefix", nil))
	r := txn(t, s, store.Put("/pre/yes", nil), store.Put("/zzz", nil))
	evs := w.until(r)
	if len(evs) != 1 || evs[0].KV.Key != "/pre/yes" {
		t.Fatalf("prefix watch got %v", evs)
	}
	if evs := all.until(r); len(evs) != 5 {
		t.Fatalf("watch of everything got %d events, want 5", len(evs))
	}
}

func testWatchPrevious(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	w := watch(t, ctx, s, "/pv/", store.WatchOptions{})
	r1 := txn(t, s, store.Create("/pv/a", []byte("one")))
	r2 := txn(t, s, store.Put("/pv/a", []byte("two")))
	r3 := txn(t, s, store.Delete("/pv/a"))
	evs := w.until(r3)
	if len(evs) != 3 {
		t.Fatalf("got %d events: %v", len(evs), evs)
	}
	c, u, d := evs[0], evs[1], evs[2]
	if c.Type != store.EventPut || !c.Created() || c.Prev != nil || string(c.KV.Value) != "one" || c.KV.CreateRev != r1 {
		t.Errorf("create event %+v", c)
	}
	if u.Type != store.EventPut || u.Created() || u.Prev == nil || string(u.Prev.Value) != "one" ||
		u.Prev.ModRev != r1 || string(u.KV.Value) != "two" || u.KV.CreateRev != r1 || u.KV.ModRev != r2 {
		t.Errorf("update event %+v prev %+v", u, u.Prev)
	}
	if d.Type != store.EventDelete || d.KV.Key != "/pv/a" || d.KV.ModRev != r3 || len(d.KV.Value) != 0 ||
		d.Prev == nil || string(d.Prev.Value) != "two" || d.Prev.ModRev != r2 {
		t.Errorf("delete event %+v prev %+v", d, d.Prev)
	}
}

// wantCompacted checks that a watch from rev ends with ErrCompacted.
func wantCompacted(t *testing.T, ctx context.Context, s store.Store, from int64) {
	t.Helper()
	ch, err := s.Watch(ctx, "/", store.WatchOptions{Rev: from})
	if err != nil {
		t.Fatalf("Watch from compacted %d: %v (ErrCompacted belongs on the channel)", from, err)
	}
	w := &watcher{t: t, ch: ch}
	for {
		b, ok := w.next()
		if !ok {
			t.Fatalf("watch from compacted %d closed without ErrCompacted", from)
		}
		if b.Err != nil {
			if !errors.Is(b.Err, store.ErrCompacted) {
				t.Fatalf("watch from compacted %d: %v, want ErrCompacted", from, b.Err)
			}
			if _, ok := w.next(); ok {
				t.Fatal("batch after the error batch")
			}
			return
		}
		if len(b.Events) > 0 {
			t.Fatalf("watch from compacted %d delivered %v", from, b.Events)
		}
	}
}

func testWatchCompacted(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	var revs []int64
	for i := range 6 {
		revs = append(revs, txn(t, s, store.Put(fmt.Sprintf("/cp/%d", i), nil)))
	}
	if err := s.Compact(ctx, revs[3]); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if err := s.Compact(ctx, revs[2]); err != nil {
		t.Errorf("Compact to an older revision: %v, want nil", err)
	}
	if err := s.Compact(ctx, revs[5]+1000); !errors.Is(err, store.ErrFutureRevision) {
		t.Errorf("Compact to the future: %v, want ErrFutureRevision", err)
	}
	wantCompacted(t, ctx, s, revs[3]-1)
	wantCompacted(t, ctx, s, 1)
	// From the compaction revision on, history is whole.
	w := watch(t, ctx, s, "/cp/", store.WatchOptions{Rev: revs[3]})
	if evs := w.until(revs[5]); len(evs) != 3 || evs[0].KV.ModRev != revs[3] {
		t.Fatalf("watch from compaction revision: %v", evs)
	}
	// Reads are unaffected.
	if n, err := s.Count(ctx, "/cp/"); err != nil || n != 6 {
		t.Fatalf("Count after compact = %d, %v", n, err)
	}
}

func testWatchProgress(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	r := txn(t, s, store.Put("/pg/x", nil))
	w := watch(t, ctx, s, "/quiet/", store.WatchOptions{ProgressNotify: true})
	for {
		b, ok := w.next()
		if !ok || b.Err != nil {
			t.Fatalf("watch ended: %v", b.Err)
		}
		if len(b.Events) > 0 {
			t.Fatalf("events on a quiet prefix: %v", b.Events)
		}
		if b.Rev >= r {
			return
		}
	}
}

func testWatchCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(ctxT(t))
	w := watch(t, ctx, s, "/", store.WatchOptions{})
	cancel()
	for {
		b, ok := w.next()
		if !ok {
			return
		}
		if len(b.Events) > 0 {
			t.Fatalf("events after cancel: %v", b.Events)
		}
	}
}

// testWatchSlowReader: a watcher that does not read for a while either gets
// every event in order or, at worst, a clean ErrCompacted; writers never wait
// for it.
func testWatchSlowReader(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	w := watch(t, ctx, s, "/slow/", store.WatchOptions{})
	var last int64
	for i := range 300 {
		last = txn(t, s, store.Put(fmt.Sprintf("/slow/%d", i%10), []byte(strconv.Itoa(i))))
	}
	var n int
	var prev int64
	for n < 300 {
		b, ok := w.next()
		if !ok {
			t.Fatal("watch closed")
		}
		if b.Err != nil {
			if !errors.Is(b.Err, store.ErrCompacted) {
				t.Fatalf("slow watcher: %v", b.Err)
			}
			t.Logf("slow watcher fell out of history after %d events", n)
			return
		}
		for _, ev := range b.Events {
			if ev.KV.ModRev <= prev {
				t.Fatalf("event at %d after %d", ev.KV.ModRev, prev)
			}
			prev = ev.KV.ModRev
			n++
		}
	}
	if prev != last {
		t.Fatalf("last event at %d, want %d", prev, last)
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const writers, each = 16, 25
	w := watch(t, ctx, s, "/cw/", store.WatchOptions{})
	var (
		mu    sync.Mutex
		acked = map[string]int64{}
		wg    sync.WaitGroup
		errs  = make(chan error, writers)
	)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				k := fmt.Sprintf("/cw/%02d/%02d", g, i)
				ops := []store.Op{store.Create(k, []byte(k))}
				if i%5 == 4 { // some multi-key transactions
					ops = append(ops, store.Put(k+"/extra", nil))
				}
				res, err := s.Txn(ctx, ops...)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked[k] = res.Rev
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write: %v", err)
	}
	revs := map[int64]bool{}
	var max int64
	for k, r := range acked {
		kv := get(t, s, k)
		if kv.ModRev != r || !bytes.Equal(kv.Value, []byte(k)) {
			t.Fatalf("%s = %+v, acked at %d", k, kv, r)
		}
		if revs[r] {
			t.Fatalf("two transactions acknowledged at revision %d", r)
		}
		revs[r] = true
		max = maxOf(max, r)
	}
	if n, err := s.Count(ctx, "/cw/"); err != nil || n != writers*each+writers*each/5 {
		t.Fatalf("Count = %d, %v; want %d", n, err, writers*each+writers*each/5)
	}
	if evs := w.until(max); len(evs) != writers*each+writers*each/5 {
		t.Fatalf("watch saw %d events, want %d", len(evs), writers*each+writers*each/5)
	}
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	ty := store.Typed[thing]{S: s, Prefix: "/cu/"}
	if _, err := ty.Create(ctx, "counter", &thing{}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, _, err := ty.Update(ctx, "counter", func(x *thing) (*thing, error) { x.N++; return x, nil }); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, _, err := ty.Get(ctx, "counter")
	if err != nil || v.N != workers*each {
		t.Fatalf("counter = %+v, %v; want %d (a compare-and-swap lost an update)", v, err, workers*each)
	}
}

func testClose(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	txn(t, s, store.Put("/x", nil))
	w := watch(t, ctx, s, "/", store.WatchOptions{})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for {
		b, ok := w.next()
		if !ok {
			break
		}
		if len(b.Events) > 0 {
			t.Fatalf("events after close: %v", b.Events)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Get(ctx, "/x"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Txn(ctx, store.Put("/y", nil)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Txn after Close: %v, want ErrClosed", err)
	}
	if _, err := s.List(ctx, "/", store.ListOptions{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("List after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Watch(ctx, "/", store.WatchOptions{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch after Close: %v, want ErrClosed", err)
	}
}
