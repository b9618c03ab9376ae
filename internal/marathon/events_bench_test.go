package marathon_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
)

// BenchmarkEventStream100: 100 /v2/events subscribers while one app is
// scaled to 10,000 instances on 100 sim nodes (MARATHON_BENCH_N changes
// the count). Reported: the delivery delay from an event's timestamp
// (set when it is published, millisecond precision) to its arrival at a
// subscriber, p50, p99 and max over every event every subscriber got
// (target p99 ≤ 100 ms), and the events per subscriber. Every subscriber
// must get every event: a stream the server ended for falling behind
// fails the run. Run with -benchtime=1x.
func BenchmarkEventStream100(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("MARATHON_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	const subscribers = 100
	c := marathontest.Start(b, marathontest.Options{Nodes: 100})
	for i := 0; b.Loop(); i++ {
		ctx, cancel := context.WithCancel(context.Background())
		var (
			mu     sync.Mutex
			delays []time.Duration
			counts = make([]int, subscribers)
			wg     sync.WaitGroup
			ready  sync.WaitGroup
		)
		for s := range subscribers {
			req, _ := http.NewRequestWithContext(ctx, "GET", c.URL+"/v2/events", nil)
			req.SetBasicAuth(c.Username, c.Password)
			req.Header.Set("Accept", "text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("subscribe: %v", err)
			}
			wg.Add(1)
			ready.Add(1)
			go func() {
				defer wg.Done()
				defer resp.Body.Close()
				var mine []time.Duration
				attached := false
				sc := bufio.NewScanner(resp.Body)
				sc.Buffer(make([]byte, 1<<20), 1<<20)
				for sc.Scan() {
					line := sc.Bytes()
					at := time.Now()
					if !bytes.HasPrefix(line, []byte("data: ")) {
						continue
					}
					if !attached {
						attached = true
						ready.Done()
						continue // event_stream_attached
					}
					if ts, ok := eventTime(line); ok {
						mine = append(mine, at.Sub(ts))
					}
				}
				if !attached {
					ready.Done()
				}
				mu.Lock()
				delays = append(delays, mine...)
				counts[s] = len(mine)
				mu.Unlock()
			}()
		}
		ready.Wait()
		id := fmt.Sprintf("/bench/events-%d", i)
		start := time.Now()
		if code, body := call(b, c, "POST", "/v2/apps", map[string]any{"id": id, "instances": n, "cmd": "sleep 1000", "cpus": 0.001, "mem": 1}, nil); code != 201 {
			b.Fatalf("create: %d %s", code, body)
		}
		for {
			var list struct{ Apps []struct{ TasksRunning int } }
			call(b, c, "GET", "/v2/apps?id="+id, nil, &list)
			if len(list.Apps) == 1 && list.Apps[0].TasksRunning == n {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("%d of %d running after 5m", list.Apps[0].TasksRunning, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second) // the deployment's last events
		b.StopTimer()
		cancel()
		wg.Wait()
		call(b, c, "DELETE", "/v2/apps"+id, nil, nil)
		slices.Sort(delays)
		if len(delays) == 0 {
			b.Fatal("no events")
		}
		for s, got := range counts {
			if got != counts[0] {
				b.Fatalf("subscriber %d got %d events, subscriber 0 %d: a stream fell behind", s, got, counts[0])
			}
		}
		q := func(p float64) float64 { return float64(delays[int(p*float64(len(delays)-1))].Microseconds()) / 1000 }
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(q(1), "max-ms")
		b.ReportMetric(float64(counts[0]), "events/subscriber")
		b.StartTimer()
	}
}

// eventTime reads the "timestamp" of an event's data line.
func eventTime(line []byte) (time.Time, bool) {
	const key = `"timestamp":"`
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return time.Time{}, false
	}
	rest := line[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02T15:04:05.000Z", string(rest[:j]))
	return t, err == nil
}
