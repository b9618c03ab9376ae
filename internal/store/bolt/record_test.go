package bolt

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, kv := range []*store.KV{
		{Key: "a", Value: []byte("v"), CreateRev: 1, ModRev: 1},
		{Key: "b", Value: []byte{}, CreateRev: 5, ModRev: 1 << 40},
		{Key: "c", Value: bytes.Repeat([]byte{0}, 1000), CreateRev: 1 << 50, ModRev: 1<<50 + 3},
	} {
		b := appendRecord(nil, kv)
		got, err := decodeRecord(kv.Key, b)
		if err != nil {
			t.Fatalf("%s: %v", kv.Key, err)
		}
		if got.CreateRev != kv.CreateRev || got.ModRev != kv.ModRev || !bytes.Equal(got.Value, kv.Value) {
			t.Errorf("%s: got %+v, want %+v", kv.Key, got, kv)
		}
	}
}

func TestRecordRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":           nil,
		"bad tag":         {0x02, 1, 0},
		"no create":       {recordTag},
		"zero create":     {recordTag, 0, 0},
		"truncated":       {recordTag, 0x80},
		"no mod":          {recordTag, 1},
		"overlong varint": {recordTag, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0},
	} {
		if _, err := decodeRecord("k", b); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: err = %v, want errBadRecord", name, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, &store.KV{Value: []byte("hello"), CreateRev: 3, ModRev: 9}))
	f.Add([]byte{recordTag, 1, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		kv, err := decodeRecord("k", b)
		if err != nil {
			return
		}
		if kv.CreateRev < 1 || kv.ModRev < kv.CreateRev {
			t.Fatalf("accepted bad revisions %d/%d", kv.CreateRev, kv.ModRev)
		}
		// What decodes must encode back to a record that decodes the same.
		again, err := decodeRecord("k", appendRecord(nil, kv))
		if err != nil || again.CreateRev != kv.CreateRev || again.ModRev != kv.ModRev || !bytes.Equal(again.Value, kv.Value) {
			t.Fatalf("round trip: %+v vs %+v (%v)", kv, again, err)
		}
	})
}
