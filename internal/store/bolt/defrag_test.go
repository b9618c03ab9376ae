package bolt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store"
)

// TestChurnReusesPages: writing and deleting the same amount over and
// over does not grow the file past its first round (bbolt reuses freed
// pages), even with every batch checkpointed into it at once.
func TestChurnReusesPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := open(path, Options{checkpointEachBatch: true}) // every batch into the file

	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	val := []byte(strings.Repeat("x", 2000))
	round := func(r int) {
		for i := range 150 {
			if _, err := s.Txn(ctx, store.Put(fmt.Sprintf("/k/%d-%d", r, i), val)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 150 {
			if _, err := s.Txn(ctx, store.Delete(fmt.Sprintf("/k/%d-%d", r, i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	round(0)
	round(1)
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := st.FileBytes
	for r := 2; r < 8; r++ {
		round(r)
	}
	if st, err = s.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	if st.FileBytes > first+first/10 {
		t.Fatalf("file grew with churn: %d after 2 rounds, %d after 8", first, st.FileBytes)
	}
	if st.Keys != 0 {
		t.Fatalf("keys %d, want 0", st.Keys)
	}
}

// TestDefragmentAtOpen: a file more than half free is rewritten smaller
// at the next open, with every key and the revision kept; Compact does it
// on demand.
func TestDefragmentAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	// Every batch straight into the file, as a store without a log would:
	// a default checkpoint would write only what is left of the churn.
	s, err := open(path, Options{checkpointEachBatch: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	val := []byte(strings.Repeat("y", 4000))
	var ops []store.Op
	for i := range 4000 {
		ops = append(ops, store.Put(fmt.Sprintf("/big/%05d", i), val))
		if len(ops) == 500 {
			if _, err := s.Txn(ctx, ops...); err != nil {
				t.Fatal(err)
			}
			ops = ops[:0]
		}
	}
	if _, err := s.Txn(ctx, store.Put("/keep", []byte("v"))); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4000; i += 500 {
		var dels []store.Op
		for j := i; j < i+500; j++ {
			dels = append(dels, store.Delete(fmt.Sprintf("/big/%05d", j)))
		}
		if _, err := s.Txn(ctx, dels...); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := s.Rev(ctx)
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if 2*st.FreeBytes <= st.FileBytes || st.FileBytes < defragMinSize {
		t.Fatalf("setup: %d of %d bytes free", st.FreeBytes, st.FileBytes)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := size(t, path)
	s2, err := open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if after := size(t, path); after*2 > before {
		t.Fatalf("file %d bytes after open, was %d: not defragmented", after, before)
	}
	if r, _ := s2.Rev(ctx); r != rev {
		t.Fatalf("revision %d after defragment, want %d", r, rev)
	}
	if kv, err := s2.Get(ctx, "/keep"); err != nil || string(kv.Value) != "v" {
		t.Fatalf("key after defragment: %v %v", kv, err)
	}
	if n, _ := s2.Count(ctx, "/big/"); n != 0 {
		t.Fatalf("%d deleted keys back", n)
	}
	// Compact refuses a file that is open.
	if _, _, err := Compact(path, 10_000_000); err == nil {
		t.Fatal("Compact of an open file succeeded")
	}
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
