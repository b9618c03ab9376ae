package backend

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/bolt"
	"github.com/stratus-cloud/stratus/internal/store/etcd"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

var benchPrefixes atomic.Int64

func openBench(b *testing.B, backend string) store.Store {
	b.Helper()
	var (
		s   store.Store
		err error
	)
	switch backend {
	case "memory":
		s = memory.New(memory.Options{})
	case "bolt":
		s, err = bolt.Open(filepath.Join(b.TempDir(), "stratus.db"), bolt.Options{})
	case "etcd":
		srv := shared.Get(b)
		s, err = etcd.New(context.Background(), etcd.Options{
			Endpoints: srv.Endpoints,
			Prefix:    "/bench-" + strconv.FormatInt(benchPrefixes.Add(1), 10) + "/",
		})
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

var backends = []string{"memory", "bolt", "etcd"}

// BenchmarkTxn measures acknowledged single-key puts per second with 1, 8
// and 64 concurrent writers. For bolt every acknowledged write is on disk,
// so throughput should grow with writers as they share commits.
func BenchmarkTxn(b *testing.B) {
	for _, backend := range backends {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", backend, writers), func(b *testing.B) {
				benchOne(b, backend, writers)
			})
		}
	}
}

func benchOne(b *testing.B, backend string, writers int) {
	s := openBench(b, backend)
	ctx := context.Background()
	val := make([]byte, 128)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				key := "/bench/" + strconv.FormatInt(i%100_000, 10)
				if _, err := s.Txn(ctx, store.Put(key, val)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
}

// BenchmarkWatchFanout: 100 watchers on one prefix, 10,000 events written
// by 16 writers; reports the latency from the start of each write to its
// delivery to each watcher (p50, p99; so for bolt it includes the commit's
// fsync). etcd runs only with STRATUS_BENCH_ETCD_FANOUT=1: a real etcd
// streams each of the million deliveries separately and takes minutes.
func BenchmarkWatchFanout(b *testing.B) {
	const watchers, events, writers = 100, 10_000, 16
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			if backend == "etcd" && os.Getenv("STRATUS_BENCH_ETCD_FANOUT") != "1" {
				b.Skip("set STRATUS_BENCH_ETCD_FANOUT=1 to run (minutes)")
			}
			s := openBench(b, backend)
			var lat []time.Duration
			for range b.N {
				lat = fanoutRound(b, s, watchers, events, writers, lat[:0])
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func fanoutRound(b *testing.B, s store.Store, watchers, events, writers int, lat []time.Duration) []time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startNs := make([]atomic.Int64, events)
	epoch := time.Now()
	from, err := s.Rev(ctx)
	if err != nil {
		b.Fatal(err)
	}
	results := make(chan []time.Duration, watchers)
	for range watchers {
		ch, err := s.Watch(ctx, "/fan/", store.WatchOptions{Rev: from + 1})
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			got := make([]time.Duration, 0, events)
			for batch := range ch {
				if batch.Err != nil {
					b.Error(batch.Err)
					break
				}
				now := time.Since(epoch)
				for _, ev := range batch.Events {
					i := binary.BigEndian.Uint64(ev.KV.Value)
					got = append(got, now-time.Duration(startNs[i].Load()))
				}
				if len(got) >= events {
					break
				}
			}
			results <- got
		}()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			val := make([]byte, 8)
			for {
				i := next.Add(1) - 1
				if i >= int64(events) {
					return
				}
				binary.BigEndian.PutUint64(val, uint64(i))
				startNs[i].Store(int64(time.Since(epoch)))
				if _, err := s.Txn(ctx, store.Put("/fan/"+strconv.FormatInt(i%1000, 10), slices.Clone(val))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for range watchers {
		got := <-results
		if len(got) != events {
			b.Fatalf("a watcher got %d events, want %d", len(got), events)
		}
		lat = append(lat, got...)
	}
	return lat
}
