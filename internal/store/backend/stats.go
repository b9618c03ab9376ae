package backend

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/store"
)

// statsCollector exports a store's Stats at each scrape:
// stratus_store_keys, stratus_store_history_events,
// stratus_store_compacted_revision, stratus_store_file_size_bytes and
// stratus_store_file_free_bytes (the last two only for a file).
type statsCollector struct{ s store.Statser }

var (
	descKeys      = prometheus.NewDesc("stratus_store_keys", "Keys held by the store.", nil, nil)
	descHistory   = prometheus.NewDesc("stratus_store_history_events", "Past changes the store keeps for watches and past lists (etcd: revisions since the last compaction).", nil, nil)
	descCompacted = prometheus.NewDesc("stratus_store_compacted_revision", "The newest revision compacted away.", nil, nil)
	descFile      = prometheus.NewDesc("stratus_store_file_size_bytes", "Size of the store's file.", nil, nil)
	descFree      = prometheus.NewDesc("stratus_store_file_free_bytes", "Bytes of the store's file free for reuse.", nil, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descKeys, descHistory, descCompacted, descFile, descFree} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.s.Stats(ctx)
	if err != nil {
		return
	}
	emit := func(d *prometheus.Desc, v int64) {
		if v >= 0 {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
		}
	}
	emit(descKeys, st.Keys)
	emit(descHistory, st.History)
	emit(descCompacted, st.CompactedRev)
	emit(descFile, st.FileBytes)
	emit(descFree, st.FreeBytes)
}
