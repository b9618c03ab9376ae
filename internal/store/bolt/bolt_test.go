package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/storetest"
)

func testOptions() Options {
	return Options{ProgressInterval: 50 * time.Millisecond, LockTimeout: 100 * time.Millisecond}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "stratus.db"), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestReopen: everything written is there after a reopen, and the revision
// continues from where it was, even when the newest write was a delete.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stratus.db")
	s, err := Open(path, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.Txn(ctx, store.Create("/a", []byte("1")), store.Put("/b", []byte("2")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Txn(ctx, store.Put("/a", []byte("3"))); err != nil {
		t.Fatal(err)
	}
	last, err := s.Txn(ctx, store.Delete("/b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, _ := s.Rev(ctx); r != last.Rev {
		t.Fatalf("reopened at rev %d, want %d", r, last.Rev)
	}
	kv, err := s.Get(ctx, "/a")
	if err != nil || string(kv.Value) != "3" || kv.CreateRev != r1.Rev || kv.ModRev != r1.Rev+1 {
		t.Fatalf("/a = %+v, %v", kv, err)
	}
	if _, err := s.Get(ctx, "/b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("/b: %v", err)
	}
	// History before the reopen is gone: watches from it say so.
	ch, err := s.Watch(ctx, "/", store.WatchOptions{Rev: 1})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-ch; !errors.Is(b.Err, store.ErrCompacted) {
		t.Fatalf("watch from before reopen: %+v", b)
	}
	r, err := s.Txn(ctx, store.Put("/c", nil))
	if err != nil || r.Rev != last.Rev+1 {
		t.Fatalf("first txn after reopen at %d, %v; want %d", r.Rev, err, last.Rev+1)
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s, err := Open(path, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, testOptions())
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second open took %s", d)
	}
}

// TestRefuses: bad files get a clear error and are left byte for byte as
// they were.
func TestRefuses(t *testing.T) {
	valid := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "v.db")
		s, err := Open(path, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			if _, err := s.Txn(context.Background(), store.Put("/k/"+strings.Repeat("x", i), []byte(strings.Repeat("v", 100)))); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rewrite := func(t *testing.T, b []byte, fn func(tx *bbolt.Tx) error) []byte {
		path := filepath.Join(t.TempDir(), "r.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		out, _ := os.ReadFile(path)
		return out
	}
	good := valid(t)
	tests := []struct {
		name    string
		content func(t *testing.T) []byte
		want    error
	}{
		{"empty", func(*testing.T) []byte { return nil }, ErrCorrupt},
		{"text", func(*testing.T) []byte { return []byte("hello, I am not a database\n") }, ErrCorrupt},
		{"zeros", func(*testing.T) []byte { return make([]byte, 32<<10) }, ErrCorrupt},
		{"truncated", func(*testing.T) []byte { return good[:len(good)/3] }, ErrCorrupt},
		{"meta pages smashed", func(*testing.T) []byte {
			b := append([]byte(nil), good...)
			for i := 16; i < 8192 && i < len(b); i += 7 {
				b[i] ^= 0x5a
			}
			return b
		}, ErrCorrupt},
		{"other bbolt file", func(t *testing.T) []byte {
			return rewrite(t, good, func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketMeta) })
		}, ErrCorrupt},
		{"newer format", func(t *testing.T) []byte {
			return rewrite(t, good, func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte{2}) })
		}, ErrUnknownVersion},
		{"bad record", func(t *testing.T) []byte {
			return rewrite(t, good, func(tx *bbolt.Tx) error { return tx.Bucket(bucketKV).Put([]byte("/bad"), []byte{9, 9}) })
		}, ErrCorrupt},
		{"record from the future", func(t *testing.T) []byte {
			return rewrite(t, good, func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketKV).Put([]byte("/f"), appendRecord(nil, &store.KV{CreateRev: 1, ModRev: 1 << 40}))
			})
		}, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stratus.db")
			content := tc.content(t)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, testOptions())
			if err == nil {
				_ = s.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want %v naming the file", err, tc.want)
			}
			after, _ := os.ReadFile(path)
			if string(after) != string(content) {
				t.Fatal("the refused file was modified")
			}
		})
	}
}

// TestDamagedPages flips bytes in data pages: Open must either refuse with
// a clear error or open, never crash.
func TestDamagedPages(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stratus.db")
	s, err := Open(path, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		key := "/k/" + strings.Repeat("y", i%50) + string(rune('a'+i%26))
		if _, err := s.Txn(context.Background(), store.Put(key, []byte(strings.Repeat("v", i)))); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	good, _ := os.ReadFile(path)
	const page = 4096
	for p := 2; p*page < len(good); p++ {
		for _, off := range []int{0, 8, 16, 40, 200, 2000} {
			b := append([]byte(nil), good...)
			for i := range 8 {
				b[p*page+off+i] ^= 0xff
			}
			// A fresh file each time: after bbolt panics inside its Open,
			// its memory map (and so its file lock) stays for the life of
			// the process.
			path := filepath.Join(dir, fmt.Sprintf("damaged-%d-%d.db", p, off))
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, testOptions())
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("page %d+%d: err = %v, want ErrCorrupt", p, off, err)
				}
				continue
			}
			_ = s.Close()
		}
	}
}

func TestNotWritable(t *testing.T) {
	dir := t.TempDir()
	// A data dir that is a file.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "stratus.db"), testOptions()); err == nil {
		t.Fatal("opened a store under a regular file")
	}
	if _, err := Open(dir, testOptions()); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("open of a directory: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root: permission bits do not stop writes")
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(ro, "stratus.db"), testOptions()); err == nil {
		t.Fatal("created a store in a read-only directory")
	}
	path := filepath.Join(dir, "stratus.db")
	s, err := Open(path, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, testOptions()); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("read-only file: %v", err)
	}
}
