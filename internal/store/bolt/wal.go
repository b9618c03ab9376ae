package bolt

import (
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
// Options.CheckpointBytes of log (a key written several times in between is
// written once), after which the log starts again from empty. Opening the
// store replays what the log holds past the file's revision.
//
// A record is
//
//	uint32  length of the payload (little endian)
//	uint32  CRC-32C of the payload
//	payload uvarint revision after the batch, uvarint change count, then per
//	        change: byte 0 (put) or 1 (delete), uvarint key length, key, and
//	        for a put uvarint record length and the kv record (record.go)
//
// Replay stops at the first record that is short, fails its checksum or
// does not raise the revision: the tail a crash cut, or records of an older
// log the last checkpoint's truncation had not yet made durable (their
// revisions are at most the file's, so they are skipped either way).

// walSuffix names the log beside the store file.
const walSuffix = ".wal"

// defaultCheckpointBytes is how much log a checkpoint waits for by default
// (about 18,000 pod writes).
const defaultCheckpointBytes = 32 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// wal is the log file and what it holds that the bbolt file does not.
type wal struct {
	f     *os.File
	size  int64
	limit int64 // checkpoint when size reaches it
	buf   []byte
	// pending: the newest change of every key logged since the last
	// checkpoint; pendingRev the revision after them.
	pending    map[string]memory.Change
	pendingRev int64
}

func openWAL(path string, limit int64) (*wal, error) {
	if limit <= 0 {
		limit = defaultCheckpointBytes
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store log %s: %w", path, err)
	}
	return &wal{f: f, limit: limit, pending: make(map[string]memory.Change)}, nil
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
	if _, err := w.f.WriteAt(b, w.size); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
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

// checkpoint writes the pending changes to the bbolt file in one
// transaction and, once it is committed, empties the log.
func (w *wal) checkpoint(db *bbolt.DB) error {
	if len(w.pending) > 0 {
		keys := make([]string, 0, len(w.pending))
		for k := range w.pending {
			keys = append(keys, k)
		}
		slices.Sort(keys) // bbolt writes sorted keys fastest
		changes := make([]memory.Change, len(keys))
		for i, k := range keys {
			changes[i] = w.pending[k]
		}
		if err := writeBatch(db, changes, w.pendingRev); err != nil {
			return err
		}
		clear(w.pending)
	}
	return w.reset()
}

// reset empties the log; the bbolt file holds everything it held.
func (w *wal) reset() error {
	if w.size == 0 {
		return nil
	}
	if err := w.f.Truncate(0); err != nil {
		return err
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

// replay reads the log's records past rev into pending, so a checkpoint
// writes them to the file. It returns how many batches it found.
func (w *wal) replay(rev int64) (int, error) {
	data, err := io.ReadAll(io.NewSectionReader(w.f, 0, 1<<62))
	if err != nil {
		return 0, fmt.Errorf("store log %s: %w", w.f.Name(), err)
	}
	w.size = int64(len(data))
	n := 0
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
			return n, fmt.Errorf("store log %s: %v: %w", w.f.Name(), err, ErrCorrupt)
		}
		if r <= last {
			break // a stale record of an older log
		}
		last = r
		if r <= rev {
			continue // already in the file
		}
		for _, ch := range changes {
			w.pending[ch.KV.Key] = ch
		}
		w.pendingRev = r
		n++
	}
	return n, nil
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
