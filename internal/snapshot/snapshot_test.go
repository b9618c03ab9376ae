package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

func TestRoundTripAndRestore(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	for i := range 50 {
		if _, err := st.Txn(ctx, store.Put(fmt.Sprintf("/a/%03d", i), []byte(fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Txn(ctx, store.Put("/keep", []byte("mine"))); err != nil {
		t.Fatal(err)
	}
	keep := func(k string) bool { return k == "/keep" }
	s, err := Take(ctx, st, keep)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Rev != s.Rev || len(back.KVs) != 50 {
		t.Fatalf("read back rev %d, %d keys; want %d, 50", back.Rev, len(back.KVs), s.Rev)
	}
	// Change: delete, modify, add; and the kept key.
	if _, err := st.Txn(ctx, store.Delete("/a/000"), store.Put("/a/001", []byte("changed")), store.Put("/b", []byte("new")), store.Put("/keep", []byte("still mine"))); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, st, back, keep); err != nil {
		t.Fatal(err)
	}
	res, err := st.List(ctx, "/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range res.KVs {
		got[kv.Key] = string(kv.Value)
	}
	for _, kv := range s.KVs {
		if got[kv.Key] != string(kv.Value) {
			t.Errorf("%s = %q, want %q", kv.Key, got[kv.Key], kv.Value)
		}
	}
	if _, ok := got["/b"]; ok || got["/keep"] != "still mine" || len(got) != 51 {
		t.Errorf("after restore: %v", got)
	}
}

func TestReadRejects(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"other magic", "stratus-snapshot 2\n\x00"},
		{"truncated value", magic + "\x05\x02/a\x05ab"},
		{"out of order", magic + "\x01\x02/b\x00\x02/a\x00"},
	} {
		if _, err := Read(bytes.NewReader([]byte(tc.in))); err == nil {
			t.Errorf("%s: read succeeded", tc.name)
		}
	}
}

func TestDirNames(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	for _, bad := range []string{"", "../x", "a/b", ".hidden", "-x", "x y"} {
		if err := d.Save(bad, &Snapshot{}); !errors.Is(err, ErrBadName) {
			t.Errorf("Save(%q): %v, want ErrBadName", bad, err)
		}
	}
	if err := d.Save("ok-1.2_3", &Snapshot{Rev: 7}); err != nil {
		t.Fatal(err)
	}
	l, err := d.List()
	if err != nil || len(l) != 1 || l[0].Name != "ok-1.2_3" {
		t.Fatalf("List: %v %+v", err, l)
	}
	if _, err := d.Load("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load(nope): %v", err)
	}
	if err := d.Remove("ok-1.2_3"); err != nil {
		t.Fatal(err)
	}
}

// FuzzRead: any bytes read as a snapshot either fail or write back to the
// same snapshot.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	_, _ = (&Snapshot{Rev: 3, KVs: []KV{{"/a", []byte("1")}, {"/b", nil}}}).WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := s.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		s2, err := Read(&out)
		if err != nil || s2.Rev != s.Rev || len(s2.KVs) != len(s.KVs) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
