package gce

import (
	"context"
	"net/http"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"
)

// TestGoClientAutoscalers: an autoscaler sizes its managed group from the
// members' simulated CPU use (10% each, under a 60% target: the minimum),
// a patch of its minimum grows the group again, and GCE's refusals
// change nothing.
func TestGoClientAutoscalers(t *testing.T) {
	e := newRealEnv(t)
	svc, p, zone := e.service(t, e.token), e.project, "sandbox-simulator-a"
	boot := []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}
	waitOp(t, svc, p, mustOp(t)(svc.InstanceTemplates.Insert(p, &compute.InstanceTemplate{Name: "t1",
		Properties: &compute.InstanceProperties{MachineType: "e2-small", Disks: boot}}).Do()))
	waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Insert(p, zone, &compute.InstanceGroupManager{Name: "g1", BaseInstanceName: "web",
		InstanceTemplate: "global/instanceTemplates/t1", TargetSize: 3}).Do()))

	// settle runs the group reconciler (its background loop is not started
	// here) until the group has want running members and no other.
	settle := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			e.gw.reconcileGroups(context.Background())
			g, err := svc.InstanceGroupManagers.Get(p, zone, "g1").Do()
			if err != nil {
				t.Fatal(err)
			}
			mis, err := svc.InstanceGroupManagers.ListManagedInstances(p, zone, "g1").Do()
			if err != nil {
				t.Fatal(err)
			}
			running := int64(0)
			for _, mi := range mis.ManagedInstances {
				if mi.InstanceStatus == "RUNNING" && mi.CurrentAction == "NONE" {
					running++
				}
			}
			if g.TargetSize == want && running == want && int64(len(mis.ManagedInstances)) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("group: target %d, members %+v; want %d", g.TargetSize, mis.ManagedInstances, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	settle(3)

	target := "zones/" + zone + "/instanceGroupManagers/g1"
	waitOp(t, svc, p, mustOp(t)(svc.Autoscalers.Insert(p, zone, &compute.Autoscaler{Name: "as1", Target: target,
		AutoscalingPolicy: &compute.AutoscalingPolicy{MaxNumReplicas: 5, MinNumReplicas: 1}}).Do()))
	as, err := svc.Autoscalers.Get(p, zone, "as1").Do()
	if err != nil || as.AutoscalingPolicy.CpuUtilization == nil || as.AutoscalingPolicy.CpuUtilization.UtilizationTarget != 0.6 ||
		as.AutoscalingPolicy.CoolDownPeriodSec != 60 || as.AutoscalingPolicy.Mode != "ON" || lastSegment(as.Target) != "g1" {
		t.Fatalf("autoscaler: %v %+v", err, as)
	}
	settle(1)
	if as, err := svc.Autoscalers.Get(p, zone, "as1").Do(); err != nil || as.RecommendedSize != 1 {
		t.Fatalf("recommended size: %v %+v", err, as)
	}

	for _, tc := range []struct {
		name   string
		as     *compute.Autoscaler
		code   int
		reason string
	}{
		{"second for the group", &compute.Autoscaler{Name: "as2", Target: target, AutoscalingPolicy: &compute.AutoscalingPolicy{MaxNumReplicas: 2}}, http.StatusBadRequest, "resourceInUseByAnotherResource"},
		{"no maximum", &compute.Autoscaler{Name: "as2", Target: target, AutoscalingPolicy: &compute.AutoscalingPolicy{MinNumReplicas: 1}}, http.StatusBadRequest, "invalid"},
		{"minimum above maximum", &compute.Autoscaler{Name: "as2", Target: target, AutoscalingPolicy: &compute.AutoscalingPolicy{MinNumReplicas: 4, MaxNumReplicas: 2}}, http.StatusBadRequest, "invalid"},
		{"bad mode", &compute.Autoscaler{Name: "as2", Target: target, AutoscalingPolicy: &compute.AutoscalingPolicy{MaxNumReplicas: 2, Mode: "SOMETIMES"}}, http.StatusBadRequest, "invalid"},
		{"no group", &compute.Autoscaler{Name: "as2", Target: "zones/" + zone + "/instanceGroupManagers/nosuch", AutoscalingPolicy: &compute.AutoscalingPolicy{MaxNumReplicas: 2}}, http.StatusNotFound, "notFound"},
		{"same name", &compute.Autoscaler{Name: "as1", Target: target, AutoscalingPolicy: &compute.AutoscalingPolicy{MaxNumReplicas: 2}}, http.StatusBadRequest, "resourceInUseByAnotherResource"},
	} {
		_, err := svc.Autoscalers.Insert(p, zone, tc.as).Do()
		wantAPIError(t, err, tc.code, tc.reason)
	}
	if l, err := svc.Autoscalers.List(p, zone).Do(); err != nil || len(l.Items) != 1 {
		t.Fatalf("list: %v %+v", err, l)
	}
	if agg, err := svc.Autoscalers.AggregatedList(p).Do(); err != nil || len(agg.Items["zones/"+zone].Autoscalers) != 1 {
		t.Fatalf("aggregated: %v %+v", err, agg)
	}

	waitOp(t, svc, p, mustOp(t)(svc.Autoscalers.Patch(p, zone, &compute.Autoscaler{
		AutoscalingPolicy: &compute.AutoscalingPolicy{MinNumReplicas: 2}}).Autoscaler("as1").Do()))
	settle(2)
	if as, err := svc.Autoscalers.Get(p, zone, "as1").Do(); err != nil || as.AutoscalingPolicy.MinNumReplicas != 2 || as.AutoscalingPolicy.MaxNumReplicas != 5 {
		t.Fatalf("patched: %v %+v", err, as)
	}

	waitOp(t, svc, p, mustOp(t)(svc.Autoscalers.Delete(p, zone, "as1").Do()))
	_, err = svc.Autoscalers.Get(p, zone, "as1").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
	// Without its autoscaler the group keeps the size it was given.
	waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Resize(p, zone, "g1", 3).Do()))
	settle(3)
}
