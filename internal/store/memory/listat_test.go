package memory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestListAtMatchesEveryPastState writes at random, records the whole
// state after every revision, then lists each past revision (whole, paged,
// from random keys) and compares.
func TestListAtMatchesEveryPastState(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			e := memory.New(memory.Options{})
			defer e.Close()
			key := func() string { return fmt.Sprintf("/k/%02d", rng.IntN(30)) }
			states := map[int64][]string{} // rev → "key=value" in key order
			record := func() {
				res, err := e.List(ctx, "/k/", store.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				states[res.Rev] = flat(res.KVs)
			}
			record()
			for i := range 300 {
				var ops []store.Op
				for range 1 + rng.IntN(3) {
					k := key()
					if slices.ContainsFunc(ops, func(o store.Op) bool { return o.Key == k }) {
						continue
					}
					if rng.IntN(3) == 0 {
						ops = append(ops, store.Delete(k))
					} else {
						ops = append(ops, store.Put(k, []byte(fmt.Sprint(i))))
					}
				}
				ops = append(ops, store.Put("/other", []byte(fmt.Sprint(i))))
				if _, err := e.Txn(ctx, ops...); err != nil {
					t.Fatal(err)
				}
				record()
			}
			for rev, want := range states {
				if rev == 0 {
					continue // Rev 0 asks for the newest state
				}
				res, err := e.List(ctx, "/k/", store.ListOptions{Rev: rev})
				if err != nil || res.Rev != rev || !slices.Equal(flat(res.KVs), want) {
					t.Fatalf("at %d: %v (rev %d, %v), want %v", rev, flat(res.KVs), res.Rev, err, want)
				}
				// Paged from a random point, with a random page size: the
				// entries of want after that key.
				from := key()
				limit := 1 + rng.IntN(5)
				var got, tail []string
				for after := from; ; {
					res, err := e.List(ctx, "/k/", store.ListOptions{Rev: rev, After: after, Limit: limit})
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, flat(res.KVs)...)
					if !res.More {
						break
					}
					after = res.KVs[len(res.KVs)-1].Key
				}
				for _, kv := range want {
					if kv[:len(from)] > from { // keys are fixed width
						tail = append(tail, kv)
					}
				}
				if !slices.Equal(got, tail) {
					t.Fatalf("at %d after %s by %d: %v, want %v", rev, from, limit, got, tail)
				}
			}
		})
	}
}

func flat(kvs []*store.KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key + "=" + string(kv.Value)
	}
	return out
}
