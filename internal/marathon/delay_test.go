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
// is replaced by a new task (a new pod) after backoffSeconds, then after
// a delay growing by backoffFactor up to maxLaunchDelaySeconds;
// /v2/queue shows the app and its delay; DELETE /v2/queue/{app}/delay
// launches it at once; a config change starts again from backoffSeconds.
func TestLaunchBackoff(t *testing.T) {
	c := marathontest.Start(t, marathontest.Options{Nodes: 1, Runtime: rtexec.New(rtexec.Options{Dir: t.TempDir()})})
	ctx := context.Background()
	if code, b := call(t, c, "POST", "/v2/apps", map[string]any{"id": "/crash", "cmd": "exit 3", "cpus": 0.01, "mem": 16,
		"backoffSeconds": 1, "backoffFactor": 2, "maxLaunchDelaySeconds": 3}, nil); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	// Every launch is a new pod: seen holds when each was first seen,
	// and by which config version.
	type launch struct {
		at      time.Time
		version string
	}
	seen := map[string]launch{}
	var order []string
	poll := func() {
		pods, err := c.Kube.CoreV1().Pods(marathon.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return
		}
		for _, p := range pods.Items {
			if _, ok := seen[string(p.UID)]; !ok {
				seen[string(p.UID)] = launch{time.Now(), p.Annotations["marathon.stratus.io/version"]}
				order = append(order, string(p.UID))
			}
		}
	}
	launches := func() int { return len(order) - 1 } // launches again
	sawDelay := false
	deadline := time.Now().Add(60 * time.Second)
	for launches() < 5 && time.Now().Before(deadline) {
		poll()
		var q struct{ Queue []queueItem }
		call(t, c, "GET", "/v2/queue", nil, &q)
		for _, it := range q.Queue {
			if it.App.ID == "/crash" && it.Count == 1 && !it.Delay.Overdue && it.Delay.TimeLeftSeconds <= 3 {
				sawDelay = true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if launches() < 5 {
		t.Fatalf("%d launches again in 60 s", launches())
	}
	if !sawDelay {
		t.Error("/v2/queue never showed the app with a delay to come")
	}
	// Delays 1, 2, 3 (capped), 3 s: the gaps between relaunches grow
	// from about 2 s to about 3 s (a failure follows its launch at
	// once). Bounds are loose: the machine may be loaded.
	at := func(i int) time.Time { return seen[order[i]].at }
	gaps := []time.Duration{at(2).Sub(at(1)), at(3).Sub(at(2)), at(4).Sub(at(3))}
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
	poll()
	before := launches()
	reset := time.Now()
	if code, b := call(t, c, "DELETE", "/v2/queue/crash/delay", nil, nil); code != 204 {
		t.Fatalf("reset delay: %d %s", code, b)
	}
	testenv.Eventually(t, 10*time.Second, "a launch after the reset", func() bool { poll(); return launches() > before })
	if took := time.Since(reset); took > 1500*time.Millisecond {
		t.Errorf("launched %v after the reset", took)
	}
	if code, b := call(t, c, "DELETE", "/v2/queue/nothing/delay", nil, nil); code != 404 || string(b) != `{"message":"Application /nothing not found in tasks queue."}` {
		t.Errorf("reset of an app not in the queue: %d %s", code, b)
	}

	// A config change: a new task, whose first relaunch is after
	// backoffSeconds again.
	poll()
	old := seen[order[len(order)-1]].version
	if code, b := call(t, c, "PUT", "/v2/apps/crash?force=true", map[string]any{"env": map[string]string{"V": "2"}}, nil); code != 200 {
		t.Fatalf("update: %d %s", code, b)
	}
	var created time.Time
	testenv.Eventually(t, 20*time.Second, "the new version's first relaunch", func() bool {
		poll()
		n := 0
		for _, uid := range order {
			if l := seen[uid]; l.version != old {
				if n++; n == 1 {
					created = l.at
				}
			}
		}
		return n >= 2
	})
	if took := time.Since(created); took > 2900*time.Millisecond { // a 3 s delay would take longer
		t.Errorf("the new version's first relaunch took %v, want about backoffSeconds (1 s)", took)
	}
}
