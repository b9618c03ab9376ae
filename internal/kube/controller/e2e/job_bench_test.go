package e2e

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkJobCompletions runs one Job of BENCH_JOB_COMPLETIONS (10,000)
// completions at BENCH_JOB_PARALLELISM (1,000) on BENCH_JOB_NODES (100)
// sim nodes whose pods run 100 ms (target: done in ≤ 10 s). BENCH_JOB_DEBUG
// logs the job's and the pods' progress while it waits.
func BenchmarkJobCompletions(b *testing.B) {
	completions := int32(envInt("BENCH_JOB_COMPLETIONS", 10000))
	parallelism := int32(envInt("BENCH_JOB_PARALLELISM", 1000))
	nodes := envInt("BENCH_JOB_NODES", 100)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := startCluster(b, controller.Options{})
		pool, err := agent.NewSimPool(agent.SimPoolOptions{Client: c.cs, Pods: c.pods, Count: nodes,
			Runtime: sim.New(sim.Options{CompleteAfter: 100 * time.Millisecond}), Log: testenv.Logger(),
			Certs: agent.LocalCerts{Issue: c.srv.IssueKubeletServingCert, CA: c.srv.CACert()}})
		if err != nil {
			b.Fatal(err)
		}
		if err := pool.Start(ctx); err != nil {
			b.Fatal(err)
		}
		stopWithTimeout(b, "pool", pool.Stop)
		testenv.Eventually(b, time.Minute, "nodes Ready", func() bool { return readyNodes(b, c) == nodes })
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: "default"},
			Spec: batchv1.JobSpec{Completions: &completions, Parallelism: &parallelism,
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "work", Image: "busybox"}}}}}}
		stopTimeline := timeline(b, c, os.Getenv("BENCH_TIMELINE") != "")
		b.StartTimer()
		if _, err := c.cs.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var logged time.Time
		testenv.Eventually(b, 10*time.Minute, "job complete", func() bool {
			j, err := c.cs.BatchV1().Jobs("default").Get(ctx, "bench", metav1.GetOptions{})
			if os.Getenv("BENCH_JOB_DEBUG") != "" && err == nil && time.Since(logged) >= time.Second {
				logged = time.Now()
				pods, _ := c.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
				phases := map[corev1.PodPhase]int{}
				for _, p := range pods.Items {
					phases[p.Status.Phase]++
				}
				b.Logf("%v active=%d succeeded=%d pods=%v", time.Since(t0).Round(10*time.Millisecond), j.Status.Active, j.Status.Succeeded, phases)
			}
			return err == nil && j.Status.Succeeded >= completions
		})
		b.StopTimer()
		stopTimeline()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/job")
}
