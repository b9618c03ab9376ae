package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/stratus-cloud/stratus/internal/store"
)

// On disk, the kv bucket maps each key to one record:
//
//	byte 0      recordTag (lets a later format tell its records apart)
//	uvarint     CreateRev
//	uvarint     ModRev - CreateRev
//	rest        the value
//
// Revisions are small numbers, so a record costs 3 to 7 bytes over its value.
const recordTag = 0x01

// errBadRecord marks a record the decoder refuses.
var errBadRecord = errors.New("malformed record")

// appendRecord appends kv's record to dst.
func appendRecord(dst []byte, kv *store.KV) []byte {
	dst = append(dst, recordTag)
	dst = binary.AppendUvarint(dst, uint64(kv.CreateRev))
	dst = binary.AppendUvarint(dst, uint64(kv.ModRev-kv.CreateRev))
	return append(dst, kv.Value...)
}

// decodeRecord parses a record for key. The value is copied, since bbolt's
// memory is only valid inside its transaction.
func decodeRecord(key string, b []byte) (*store.KV, error) {
	if len(b) == 0 || b[0] != recordTag {
		return nil, fmt.Errorf("%w: unknown tag", errBadRecord)
	}
	b = b[1:]
	create, n := binary.Uvarint(b)
	if n <= 0 || create == 0 || create > 1<<62 {
		return nil, fmt.Errorf("%w: bad create revision", errBadRecord)
	}
	b = b[n:]
	delta, n := binary.Uvarint(b)
	if n <= 0 || delta > 1<<62 {
		return nil, fmt.Errorf("%w: bad mod revision", errBadRecord)
	}
	b = b[n:]
	if len(b) > store.MaxValueSize {
		return nil, fmt.Errorf("%w: value of %d bytes", errBadRecord, len(b))
	}
	kv := &store.KV{
		Key:       key,
		CreateRev: int64(create),
		ModRev:    int64(create + delta),
		Value:     append([]byte(nil), b...),
	}
	if len(b) == 0 {
		kv.Value = []byte{}
	}
	return kv, nil
}
