// Package bolt is stratus's default store backend: the memory engine (every
// read and watch is served from memory) with a Persister that appends each
// group-commit batch to a write-ahead log as one record with one sync, so
// concurrent writers share it and a Txn returns only after its batch is on
// disk; the log is written into one bbolt file in large batches behind it
// (wal.go).
//
// The file holds the newest value of every key and the store revision; it
// keeps no history, so after a restart watches can resume only from the
// revision the file was opened at (older ones answer ErrCompacted) and the
// revision continues from where it stopped, never going back.
//
// A file that is corrupt, from an unknown format version, held by another
// process, or not writable is refused with a clear error and never written.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// FormatVersion is the on-disk format this package reads and writes.
const FormatVersion = 1

var (
	bucketMeta = []byte("stratus.meta")
	bucketKV   = []byte("stratus.kv")
	keyFormat  = []byte("format")
	keyRev     = []byte("rev")
)

// Errors Open wraps, for callers that match with errors.Is.
var (
	// ErrCorrupt: the file is not a readable stratus store.
	ErrCorrupt = errors.New("store file is corrupt or not a stratus store")
	// ErrUnknownVersion: the file was written by a newer (or unknown) format.
	ErrUnknownVersion = errors.New("store file has an unknown format version")
	// ErrLocked: another process has the file open.
	ErrLocked = errors.New("store file is in use by another process")
)

// Options configure Open. The zero value is ready to use.
type Options struct {
	// LockTimeout is how long Open waits for another process to release
	// the file. Default 1 s.
	LockTimeout time.Duration
	// MaxBatch caps the transactions in one disk commit. Default 1024.
	MaxBatch int
	// CheckpointBytes is how much write-ahead log accumulates before its
	// changes are written into the bbolt file. Default 32 MiB.
	CheckpointBytes int64
	// checkpointEachBatch (tests): every batch goes into the bbolt file
	// before its writers are answered, as without a log.
	checkpointEachBatch bool
	// HistoryLimit and ProgressInterval are passed to the memory engine.
	HistoryLimit     int
	ProgressInterval time.Duration
	// Logger receives open and close messages. Default: discard.
	Logger *slog.Logger
}

// Store is a bbolt-backed store.Store.
type Store struct {
	*memory.Engine
	db  *bbolt.DB
	wal *wal
	log *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (or creates) the store file at path. The directory must exist.
func Open(path string, opts Options) (store.Store, error) {
	return open(path, opts)
}

func open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := create(path); err != nil {
			return nil, err
		}
		log.Info("created store file", "path", path, "format", FormatVersion)
	case err != nil:
		return nil, fmt.Errorf("store file %s: %w", path, err)
	case st.IsDir():
		return nil, fmt.Errorf("store file %s: is a directory", path)
	case st.Size() == 0:
		return nil, fmt.Errorf("store file %s: empty file: %w", path, ErrCorrupt)
	}

	// Validate and load through a read-only handle first, so nothing is
	// written to a file we are about to refuse.
	kvs, rev, err := load(path, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	db, err := openDB(path, &bbolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		return nil, err
	}
	if db, err = defragIfWasteful(db, opts.LockTimeout, log); err != nil {
		return nil, err
	}
	// Another process may have written between the two opens.
	var rev2 int64
	if err := safeView(db, func(tx *bbolt.Tx) error {
		var err error
		rev2, err = readMeta(tx)
		return err
	}); err != nil || rev2 != rev {
		_ = db.Close()
		if err == nil {
			err = fmt.Errorf("store file %s changed while opening; retry", path)
		}
		return nil, err
	}
	w, err := openWAL(path, opts.CheckpointBytes)
	if err == nil {
		w.eachBatch = opts.checkpointEachBatch
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if kvs, rev, err = replayWAL(db, w, kvs, rev, log); err != nil {
		_ = w.close()
		_ = db.Close()
		return nil, err
	}
	s := &Store{db: db, wal: w, log: log}
	s.Engine = memory.New(memory.Options{
		Persister:        (*persister)(s),
		MaxBatch:         opts.MaxBatch,
		HistoryLimit:     opts.HistoryLimit,
		ProgressInterval: opts.ProgressInterval,
		Initial:          kvs,
		InitialRev:       rev,
	})
	log.Info("opened store file", "path", path, "keys", len(kvs), "rev", rev)
	return s, nil
}

// create makes a new store file atomically: it is built under a temporary
// name and linked into place, so a crash never leaves a half-made file at
// path, and a file that appeared meanwhile is never replaced.
func create(path string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".new-*")
	if err != nil {
		return fmt.Errorf("create store file in %s: %w", dir, err)
	}
	tmp := f.Name()
	_ = f.Close()
	defer os.Remove(tmp)
	db, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("create store file %s: %w", tmp, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketKV); err != nil {
			return err
		}
		if err := meta.Put(keyFormat, binary.AppendUvarint(nil, FormatVersion)); err != nil {
			return err
		}
		return meta.Put(keyRev, binary.BigEndian.AppendUint64(nil, 0))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create store file %s: %w", tmp, err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("create store file %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// openDB opens the bbolt file, turning bbolt's errors (and panics on
// damaged files) into clear ones. After such a panic bbolt's memory map of
// the file stays, and with it the file lock, until the process exits: the
// file is refused, never written.
func openDB(path string, o *bbolt.Options) (db *bbolt.DB, err error) {
	// Keep the file bbolt opens, so that after a panic inside Open its
	// descriptor (and with it the file lock) can still be released.
	var file *os.File
	o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				_ = file.Close()
			}
			db, err = nil, fmt.Errorf("store file %s: %v: %w", path, r, ErrCorrupt)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bbolt.Open(path, 0o600, o)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("store file %s: no lock within %s: %w", path, o.Timeout, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, fmt.Errorf("store file %s: %v: %w", path, err, ErrCorrupt)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return nil, fmt.Errorf("store file %s is not writable: %w", path, err)
	}
	return nil, fmt.Errorf("store file %s: %w", path, err)
}

