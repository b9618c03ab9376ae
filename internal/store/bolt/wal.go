package bolt

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// The write-ahead log, etcd's answer to the cost of a durable write: each
// group-commit batch is appended to a log file beside the bbolt file as one
// record and synced once, which is when its writers are answered. The bbolt
// file is brought up to date behind it, in one transaction per
// Options.CheckpointBytes of log (a key written several times in between
// is written once). There are two log files: when the one being appended
// to is full, appends go on in the other (empty) one while a goroutine
// writes what the full one holds into the bbolt file and then empties it,
// so writers never wait for a checkpoint unless the second file fills up
// before the first checkpoint ends. Opening the store replays what the
// logs hold past the file's revision, in revision order.
//
// A record is
//
//	uint32  length of the payload (little endian)
//	uint32  CRC-32C of the payload
//	payload uvarint revision after the batch, uvarint change count, then per
//	        change: byte 0 (put) or 1 (delete), uvarint key length, key, and
//	        for a put uvarint record length and the kv record (record.go)
//
// Reading a log stops at the first record that is empty, short, fails its
// checksum or does not raise the revision: the tail a crash cut, zeros, or
// records the last emptying of that file had not yet made durable (which
// were written into the bbolt file before it was emptied, so their
// revisions are at most the file's and they are skipped either way).

// walSuffixes name the two logs beside the store file.
var walSuffixes = [2]string{".wal.0", ".wal.1"}

// defaultCheckpointBytes is how much log a checkpoint waits for by default
// (about 18,000 pod writes).
const defaultCheckpointBytes = 32 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// wal is the two log files and what they hold that the bbolt file does not.
// It is used by one goroutine at a time (the engine's committer, or Open
// and Close), but for the checkpoint goroutine, which owns the full file
// and the changes handed to it until it closes cpDone.
type wal struct {
	files  [2]*os.File
	active int   // the file appends go to
	size   int64 // of the active file
	limit  int64 // checkpoint when size reaches it
	// eachBatch: checkpoint every batch before answering (tests).
	eachBatch bool
	buf       []byte
	// pending: the newest change of every key logged in the active file;
	// pendingRev the revision after them.
	pending    map[string]memory.Change
	pendingRev int64

	cpDone chan struct{} // the running checkpoint ends; nil: none runs
	cpErr  error         // its outcome, read after cpDone is closed
}

func openWAL(path string, limit int64) (*wal, error) {
	if limit <= 0 {
		limit = defaultCheckpointBytes
	}
	w := &wal{limit: limit, pending: make(map[string]memory.Change)}
	for i, suf := range walSuffixes {
		f, err := os.OpenFile(path+suf, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			_ = w.close()
			return nil, fmt.Errorf("store log %s: %w", path+suf, err)
		}
		w.files[i] = f
	}
	return w, nil
}

// close closes the files (after waiting for a running checkpoint).
func (w *wal) close() error {
	werr := w.wait()
	var err error
	for _, f := range w.files {
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	return errors.Join(werr, err)
}

// appendBatch logs one batch and syncs it.
func (w *wal) appendBatch(changes []memory.Change, rev int64) error {
	b := append(w.buf[:0], make([]byte, 8)...)
	b = binary.AppendUvarint(b, uint64(rev))
	b = binary.AppendUvarint(b, uint64(len(changes)))
	for _, ch := range changes {
		if ch.Delete {
			b = append(b, 1)
			b = binary.AppendUvarint(b, uint64(len(ch.KV.Key)))
			b = append(b, ch.KV.Key...)
			continue
		}
		b = append(b, 0)
		b = binary.AppendUvarint(b, uint64(len(ch.KV.Key)))
		b = append(b, ch.KV.Key...)
		b = binary.AppendUvarint(b, uint64(recordLen(ch.KV)))
		b = appendRecord(b, ch.KV)
	}
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(b)-8))
	binary.LittleEndian.PutUint32(b[4:8], crc32.Checksum(b[8:], crcTable))
	w.buf = b
	f := w.files[w.active]
	if _, err := f.WriteAt(b, w.size); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	w.size += int64(len(b))
	for _, ch := range changes {
		w.pending[ch.KV.Key] = ch
	}
	w.pendingRev = rev
	if cap(w.buf) > 4<<20 {
		w.buf = nil // one huge batch need not stay allocated
	}
	return nil
}

func recordLen(kv *store.KV) int {
	var tmp [binary.MaxVarintLen64]byte
	return 1 + binary.PutUvarint(tmp[:], uint64(kv.CreateRev)) +
		binary.PutUvarint(tmp[:], uint64(kv.ModRev-kv.CreateRev)) + len(kv.Value)
}

// maybeCheckpoint starts a checkpoint in the background once the active
// file has reached the limit and no checkpoint is running: appends move to
// the other file, which the previous checkpoint emptied. It returns the
// error of a checkpoint that failed.
func (w *wal) maybeCheckpoint(db *bbolt.DB) error {
	if w.eachBatch {
		return w.checkpoint(db)
	}
	if w.cpDone != nil {
		select {
		case <-w.cpDone:
			w.cpDone = nil
			if w.cpErr != nil {
				return w.cpErr
			}
		default:
			return nil // still running; the active file grows meanwhile
		}
	}
	if w.size < w.limit {
		return nil
	}
	changes, rev := w.takePending()
	full := w.files[w.active]
	w.active ^= 1
	w.size = 0
	done := make(chan struct{})
	w.cpDone = done
	go func() {
		err := writeBatch(db, changes, rev)
		if err == nil {
			err = full.Truncate(0)
		}
		w.cpErr = err
		close(done)
	}()
	return nil
}

