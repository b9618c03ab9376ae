package gomarathon

import (
	"strings"
	"testing"
	"time"

	marathon "github.com/gambol99/go-marathon"

	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
	rtexec "github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestGoMarathonBackoff: a task that keeps failing (a process exiting 3,
// under the exec runtime) waits in the launch queue for its delay, which
// go-marathon's Queue reads and DeleteQueueDelay resets; the failure
// reaches the event stream as TASK_FAILED.
func TestGoMarathonBackoff(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 1, Runtime: rtexec.New(rtexec.Options{Dir: t.TempDir()})})
	m := client(t, c, c.Username, c.Password)
	ch, err := m.AddEventsListener(marathon.EventIDStatusUpdate)
	if err != nil {
		t.Fatal(err)
	}
	defer m.RemoveEventsListener(ch)
	ev := &events{status: map[string][]string{}, done: map[string]bool{}}
	go ev.collect(ch)

	app := marathon.NewDockerApplication().Name("/crash")
	app.Container = nil
	app.Command("exit 3").CPU(0.01).Memory(16).Count(1)
	app.BackoffSeconds = ptr(4.0)
	app.BackoffFactor = ptr(2.0)
	app.MaxLaunchDelaySeconds = ptr(60.0)
	if _, err := m.CreateApplication(app); err != nil {
		t.Fatal(err)
	}
	queued := func(min int) *marathon.Item {
		q, err := m.Queue()
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range q.Items {
			if it.Application.ID == "/crash" && it.Count == 1 && !it.Delay.Overdue && it.Delay.TimeLeftSeconds >= min {
				return &q.Items[i]
			}
		}
		return nil
	}
	testenv.Eventually(t, timeout, "the failed task in the queue", func() bool { return queued(1) != nil })
	if it := queued(0); it == nil || it.Delay.TimeLeftSeconds > 4 || it.Application.BackoffSeconds == nil || *it.Application.BackoffSeconds != 4 {
		t.Fatalf("queue item: %+v", it)
	}
	// After the 4 s the task fails again: 8 s.
	testenv.Eventually(t, timeout, "the delay grown to 8 s", func() bool { return queued(5) != nil })
	if it := queued(0); it == nil || it.Delay.TimeLeftSeconds > 8 {
		t.Fatalf("grown delay: %+v", it)
	}
	before := time.Now()
	if err := m.DeleteQueueDelay("/crash"); err != nil {
		t.Fatalf("DeleteQueueDelay: %v", err)
	}
	// Launched at once, failed again, and the delay starts over at 4 s.
	testenv.Eventually(t, timeout, "the delay started over", func() bool {
		it := queued(1)
		return it != nil && it.Delay.TimeLeftSeconds <= 4
	})
	if took := time.Since(before); took > 3*time.Second {
		t.Errorf("relaunched %v after the reset", took)
	}
	if err := m.DeleteQueueDelay("/nothing"); apiCode(err) != marathon.ErrCodeNotFound || !strings.Contains(err.Error(), "Application /nothing not found in tasks queue.") {
		t.Fatalf("reset of an app not in the queue: %v", err)
	}
	testenv.Eventually(t, timeout, "TASK_FAILED on the event stream", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, states := range ev.status {
			for _, s := range states {
				if s == "TASK_FAILED" {
					return true
				}
			}
		}
		return false
	})
}

func ptr[T any](v T) *T { return &v }
