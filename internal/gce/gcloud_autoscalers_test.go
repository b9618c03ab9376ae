package gce

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestGcloudAutoscaling: `instance-groups managed set-autoscaling` puts an
// autoscaler on a group, which sizes it from the members' simulated CPU
// use (down to its minimum); `describe` shows it and `stop-autoscaling`
// takes it away.
func TestGcloudAutoscaling(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	const zone = "sandbox-simulator-a"
	g := newGcloud(t, e, zone)
	svc, p := e.service(t, e.token), e.project
	g.ok("compute", "instance-templates", "create", "t1", "--machine-type", "e2-small")
	g.ok("compute", "instance-groups", "managed", "create", "g1", "--template", "t1", "--size", "2")

	// waitSize runs the group reconciler (not started in tests) until the
	// group's target size is want.
	waitSize := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			e.gw.reconcileGroups(context.Background())
			grp, err := svc.InstanceGroupManagers.Get(p, zone, "g1").Do()
			if err != nil {
				t.Fatal(err)
			}
			if grp.TargetSize == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("group target size %d, want %d", grp.TargetSize, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	g.ok("compute", "instance-groups", "managed", "set-autoscaling", "g1", "--max-num-replicas", "4", "--min-num-replicas", "1",
		"--target-cpu-utilization", "0.5")
	waitSize(1)
	mustContain(t, "managed describe", g.ok("compute", "instance-groups", "managed", "describe", "g1"), "maxNumReplicas: 4", "utilizationTarget: 0.5")
	mustContain(t, "autoscalers in managed list", g.ok("compute", "instance-groups", "managed", "list", "--format", "value(name,autoscaled)"), "g1", "yes")
	g.ok("compute", "instance-groups", "managed", "stop-autoscaling", "g1")
	if l, err := svc.Autoscalers.List(p, zone).Do(); err != nil || len(l.Items) != 0 {
		t.Fatalf("autoscalers after stop-autoscaling: %v %+v", err, l)
	}
	out := g.ok("compute", "instance-groups", "managed", "describe", "g1")
	if strings.Contains(out, "autoscaler") {
		t.Fatalf("describe after stop-autoscaling:\n%s", out)
	}
}
