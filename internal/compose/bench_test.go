package compose

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used: the
// client and the whole in-process cluster.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fiftyServices is a project of 50 services in ten chains of five
// (each depends on the one before), every one with a port.
func fiftyServices(tb testing.TB) string {
	var b strings.Builder
	b.WriteString("name: fifty\nservices:\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  s%02d:\n    image: app:%d\n    expose: [\"%d\"]\n    environment: {N: \"%d\"}\n", i, i, 8000+i, i)
		if i%5 != 0 {
			fmt.Fprintf(&b, "    depends_on: [s%02d]\n", i-1)
		}
	}
	return write(tb, tb.TempDir(), "compose.yaml", b.String())
}

// BenchmarkUpDown50: `up -d --wait` of 50 services until every one is
// ready, then `down` until nothing is left (targets: ≤ 1 s each, sim).
// cpu-s is what the process (client and in-process cluster) used per
// up and down: wall time on a loaded machine is only an upper bound.
func BenchmarkUpDown50(b *testing.B) {
	c := startCluster(b)
	ctx := context.Background()
	file := fiftyServices(b)
	p, err := Load(ctx, LoadOptions{Files: []string{file}})
	if err != nil {
		b.Fatal(err)
	}
	cl := c.client(nil)
	var up, down time.Duration
	n := 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		objs, err := Convert(p, ConvertOptions{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := cl.Up(ctx, objs, UpOptions{Wait: true, Timeout: time.Minute}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := cl.Down(ctx, "fifty", DownOptions{}); err != nil {
			b.Fatal(err)
		}
		up, down, n = up+t1.Sub(t0), down+time.Since(t1), n+1
	}
	b.ReportMetric(float64(up.Milliseconds())/float64(n), "up-ms")
	b.ReportMetric(float64(down.Milliseconds())/float64(n), "down-ms")
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()/float64(n), "cpu-s")
}
