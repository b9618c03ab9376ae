package bolt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store"
)

// crashClose stops s as a kill would: no checkpoint, the file keeps only
// what earlier checkpoints wrote.
func crashClose(t *testing.T, s *Store) {
	t.Helper()
	_ = s.Engine.Close()
	if err := s.wal.close(); err != nil { // a running checkpoint ends first
		t.Fatal(err)
	}
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWALReplay: batches acknowledged but never checkpointed come back at
// the next open, whatever follows them in the log (a torn record, an older
// log's leftovers), and the log is empty afterwards.
func TestWALReplay(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail func(valid []byte) []byte // what follows the valid records
	}{
		{"clean", func([]byte) []byte { return nil }},
		{"torn length", func([]byte) []byte { return []byte{0x10, 0} }},
		{"torn record", func(v []byte) []byte { return v[:len(v)/2] }},
		{"bad checksum", func(v []byte) []byte {
			b := append([]byte(nil), v...)
			b[len(b)-1] ^= 0xff
			return b
		}},
		{"older log", func(v []byte) []byte { return v }}, // revisions repeat: stale
		{"zeros", func([]byte) []byte { return make([]byte, 4096) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			s, err := open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			// A checkpointed part, then a logged-only part.
			if _, err := s.Txn(ctx, store.Put("/a", []byte("1")), store.Put("/gone", []byte("x"))); err != nil {
				t.Fatal(err)
			}
			if err := s.wal.checkpoint(s.db); err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				if _, err := s.Txn(ctx, store.Put(fmt.Sprintf("/k/%02d", i), []byte(fmt.Sprint(i)))); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Txn(ctx, store.Put("/a", []byte("2")), store.Delete("/gone")); err != nil {
				t.Fatal(err)
			}
			want, _ := s.Rev(ctx)
			logPath := path + walSuffixes[s.wal.active]
			crashClose(t, s)

			valid, err := os.ReadFile(logPath)
			if err != nil || len(valid) == 0 {
				t.Fatalf("log: %d bytes, %v", len(valid), err)
			}
			if tail := tc.tail(valid); tail != nil {
				f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Write(tail); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}

			s2, err := open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if r, _ := s2.Rev(ctx); r != want {
				t.Errorf("revision %d after replay, want %d", r, want)
			}
			if kv, err := s2.Get(ctx, "/a"); err != nil || string(kv.Value) != "2" || kv.CreateRev != 1 {
				t.Errorf("/a after replay: %+v %v", kv, err)
			}
			if _, err := s2.Get(ctx, "/gone"); err != store.ErrNotFound {
				t.Errorf("/gone after replay: %v, want deleted", err)
			}
			if n, _ := s2.Count(ctx, "/k/"); n != 20 {
				t.Errorf("%d of 20 logged keys after replay", n)
			}
			for _, suf := range walSuffixes {
				if st, _ := os.Stat(path + suf); st.Size() != 0 {
					t.Errorf("log %s holds %d bytes after the replay was checkpointed", suf, st.Size())
				}
			}
			// Writes go on from there.
			if res, err := s2.Txn(ctx, store.Put("/after", nil)); err != nil || res.Rev != want+1 {
				t.Errorf("write after replay: rev %d, %v; want %d", res.Rev, err, want+1)
			}
		})
	}
}

// TestCheckpointAtLimit: the log is written into the file and emptied once
// it reaches CheckpointBytes.
func TestCheckpointAtLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := open(path, Options{CheckpointBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	val := make([]byte, 1000)
	for i := range 10 {
		if _, err := s.Txn(ctx, store.Put(fmt.Sprintf("/k/%d", i), val)); err != nil {
			t.Fatal(err)
		}
	}
	if s.wal.size >= 4096+2000 {
		t.Fatalf("log at %d bytes, over its limit", s.wal.size)
	}
	if err := s.wal.wait(); err != nil {
		t.Fatal(err)
	}
	kvs, rev, err := readAll(s.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) < 4 || rev < 4 {
		t.Fatalf("file holds %d keys at revision %d: nothing checkpointed", len(kvs), rev)
	}
}

// TestWALReplayAcrossFiles: with checkpoints every few batches, appends
// alternate between the two logs; after a crash every write is back.
func TestWALReplayAcrossFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := open(path, Options{CheckpointBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	val := make([]byte, 500)
	for i := range 50 {
		if _, err := s.Txn(ctx, store.Put(fmt.Sprintf("/k/%02d", i%30), append(val, byte(i)))); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := s.Rev(ctx)
	crashClose(t, s)
	s2, err := open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if r, _ := s2.Rev(ctx); r != want {
		t.Errorf("revision %d after replay, want %d", r, want)
	}
	for i := 20; i < 50; i++ {
		kv, err := s2.Get(ctx, fmt.Sprintf("/k/%02d", i%30))
		if err != nil || kv.Value[500] != byte(i) || kv.ModRev != int64(i+1) {
			t.Fatalf("/k/%02d after replay: %+v %v, want the write of revision %d", i%30, kv, err, i+1)
		}
	}
}
