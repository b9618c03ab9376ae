// Package snapshot saves the whole state of a store (every layer: the
// cloud, the Kubernetes objects, the GCE gateway's records) to a file and
// puts a store back to what a file holds, in one transaction. `stratus
// snapshot` and `stratus reset` are built on it: a reset is the restore of
// the snapshot taken when a fresh data directory first came up.
//
// The file is "stratus-snapshot 1\n", the revision it was taken at (a
// uvarint), then per key a uvarint length and the key, a uvarint length
// and the value, in key order.
package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

const magic = "stratus-snapshot 1\n"

// KV is one key and its value.
type KV struct {
	Key   string
	Value []byte
}

// Snapshot is the state of a store at one revision.
type Snapshot struct {
	Rev int64
	KVs []KV // in key order
}

// Take reads every key of st at one revision, except those for which skip
// is true (nil: none).
func Take(ctx context.Context, st store.Store, skip func(key string) bool) (*Snapshot, error) {
	res, err := st.List(ctx, "/", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Rev: res.Rev, KVs: make([]KV, 0, len(res.KVs))}
	for _, kv := range res.KVs {
		if skip != nil && skip(kv.Key) {
			continue
		}
		s.KVs = append(s.KVs, KV{Key: kv.Key, Value: kv.Value})
	}
	return s, nil
}

// WriteTo writes the snapshot in the file format.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	var n int64
	var tmp [binary.MaxVarintLen64]byte
	put := func(b []byte) {
		if _, err := bw.Write(binary.AppendUvarint(tmp[:0], uint64(len(b)))); err == nil {
			_, _ = bw.Write(b)
		}
		n += int64(len(b))
	}
	_, _ = bw.WriteString(magic)
	_, _ = bw.Write(binary.AppendUvarint(tmp[:0], uint64(s.Rev)))
	for _, kv := range s.KVs {
		put([]byte(kv.Key))
		put(kv.Value)
	}
	return n, bw.Flush()
}

// Read reads a snapshot file.
func Read(r io.Reader) (*Snapshot, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		return nil, errors.New("snapshot: not a stratus snapshot (or another format version)")
	}
	rev, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, fmt.Errorf("snapshot: revision: %w", err)
	}
	s := &Snapshot{Rev: int64(rev)}
	get := func() ([]byte, error) {
		l, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, err
		}
		if l > 1<<30 {
			return nil, fmt.Errorf("a record of %d bytes", l)
		}
		b := make([]byte, l)
		_, err = io.ReadFull(br, b)
		return b, err
	}
	for {
		k, err := get()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot: key %d: %w", len(s.KVs), err)
		}
		v, err := get()
		if err != nil {
			return nil, fmt.Errorf("snapshot: value of %q: %w", k, unexpected(err))
		}
		if n := len(s.KVs); n > 0 && s.KVs[n-1].Key >= string(k) {
			return nil, fmt.Errorf("snapshot: key %q out of order", k)
		}
		s.KVs = append(s.KVs, KV{Key: string(k), Value: v})
	}
	return s, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Restore makes st hold exactly what s holds, except the keys for which
// skip is true, which it leaves alone: one transaction deletes the keys s
// lacks and writes the ones whose value differs. It returns the store's
// revision after it.
func Restore(ctx context.Context, st store.Store, s *Snapshot, skip func(key string) bool) (int64, error) {
	rev, _, err := RestoreTouching(ctx, st, s, skip, "")
	return rev, err
}

// RestoreTouching is Restore that also says whether it wrote a key under
// prefix. Keys it leaves as they were keep their revision, so a follower
// of prefix that waits for the restore's revision must be told whether
// that revision concerns it at all.
func RestoreTouching(ctx context.Context, st store.Store, s *Snapshot, skip func(key string) bool, prefix string) (rev int64, touched bool, err error) {
	cur, err := st.List(ctx, "/", store.ListOptions{})
	if err != nil {
		return 0, false, err
	}
	want := make(map[string][]byte, len(s.KVs))
	for _, kv := range s.KVs {
		if skip == nil || !skip(kv.Key) {
			want[kv.Key] = kv.Value
		}
	}
	var ops []store.Op
	for _, kv := range cur.KVs {
		if skip != nil && skip(kv.Key) {
			continue
		}
		v, ok := want[kv.Key]
		switch {
		case !ok:
			ops = append(ops, store.DeleteAt(kv.Key, kv.ModRev))
			touched = touched || strings.HasPrefix(kv.Key, prefix)
		case !bytes.Equal(v, kv.Value):
			ops = append(ops, store.Update(kv.Key, v, kv.ModRev))
			touched = touched || strings.HasPrefix(kv.Key, prefix)
		}
		delete(want, kv.Key)
	}
	for k, v := range want {
		ops = append(ops, store.Create(k, v))
		touched = touched || strings.HasPrefix(k, prefix)
	}
	if len(ops) == 0 {
		return cur.Rev, false, nil
	}
	res, err := st.Txn(ctx, ops...)
	if err != nil {
		return 0, false, fmt.Errorf("snapshot: restore: %w", err)
	}
	return res.Rev, touched, nil
}

// Dir keeps named snapshots as files in a directory (the data dir's
// "snapshots").
type Dir struct{ Path string }

// validName: what a snapshot may be called (it becomes a file name).
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// ErrNotFound is returned for a snapshot that does not exist.
var ErrNotFound = errors.New("snapshot not found")

// ErrBadName is returned for a name a snapshot cannot have.
var ErrBadName = errors.New("bad snapshot name")

func (d Dir) file(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("%w %q: want letters, digits, '.', '_' or '-', starting with a letter or digit, at most 100", ErrBadName, name)
	}
	return filepath.Join(d.Path, name+".snap"), nil
}

// Save writes s under name, replacing one of that name.
func (d Dir) Save(name string, s *Snapshot) error {
	p, err := d.file(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(d.Path, ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := s.WriteTo(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), p)
}

// Load reads the snapshot called name.
func (d Dir) Load(name string) (*Snapshot, error) {
	p, err := d.file(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Remove deletes the snapshot called name.
func (d Dir) Remove(name string) error {
	p, err := d.file(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	} else if err != nil {
		return err
	}
	return nil
}

// Info describes one saved snapshot.
type Info struct {
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
}

// List returns the saved snapshots by name.
func (d Dir) List() ([]Info, error) {
	ents, err := os.ReadDir(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".snap")
		if !ok || !validName.MatchString(name) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Info{Name: name, Size: fi.Size(), Created: fi.ModTime().UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
