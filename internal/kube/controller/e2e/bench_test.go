package e2e

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

func startPool(b *testing.B, c *cluster, n int) *agent.SimPool {
	b.Helper()
	pool, err := agent.NewSimPool(agent.SimPoolOptions{Client: c.cs, Pods: c.pods, Count: n, Runtime: sim.New(sim.Options{}), Log: testenv.Logger(),
		Certs: agent.LocalCerts{Issue: c.srv.IssueKubeletServingCert, CA: c.srv.CACert()}})
	if err != nil {
		b.Fatal(err)
	}
	if err := pool.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	stopWithTimeout(b, "pool", pool.Stop)
	return pool
}

func readyNodes(b *testing.B, c *cluster) int {
	l, err := c.cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for i := range l.Items {
		for _, cond := range l.Items[i].Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				n++
			}
		}
	}
	return n
}

// BenchmarkSimNodesReady measures 5,000 simulated nodes from nothing to
// Ready (target ≤ 5 s; kwok: 60 s).
func BenchmarkSimNodesReady(b *testing.B) {
	const nodes = 5000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		o := controller.Options{}
		if os.Getenv("BENCH_NO_IPAM") != "" {
			o.Disable = []string{"nodeipam"}
		}
		c := startCluster(b, o)
		b.StartTimer()
		startPool(b, c, nodes)
		testenv.Eventually(b, time.Minute, "nodes Ready", func() bool { return readyNodes(b, c) == nodes })
		b.StopTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/5000-nodes")
}

func rcOf(name string, replicas int32) *corev1.ReplicationController {
	return &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ReplicationControllerSpec{Replicas: &replicas, Selector: map[string]string{"app": name},
			Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
}

func scaleAndWait(b *testing.B, c *cluster, name string, replicas int32) {
	ctx := context.Background()
	// As kubectl scale does: a merge patch of the scale subresource, which
	// cannot conflict with the controller's status writes.
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas))
	if _, err := c.cs.CoreV1().ReplicationControllers("default").Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "scale"); err != nil {
		b.Fatal(err)
	}
	testenv.Eventually(b, 5*time.Minute, fmt.Sprintf("%d ready replicas", replicas), func() bool {
		rc, err := c.cs.CoreV1().ReplicationControllers("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil && rc.Status.ReadyReplicas == replicas && rc.Status.Replicas == replicas
	})
}

