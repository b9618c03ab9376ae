package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// BenchmarkKube100Clients runs 100 Kubernetes clients against `stratus up`
// (default bolt store) for BENCH_SECONDS (default 10), each with its own
// client-go and its own connection, each looping create, get, list,
// update and delete of ConfigMaps in its own namespace. Target (DESIGN.md):
// zero errors, p99 ≤ 100 ms. It reports the latency percentiles, the
// request rate, the server's CPU-seconds and its peak RSS.
func BenchmarkKube100Clients(b *testing.B) {
	const clients = 100
	dur := 10 * time.Second
	if s, err := strconv.Atoi(os.Getenv("BENCH_SECONDS")); err == nil && s > 0 {
		dur = time.Duration(s) * time.Second
	}
	for b.Loop() {
		dir := b.TempDir()
		p := startUp(b, dir, "--runtime", "sim")
		p.waitReady(b, 60*time.Second)
		kc := env(b, dir, "kubectl")["KUBECONFIG"]
		cpu0 := cpuSeconds(p.cmd.Process.Pid)

		ctx, cancel := context.WithTimeout(context.Background(), dur)
		var mu sync.Mutex
		var lat []time.Duration
		var errs []error
		var wg sync.WaitGroup
		for i := range clients {
			cfg, err := clientcmd.BuildConfigFromFlags("", kc)
			if err != nil {
				b.Fatal(err)
			}
			cfg.QPS, cfg.Burst = -1, -1
			cfg.Dial = (&net.Dialer{}).DialContext // a transport (and connection) of its own
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine, bad := clientLoop(ctx, cs, fmt.Sprintf("load-%d", i))
				mu.Lock()
				lat, errs = append(lat, mine...), append(errs, bad...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		cancel()
		cpu := cpuSeconds(p.cmd.Process.Pid) - cpu0
		peak := peakRSSMB(p.cmd.Process.Pid)
		p.stop(b)
		if len(errs) > 0 {
			b.Fatalf("%d errors of %d requests; first: %v", len(errs), len(lat)+len(errs), errs[0])
		}
		slices.Sort(lat)
		pct := func(q int) float64 { return float64(lat[len(lat)*q/100].Microseconds()) / 1000 }
		b.ReportMetric(pct(50), "p50-ms")
		b.ReportMetric(pct(99), "p99-ms")
		b.ReportMetric(float64(len(lat))/dur.Seconds(), "req/s")
		b.ReportMetric(cpu, "server-CPU-s")
		b.ReportMetric(peak, "server-peak-RSS-MB")
		b.ReportMetric(0, "errors")
	}
}

// clientLoop runs one client until ctx ends; it returns the latency of
// each request and the errors (a request cut by the end is neither).
func clientLoop(ctx context.Context, cs *kubernetes.Clientset, ns string) ([]time.Duration, []error) {
	var lat []time.Duration
	var errs []error
	do := func(what string, f func(ctx context.Context) error) bool {
		t0 := time.Now()
		err := f(context.WithoutCancel(ctx))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", ns, what, err))
			return false
		}
		lat = append(lat, time.Since(t0))
		return true
	}
	if !do("create namespace", func(ctx context.Context) error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	}) {
		return lat, errs
	}
	cms := cs.CoreV1().ConfigMaps(ns)
	for n := 0; ctx.Err() == nil; n++ {
		name := "cm-" + strconv.Itoa(n)
		var cm *corev1.ConfigMap
		ok := do("create", func(ctx context.Context) (err error) {
			cm, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": strings.Repeat("v", 64)}}, metav1.CreateOptions{})
			return err
		}) &&
			do("get", func(ctx context.Context) error { _, err := cms.Get(ctx, name, metav1.GetOptions{}); return err }) &&
			do("list", func(ctx context.Context) error { _, err := cms.List(ctx, metav1.ListOptions{Limit: 50}); return err }) &&
			do("update", func(ctx context.Context) error {
				cm.Data["k"] = "changed"
				_, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
				return err
			})
		if !ok {
			return lat, errs
		}
		if n%2 == 1 { // keep about half
			if !do("delete", func(ctx context.Context) error { return cms.Delete(ctx, name, metav1.DeleteOptions{}) }) {
				return lat, errs
			}
		}
	}
	return lat, errs
}

// cpuSeconds is the user+system CPU time of a process.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// peakRSSMB is a process's peak resident set (VmHWM).
func peakRSSMB(pid int) float64 { return procStatusMB(pid, "VmHWM:") }
