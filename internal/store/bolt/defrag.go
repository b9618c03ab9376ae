package bolt

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// bbolt never shrinks its file: pages freed by deletes go on a free list
// and later writes reuse them, so the file grows only past its busiest
// size, never with churn alone. What a burst left free is given back by
// Compact, which `stratus compact` runs, and which Open runs by itself when
// more than half of a file of at least defragMinSize is free.

// defragMinSize is the smallest file Open defragments by itself.
const defragMinSize = 8 << 20

// defragIfWasteful compacts the file of db (open for writing, so its free
// list is loaded) when more than half of it is free, and returns the
// reopened handle; otherwise db itself.
func defragIfWasteful(db *bbolt.DB, lockTimeout time.Duration, log *slog.Logger) (*bbolt.DB, error) {
	size, free, err := fileUse(db)
	if err != nil || size < defragMinSize || 2*free <= size {
		return db, nil
	}
	path := db.Path()
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("store file %s: %w", path, err)
	}
	before, after, err := Compact(path, lockTimeout)
	if err != nil {
		return nil, fmt.Errorf("defragment store file: %w", err)
	}
	log.Info("defragmented the store file: more than half of it was free", "path", path, "before", before, "after", after)
	return openDB(path, &bbolt.Options{Timeout: lockTimeout})
}

// Compact rewrites the store file at path without its free pages: every
// key is copied into a new file beside it (bbolt.Compact), which is synced
// and renamed over the old one, so a crash leaves one or the other whole.
// The file must not be open (the lock is taken for the copy). It returns
// the sizes before and after.
func Compact(path string, lockTimeout time.Duration) (before, after int64, err error) {
	if lockTimeout <= 0 {
		lockTimeout = time.Second
	}
	src, err := openDB(path, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	if err := safeView(src, func(tx *bbolt.Tx) error {
		_, err := readMeta(tx)
		return err
	}); err != nil {
		return 0, 0, err
	}
	if before, err = fileSize(path); err != nil {
		return 0, 0, err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".compact-*")
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	tmp := f.Name()
	_ = f.Close()
	_ = os.Remove(tmp) // bbolt creates it
	defer os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := bbolt.Compact(dst, src, 64<<20); err != nil {
		_ = dst.Close()
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if after, err = fileSize(tmp); err != nil {
		return 0, 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	return before, after, syncDir(dir)
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	return st.Size(), nil
}