// BenchmarkScaleRC10kPods measures one scale of a replication controller
// from 0 to 10,000 simulated pods, all Running and ready (target ≤ 5 s;
// kwok on kube-apiserver and etcd: 60 s).
func BenchmarkScaleRC10kPods(b *testing.B) {
	const pods, nodes = 10000, 100 // 110 pods per node
	c := startCluster(b, controller.Options{})
	startPool(b, c, nodes)
	testenv.Eventually(b, time.Minute, "nodes Ready", func() bool { return readyNodes(b, c) == nodes })
	b.ResetTimer()
	writes, downWrites := 0, 0
	var cpu, down, downCPU time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprint("bench", i)
		if _, err := c.cs.CoreV1().ReplicationControllers("default").Create(context.Background(), rcOf(name, 0), metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		before, n0 := c.writes.snapshot()
		c0 := cpuTime()
		stopProfile := startProfile(b, os.Getenv("BENCH_SCALE_PROFILE"))
		stopTimeline := timeline(b, c, os.Getenv("BENCH_TIMELINE") != "")
		b.StartTimer()
		scaleAndWait(b, c, name, pods)
		b.StopTimer()
		stopTimeline()
		stopProfile()
		cpu += cpuTime() - c0
		if path := os.Getenv("BENCH_HEAP_PROFILE"); path != "" {
			// What 10,000 running pods hold once the burst has settled:
			// the registry keeps the objects writes replaced for one to
			// two seconds, and a profile taken at once counts them.
			time.Sleep(3 * time.Second)
			writeHeapProfile(b, path)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms) // after writeHeapProfile's GC
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MB")
		}
		after, n1 := c.writes.snapshot()
		writes += n1 - n0
		if os.Getenv("BENCH_WRITES") != "" {
			for k, v := range after {
				if d := v - before[k]; d > 0 {
					b.Logf("%-40s %6d (%.2f/pod)", k, d, float64(d)/pods)
				}
			}
		}
		// The scale back down is timed apart: graceful deletion, the node
		// agents' confirmations, endpoints and Events per pod.
		before, n0 = c.writes.snapshot()
		c0, t0 := cpuTime(), time.Now()
		stopProfile = startProfile(b, os.Getenv("BENCH_DOWN_PROFILE"))
		debugDone := make(chan struct{})
		if os.Getenv("BENCH_DOWN_DEBUG") != "" {
			go func() {
				tick := time.NewTicker(5 * time.Second)
				defer tick.Stop()
				for {
					select {
					case <-debugDone:
						return
					case <-tick.C:
					}
					l, err := c.cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
					if err != nil {
						continue
					}
					rc, err := c.cs.CoreV1().ReplicationControllers("default").Get(context.Background(), name, metav1.GetOptions{})
					if err != nil {
						continue
					}
					term := 0
					for i := range l.Items {
						if l.Items[i].DeletionTimestamp != nil {
							term++
						}
					}
					fmt.Fprintf(os.Stderr, "down: pods %d terminating %d rc status %+v\n", len(l.Items), term, rc.Status)
				}
			}()
		}
		scaleAndWait(b, c, name, 0)
		testenv.Eventually(b, 5*time.Minute, "pods gone", func() bool {
			l, err := c.cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
			return err == nil && len(l.Items) == 0
		})
		close(debugDone)
		stopProfile()
		downCPU += cpuTime() - c0
		down += time.Since(t0)
		after, n1 = c.writes.snapshot()
		downWrites += n1 - n0
		if os.Getenv("BENCH_WRITES") != "" {
			for k, v := range after {
				if d := v - before[k]; d > 0 {
					b.Logf("down %-40s %6d (%.2f/pod)", k, d, float64(d)/pods)
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/10k-pods")
	b.ReportMetric(float64(writes)/float64(b.N*pods), "writes/pod")
	b.ReportMetric(float64(down.Milliseconds())/float64(b.N), "down-ms/10k-pods")
	b.ReportMetric(downCPU.Seconds()/float64(b.N), "down-cpu-s/10k-pods")
	b.ReportMetric(float64(downWrites)/float64(b.N*pods), "down-writes/pod")
	// CPU seconds the process spent (all cores): less sensitive than the
	// wall time to what else the machine runs.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/10k-pods")
}

// startProfile writes a CPU profile to path (none when empty) until the
// returned func is called.
func startProfile(b *testing.B, path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// timeline logs, every 250 ms, the pod creations, bindings and pod status
// writes so far, so where a scale spends its time shows (when on).
func timeline(b *testing.B, c *cluster, on bool) func() {
	if !on {
		return func() {}
	}
	base, _ := c.writes.snapshot()
	t0, c0 := time.Now(), cpuTime()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			now, _ := c.writes.snapshot()
			d := func(k string) int { return now[k] - base[k] }
			// straight to stderr: a benchmark's log shows only at its end
			fmt.Fprintf(os.Stderr, "timeline %6.2fs cpu %5.2fs created %5d bound %5d status %5d ctl-status %3d events %5d\n", time.Since(t0).Seconds(),
				(cpuTime() - c0).Seconds(), d("POST pods"), d("POST pods/binding"), d("PUT pods/status"),
				d("PUT replicationcontrollers/status")+d("PUT jobs/status"), d("POST events")+d("PATCH events"))
		}
	}()
	return func() { close(done); <-stopped }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdleCPU measures the CPU the whole process (API server,
// controllers, 1,000 sim nodes) uses with 10,000 running pods and nothing
// happening (target < 5 % of a core).
func BenchmarkIdleCPU(b *testing.B) {
	const pods, nodes = 10000, 1000
	c := startCluster(b, controller.Options{})
	startPool(b, c, nodes)
	testenv.Eventually(b, time.Minute, "nodes Ready", func() bool { return readyNodes(b, c) == nodes })
	if _, err := c.cs.CoreV1().ReplicationControllers("default").Create(context.Background(), rcOf("idle", 0), metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	scaleAndWait(b, c, "idle", pods)
	time.Sleep(5 * time.Second) // let events and the last status writes drain
	const window = 20 * time.Second
	var pct float64
	if path := os.Getenv("BENCH_IDLE_PROFILE"); path != "" {
		// a CPU profile of the idle window only
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var renewals float64
	for b.Loop() {
		w0, _ := c.writes.snapshot()
		c0, t0 := cpuTime(), time.Now()
		time.Sleep(window)
		pct = 100 * float64(cpuTime()-c0) / float64(time.Since(t0))
		w1, _ := c.writes.snapshot()
		renewals = float64(w1["PUT leases"]-w0["PUT leases"]) / time.Since(t0).Seconds()
	}
	b.ReportMetric(pct, "%cpu-idle")
	// what the idle CPU pays for: 1,000 nodes renew every 10 s
	b.ReportMetric(renewals, "lease-renewals/s")
}
