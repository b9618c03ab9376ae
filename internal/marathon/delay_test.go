package marathon_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/marathon"
	"github.com/stratus-cloud/stratus/internal/marathon/marathontest"
	rtexec "github.com/stratus-cloud/stratus/internal/runtime/exec"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

type queueItem struct {
	App   struct{ ID string }
	Count int
	Delay struct {
		TimeLeftSeconds int64
		Overdue         bool
	}
}

// TestLaunchBackoff: a task that keeps failing (a process that exits 3)
// is launched again after backoffSeconds, then after a delay growing by
// backoffFactor up to maxLaunchDelaySeconds; /v2/queue shows the app and
// its delay; DELETE /v2/queue/{app}/delay launches it at once; a config
// change starts again from backoffSeconds.
func TestLaunchBackoff(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 1, Runtime: rtexec.New(rtexec.Options{Dir: t.TempDir()})})
	ctx := context.Background()
	if code, b := call(t, c, "POST", "/v2/apps", map[string]any{"id": "/crash", "cmd": "exit 3", "cpus": 0.01, "mem": 16,
		"backoffSeconds": 1, "backoffFactor": 2, "maxLaunchDelaySeconds": 3}, nil); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	// The times at which the task failed, from its pod's restart count
	// (a restart count of n is the failure after n launches again).
	// (of the newest pod).
	restarts := func() (int32, string) {
		pods, err := c.Kube.CoreV1().Pods(marathon.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) == 0 {
			return -1, ""
		}
		p := pods.Items[0]
		for _, q := range pods.Items {
			if p.CreationTimestamp.Before(&q.CreationTimestamp) {
				p = q
			}
		}
		if len(p.Status.ContainerStatuses) != 1 {
			return -1, string(p.UID)
		}
		return p.Status.ContainerStatuses[0].RestartCount, string(p.UID)
	}
	var launches []time.Time // when the restart count grew
	last := int32(0)
	sawDelay := false
	deadline := time.Now().Add(60 * time.Second)
	for len(launches) < 4 && time.Now().Before(deadline) {
		if n, _ := restarts(); n > last {
			for range n - last {
				launches = append(launches, time.Now())
			}
			last = n
		}
		var q struct{ Queue []queueItem }
		call(t, c, "GET", "/v2/queue", nil, &q)
		for _, it := range q.Queue {
			if it.App.ID == "/crash" && it.Count == 1 && !it.Delay.Overdue && it.Delay.TimeLeftSeconds <= 3 {
				sawDelay = true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(launches) < 4 {
		t.Fatalf("%d launches again in 60 s", len(launches))
	}
	if !sawDelay {
		t.Error("/v2/queue never showed the app with a delay to come")
	}
	// Delays 1, 2, 3 (capped), 3 s: the gaps between relaunches grow
	// from about 2 s to about 3 s (a failure follows its launch at
	// once). Bounds are loose: the machine may be loaded.
	gaps := []time.Duration{launches[1].Sub(launches[0]), launches[2].Sub(launches[1]), launches[3].Sub(launches[2])}
	t.Logf("relaunch gaps: %v", gaps)
	want := []time.Duration{2 * time.Second, 3 * time.Second, 3 * time.Second}
	for i, g := range gaps {
		if g < want[i]-300*time.Millisecond || g > want[i]+3*time.Second {
			t.Errorf("gap %d: %v, want about %v", i, g, want[i])
		}
	}

	// The delay reset: launched at once, not after 3 s.
	testenv.Eventually(t, 10*time.Second, "the task waiting in the queue", func() bool {
		var q struct{ Queue []queueItem }
		call(t, c, "GET", "/v2/queue", nil, &q)
		return len(q.Queue) == 1 && !q.Queue[0].Delay.Overdue && q.Queue[0].Delay.TimeLeftSeconds >= 1
	})
	before, _ := restarts()
	reset := time.Now()
	if code, b := call(t, c, "DELETE", "/v2/queue/crash/delay", nil, nil); code != 204 {
		t.Fatalf("reset delay: %d %s", code, b)
	}
	testenv.Eventually(t, 10*time.Second, "a launch after the reset", func() bool { n, _ := restarts(); return n > before })
	if took := time.Since(reset); took > 1500*time.Millisecond {
		t.Errorf("launched %v after the reset", took)
	}
	if code, b := call(t, c, "DELETE", "/v2/queue/nothing/delay", nil, nil); code != 404 || string(b) != `{"message":"Application /nothing not found in tasks queue."}` {
		t.Errorf("reset of an app not in the queue: %d %s", code, b)
	}

	// A config change: a new task, whose first relaunch is after
	// backoffSeconds again.
	_, uid := restarts()
	if code, b := call(t, c, "PUT", "/v2/apps/crash?force=true", map[string]any{"env": map[string]string{"V": "2"}}, nil); code != 200 {
		t.Fatalf("update: %d %s", code, b)
	}
	// The old task stays (the new one never becomes healthy, and the
	// upgrade strategy keeps full capacity).
	var created time.Time
	testenv.Eventually(t, 20*time.Second, "the new task's first relaunch", func() bool {
		n, u := restarts()
		if u != "" && u != uid && created.IsZero() {
			created = time.Now()
		}
		return u != uid && n == 1
	})
	if took := time.Since(created); took > 2500*time.Millisecond {
		t.Errorf("the new version's first relaunch took %v, want about backoffSeconds (1 s)", took)
	}
}
