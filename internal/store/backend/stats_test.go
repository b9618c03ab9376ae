package backend

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/bolt"
)

// TestStatsGauges: an instrumented bolt store exports its keys, history
// and file size as gauges.
func TestStatsGauges(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), FileName), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	st := Instrument(s, reg)
	defer st.Close()
	ctx := context.Background()
	for _, k := range []string{"/a", "/b", "/a"} {
		if _, err := st.Txn(ctx, store.Put(k, []byte("v"))); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if m := mf.GetMetric(); len(m) == 1 && m[0].GetGauge() != nil {
			got[mf.GetName()] = m[0].GetGauge().GetValue()
		}
	}
	for name, ok := range map[string]func(float64) bool{
		"stratus_store_keys":               func(v float64) bool { return v == 2 },
		"stratus_store_history_events":     func(v float64) bool { return v == 3 },
		"stratus_store_file_size_bytes":    func(v float64) bool { return v > 0 },
		"stratus_store_file_free_bytes":    func(v float64) bool { return v >= 0 },
		"stratus_store_compacted_revision": func(v float64) bool { return v == 0 },
	} {
		v, present := got[name]
		if !present || !ok(v) {
			t.Errorf("%s = %v (present %v)", name, v, present)
		}
	}
}