// safeView runs fn in a read transaction, turning a panic or memory fault
// from a damaged file into ErrCorrupt.
func safeView(db *bbolt.DB, fn func(*bbolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store file %s: %v: %w", db.Path(), r, ErrCorrupt)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return db.View(fn)
}

// readMeta checks the format version and returns the stored revision.
func readMeta(tx *bbolt.Tx) (int64, error) {
	path := tx.DB().Path()
	meta := tx.Bucket(bucketMeta)
	if meta == nil || tx.Bucket(bucketKV) == nil {
		return 0, fmt.Errorf("store file %s: no stratus buckets: %w", path, ErrCorrupt)
	}
	v, n := binary.Uvarint(meta.Get(keyFormat))
	if n <= 0 || n != len(meta.Get(keyFormat)) {
		return 0, fmt.Errorf("store file %s: unreadable format version: %w", path, ErrCorrupt)
	}
	if v != FormatVersion {
		return 0, fmt.Errorf("store file %s: format version %d, this stratus reads version %d (written by a newer stratus?): %w",
			path, v, FormatVersion, ErrUnknownVersion)
	}
	rb := meta.Get(keyRev)
	if len(rb) != 8 || binary.BigEndian.Uint64(rb) > 1<<62 {
		return 0, fmt.Errorf("store file %s: unreadable revision: %w", path, ErrCorrupt)
	}
	return int64(binary.BigEndian.Uint64(rb)), nil
}

// load reads every key through a read-only handle.
func load(path string, timeout time.Duration) ([]*store.KV, int64, error) {
	db, err := openDB(path, &bbolt.Options{Timeout: timeout, ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	return readAll(db)
}

// readAll reads the revision and every key.
func readAll(db *bbolt.DB) ([]*store.KV, int64, error) {
	path := db.Path()
	var (
		kvs []*store.KV
		rev int64
	)
	err := safeView(db, func(tx *bbolt.Tx) error {
		var err error
		if rev, err = readMeta(tx); err != nil {
			return err
		}
		b := tx.Bucket(bucketKV)
		if n := b.Stats().KeyN; n > 0 {
			kvs = make([]*store.KV, 0, n)
		}
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return fmt.Errorf("store file %s: nested bucket %q: %w", path, k, ErrCorrupt)
			}
			kv, err := decodeRecord(string(k), v)
			if err != nil {
				return fmt.Errorf("store file %s: key %q: %v: %w", path, k, err, ErrCorrupt)
			}
			if kv.ModRev > rev {
				return fmt.Errorf("store file %s: key %q at revision %d, after the store's %d: %w",
					path, k, kv.ModRev, rev, ErrCorrupt)
			}
			kvs = append(kvs, kv)
			return nil
		})
	})
	if err != nil {
		return nil, 0, err
	}
	return kvs, rev, nil
}

// replayWAL brings the file up to date with what the log holds past its
// revision (writes acknowledged before a crash or kill), then empties the
// log, and returns the file's keys and revision.
func replayWAL(db *bbolt.DB, w *wal, kvs []*store.KV, rev int64, log *slog.Logger) ([]*store.KV, int64, error) {
	n, err := w.replay(rev)
	if err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return kvs, rev, w.checkpoint(db) // empties the logs
	}
	from := rev
	if err := w.checkpoint(db); err != nil {
		return nil, 0, fmt.Errorf("store file %s: writing the log's batches: %w", db.Path(), err)
	}
	if kvs, rev, err = readAll(db); err != nil {
		return nil, 0, err
	}
	log.Info("replayed the store log", "path", db.Path(), "batches", n, "from", from, "to", rev)
	return kvs, rev, nil
}

// persister writes engine batches to the log, and the log to the bbolt file
// at checkpoints.
type persister Store

// Persist implements memory.Persister: one log record and one sync per
// batch; every checkpointBytes of log, one bbolt transaction.
func (p *persister) Persist(changes []memory.Change, rev int64) error {
	if err := p.wal.appendBatch(changes, rev); err != nil {
		return err
	}
	return p.wal.maybeCheckpoint(p.db)
}

// Close implements store.Store: queued transactions are answered, then the
// file is closed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		_ = s.Engine.Close() // always nil; no Persist runs after it
		path := s.db.Path()
		s.closeErr = s.wal.checkpoint(s.db)
		if err := s.wal.close(); s.closeErr == nil {
			s.closeErr = err
		}
		if err := s.db.Close(); s.closeErr == nil {
			s.closeErr = err
		}
		if s.closeErr != nil {
			s.log.Error("closing the store file failed", "path", path, "err", s.closeErr)
		} else {
			s.log.Info("closed store file", "path", path)
		}
	})
	return s.closeErr
}

// Stats implements store.Statser: the engine's numbers, with the file's
// size and the part of it bbolt keeps free for reuse.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	st, err := s.Engine.Stats(ctx)
	if err != nil {
		return st, err
	}
	st.FileBytes, st.FreeBytes, err = fileUse(s.db)
	return st, err
}

// fileUse returns the file's size and its free bytes (free and pending
// pages, which later writes reuse before the file grows).
func fileUse(db *bbolt.DB) (size, free int64, err error) {
	err = db.View(func(tx *bbolt.Tx) error {
		size = tx.Size()
		return nil
	})
	bs := db.Stats()
	free = int64(bs.FreePageN+bs.PendingPageN) * int64(db.Info().PageSize)
	return size, free, err
}
