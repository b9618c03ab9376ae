package compose

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

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

// BenchmarkUpDown50: `up --wait` of 50 services until every one is
// ready, then `down` until nothing is left (targets: ≤ 1 s each, sim).
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
}
