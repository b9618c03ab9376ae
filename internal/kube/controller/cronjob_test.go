package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
)

// allBut lists every controller but the ones kept (for unit tests).
func allBut(keep ...string) []string {
	var out []string
	for _, n := range []string{"scheduler", "replication", "replicaset", "deployment", "endpoints", "endpointslice",
		"nodelifecycle", "nodeipam", "garbagecollector", "namespace", "job", "cronjob", "daemonset", "statefulset", "disruption", "servicelb"} {
		found := false
		for _, k := range keep {
			found = found || k == n
		}
		if !found {
			out = append(out, n)
		}
	}
	return out
}

func startManager(t *testing.T, cs kubernetes.Interface, clk *clocktesting.FakeClock, keep ...string) {
	t.Helper()
	m := New(Options{Client: cs, Clock: clk, Workers: 1, Disable: allBut(keep...)})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	waitFor(t, "manager ready", m.Ready)
}

func waitFor(t *testing.T, what string, cond func() bool, show ...func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, s := range show {
				t.Log(s())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCronJobScheduleForbidHistory: Jobs start on the schedule (moved by
// the injected clock), Forbid skips a time while one runs, status follows,
// and finished Jobs beyond the history limit go.
func TestCronJobScheduleForbidHistory(t *testing.T) {
	ctx := context.Background()
	cs := kubetest.NewClientset()
	clk := clocktesting.NewFakeClock(time.Now())
	startManager(t, cs, clk, "cronjob")
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "default"},
		Spec: batchv1.CronJobSpec{Schedule: "* * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr.To(int32(1)),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}}}
	if _, err := cs.BatchV1().CronJobs("default").Create(ctx, cj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	jobs := func() []batchv1.Job {
		l, err := cs.BatchV1().Jobs("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	cronJob := func() *batchv1.CronJob {
		c, err := cs.BatchV1().CronJobs("default").Get(ctx, "tick", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	complete := func(name string) {
		j, err := cs.BatchV1().Jobs("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		now := metav1.NewTime(clk.Now())
		j.Status.CompletionTime = &now
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now}}
		if _, err := cs.BatchV1().Jobs("default").UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Let the informers and the first sync settle, then pass a minute.
	waitFor(t, "first requeue", func() bool { return clk.HasWaiters() })
	clk.Step(61 * time.Second)
	waitFor(t, "first job", func() bool { return len(jobs()) == 1 })
	first := jobs()[0]
	if ref := metav1.GetControllerOf(&first); ref == nil || ref.Kind != "CronJob" || ref.Name != "tick" {
		t.Errorf("job owner = %+v", ref)
	}
	if first.Annotations[cronJobScheduledTimestamp] == "" {
		t.Errorf("job lacks %s: %v", cronJobScheduledTimestamp, first.Annotations)
	}
	want := fmt.Sprintf("tick-%d", mustParse(t, first.Annotations[cronJobScheduledTimestamp]).Unix()/60)
	if first.Name != want {
		t.Errorf("job name %s, want %s", first.Name, want)
	}
	waitFor(t, "status.active", func() bool {
		c := cronJob()
		return len(c.Status.Active) == 1 && c.Status.LastScheduleTime != nil
	}, func() string { return fmt.Sprintf("%+v", cronJob().Status) })

	// Forbid: the next minute passes while the first Job runs.
	clk.Step(60 * time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := len(jobs()); n != 1 {
		t.Fatalf("Forbid: %d jobs, want 1", n)
	}
	// Once it finishes, the time Forbid skipped starts (it is within no
	// startingDeadlineSeconds), as upstream.
	complete(first.Name)
	waitFor(t, "success recorded, second job", func() bool {
		c := cronJob()
		return c.Status.LastSuccessfulTime != nil && len(c.Status.Active) == 1 && c.Status.Active[0].Name != first.Name && len(jobs()) == 2
	})
	for _, j := range jobs() {
		if j.Name != first.Name {
			complete(j.Name)
		}
	}
	// History limit 1: the older successful Job is deleted.
	waitFor(t, "history limit", func() bool { js := jobs(); return len(js) == 1 && js[0].Name != first.Name })
}

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