// wait waits for a running checkpoint and returns its error.
func (w *wal) wait() error {
	if w.cpDone == nil {
		return nil
	}
	<-w.cpDone
	w.cpDone = nil
	return w.cpErr
}

// takePending returns the pending changes in key order (bbolt writes
// sorted keys fastest) and starts a new set.
func (w *wal) takePending() ([]memory.Change, int64) {
	keys := make([]string, 0, len(w.pending))
	for k := range w.pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	changes := make([]memory.Change, len(keys))
	for i, k := range keys {
		changes[i] = w.pending[k]
	}
	w.pending = make(map[string]memory.Change)
	return changes, w.pendingRev
}

// checkpoint writes everything logged to the bbolt file (after a running
// checkpoint) and empties both files.
func (w *wal) checkpoint(db *bbolt.DB) error {
	if err := w.wait(); err != nil {
		return err
	}
	if len(w.pending) > 0 {
		changes, rev := w.takePending()
		if err := writeBatch(db, changes, rev); err != nil {
			return err
		}
	}
	for _, f := range w.files {
		if err := f.Truncate(0); err != nil {
			return err
		}
	}
	w.size = 0
	return nil
}

// writeBatch writes changes to the bbolt file in one transaction, with rev
// as the file's revision.
func writeBatch(db *bbolt.DB, changes []memory.Change, rev int64) error {
	return db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketKV)
		// bbolt keeps key and value slices until the commit: lay them all
		// out in one buffer, one allocation per batch.
		size := 0
		for _, ch := range changes {
			size += len(ch.KV.Key) + len(ch.KV.Value) + 1 + 2*binary.MaxVarintLen64
		}
		buf := make([]byte, 0, size)
		for _, ch := range changes {
			buf = append(buf, ch.KV.Key...)
			key := buf[len(buf)-len(ch.KV.Key):]
			if ch.Delete {
				if err := b.Delete(key); err != nil {
					return err
				}
				continue
			}
			start := len(buf)
			buf = appendRecord(buf, ch.KV)
			if err := b.Put(key, buf[start:]); err != nil {
				return err
			}
		}
		var rb [8]byte
		binary.BigEndian.PutUint64(rb[:], uint64(rev))
		return tx.Bucket(bucketMeta).Put(keyRev, rb[:])
	})
}

// replay reads both logs' records past rev into pending, in revision
// order, so a checkpoint writes them to the file. It returns how many
// batches it found.
func (w *wal) replay(rev int64) (int, error) {
	type batch struct {
		rev     int64
		changes []memory.Change
	}
	var batches []batch
	for _, f := range w.files {
		data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
		if err != nil {
			return 0, fmt.Errorf("store log %s: %w", f.Name(), err)
		}
		last := int64(-1)
		for len(data) >= 8 {
			l := binary.LittleEndian.Uint32(data[0:4])
			if l == 0 || uint64(l) > uint64(len(data)-8) {
				break // zeros (a file system's unwritten tail), or cut short
			}
			payload := data[8 : 8+l]
			if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[4:8]) {
				break // torn
			}
			data = data[8+l:]
			r, changes, err := decodeBatch(payload)
			if err != nil {
				return 0, fmt.Errorf("store log %s: %v: %w", f.Name(), err, ErrCorrupt)
			}
			if r <= last {
				break // a stale record the file's emptying left
			}
			last = r
			if r > rev {
				batches = append(batches, batch{r, changes})
			}
		}
	}
	slices.SortFunc(batches, func(a, b batch) int { return cmp.Compare(a.rev, b.rev) })
	for _, b := range batches {
		for _, ch := range b.changes {
			w.pending[ch.KV.Key] = ch
		}
		w.pendingRev = b.rev
	}
	return len(batches), nil
}

var errBadBatch = errors.New("malformed log record")

func decodeBatch(b []byte) (int64, []memory.Change, error) {
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	rev, ok := uv()
	if !ok || rev > 1<<62 {
		return 0, nil, errBadBatch
	}
	count, ok := uv()
	if !ok || count > uint64(len(b)) {
		return 0, nil, errBadBatch
	}
	changes := make([]memory.Change, 0, count)
	for range count {
		if len(b) == 0 {
			return 0, nil, errBadBatch
		}
		kind := b[0]
		b = b[1:]
		kl, ok := uv()
		if !ok || kl > uint64(len(b)) || kind > 1 {
			return 0, nil, errBadBatch
		}
		key := strings.Clone(string(b[:kl]))
		b = b[kl:]
		if kind == 1 {
			changes = append(changes, memory.Change{Delete: true, KV: &store.KV{Key: key, ModRev: int64(rev)}})
			continue
		}
		rl, ok := uv()
		if !ok || rl > uint64(len(b)) {
			return 0, nil, errBadBatch
		}
		kv, err := decodeRecord(key, b[:rl])
		if err != nil {
			return 0, nil, err
		}
		if kv.ModRev > int64(rev) {
			return 0, nil, errBadBatch
		}
		b = b[rl:]
		changes = append(changes, memory.Change{KV: kv})
	}
	if len(b) != 0 {
		return 0, nil, errBadBatch
	}
	return int64(rev), changes, nil
}
