package gce

import (
	"net/http"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestGoClientInstanceSettingsAndGroups drives, with Google's compute/v1
// client, the instance settings (setMachineType, setDeletionProtection,
// setScheduling, suspend, resume), disks.resize, an instance template and
// a managed instance group: the wire types decode and the refusals carry
// GCE's codes and reasons.
func TestGoClientInstanceSettingsAndGroups(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p, zone := e.project, "sandbox-simulator-a"
	boot := []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}

	waitOp(t, svc, p, mustOp(t)(svc.Instances.Insert(p, zone, &compute.Instance{Name: "vm1", MachineType: "zones/" + zone + "/machineTypes/e2-small", Disks: boot}).Do()))
	_, err := svc.Instances.SetMachineType(p, zone, "vm1", &compute.InstancesSetMachineTypeRequest{MachineType: "zones/" + zone + "/machineTypes/e2-medium"}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	waitOp(t, svc, p, mustOp(t)(svc.Instances.Stop(p, zone, "vm1").Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Instances.SetMachineType(p, zone, "vm1", &compute.InstancesSetMachineTypeRequest{MachineType: "zones/" + zone + "/machineTypes/e2-medium"}).Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Instances.SetScheduling(p, zone, "vm1", &compute.Scheduling{Preemptible: true, AutomaticRestart: new(bool), OnHostMaintenance: "TERMINATE"}).Do()))
	_, err = svc.Instances.SetScheduling(p, zone, "vm1", &compute.Scheduling{OnHostMaintenance: "MIGRATE"}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	waitOp(t, svc, p, mustOp(t)(svc.Instances.Start(p, zone, "vm1").Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Instances.SetDeletionProtection(p, zone, "vm1").Do()))
	inst, err := svc.Instances.Get(p, zone, "vm1").Do()
	if err != nil || !inst.DeletionProtection || !inst.Scheduling.Preemptible || *inst.Scheduling.AutomaticRestart || lastSegment(inst.MachineType) != "e2-medium" {
		t.Fatalf("instance: %v %+v", err, inst)
	}
	_, err = svc.Instances.Delete(p, zone, "vm1").Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	waitOp(t, svc, p, mustOp(t)(svc.Instances.SetDeletionProtection(p, zone, "vm1").DeletionProtection(false).Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Instances.Suspend(p, zone, "vm1").Do()))
	if inst, err = svc.Instances.Get(p, zone, "vm1").Do(); err != nil || inst.Status != "SUSPENDED" {
		t.Fatalf("suspended: %v %+v", err, inst)
	}
	waitOp(t, svc, p, mustOp(t)(svc.Instances.Resume(p, zone, "vm1").Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Disks.Resize(p, zone, "vm1", &compute.DisksResizeRequest{SizeGb: 40}).Do()))
	if d, err := svc.Disks.Get(p, zone, "vm1").Do(); err != nil || d.SizeGb != 40 {
		t.Fatalf("resized: %v %+v", err, d)
	}
	_, err = svc.Disks.Resize(p, zone, "vm1", &compute.DisksResizeRequest{SizeGb: 10}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	waitOp(t, svc, p, mustOp(t)(svc.Instances.Delete(p, zone, "vm1").Do()))

	tmpl := &compute.InstanceTemplate{Name: "t1", Properties: &compute.InstanceProperties{MachineType: "e2-small", Disks: boot,
		Labels: map[string]string{"app": "web"}}}
	waitOp(t, svc, p, mustOp(t)(svc.InstanceTemplates.Insert(p, tmpl).Do()))
	_, err = svc.InstanceTemplates.Insert(p, tmpl).Do()
	wantAPIError(t, err, http.StatusConflict, "alreadyExists")
	got, err := svc.InstanceTemplates.Get(p, "t1").Do()
	if err != nil || got.Properties.MachineType != "e2-small" || got.Properties.Labels["app"] != "web" {
		t.Fatalf("template: %v %+v", err, got)
	}
	aggT, err := svc.InstanceTemplates.AggregatedList(p).Do()
	if err != nil || len(aggT.Items["global"].InstanceTemplates) != 1 {
		t.Fatalf("aggregated templates: %v %+v", err, aggT)
	}

	waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Insert(p, zone, &compute.InstanceGroupManager{Name: "g1", BaseInstanceName: "web",
		InstanceTemplate: "global/instanceTemplates/t1", TargetSize: 2}).Do()))
	_, err = svc.InstanceTemplates.Delete(p, "t1").Do()
	wantAPIError(t, err, http.StatusBadRequest, "resourceInUseByAnotherResource")
	_, err = svc.InstanceGroupManagers.Resize(p, zone, "g1", -1).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Resize(p, zone, "g1", 3).Do()))
	deadline := time.Now().Add(30 * time.Second)
	for {
		mis, err := svc.InstanceGroupManagers.ListManagedInstances(p, zone, "g1").Do()
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, mi := range mis.ManagedInstances {
			if mi.InstanceStatus == "RUNNING" && mi.CurrentAction == "NONE" && mi.Id != 0 {
				running++
			}
		}
		if running == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group members: %+v", mis.ManagedInstances)
		}
		// The reconciler runs on each change; the background one is not
		// started here, so a change moves the members along.
		waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Resize(p, zone, "g1", 3).Do()))
	}
	mis, err := svc.InstanceGroupManagers.ListManagedInstances(p, zone, "g1").Do()
	if err != nil || len(mis.ManagedInstances) != 3 {
		t.Fatalf("members: %v %+v", err, mis)
	}
	member, err := svc.Instances.Get(p, zone, lastSegment(mis.ManagedInstances[0].Instance)).Do()
	if err != nil {
		t.Fatal(err)
	}
	md := map[string]string{}
	for _, it := range member.Metadata.Items {
		md[it.Key] = *it.Value
	}
	if md["created-by"] != "projects/"+p+"/zones/"+zone+"/instanceGroupManagers/g1" || md["instance-template"] != "projects/"+p+"/global/instanceTemplates/t1" {
		t.Fatalf("member metadata: %v", md)
	}
	mig, err := svc.InstanceGroupManagers.Get(p, zone, "g1").Do()
	if err != nil || mig.TargetSize != 3 || mig.BaseInstanceName != "web" || !mig.Status.IsStable || mig.CurrentActions.None != 3 {
		t.Fatalf("group: %v %+v", err, mig)
	}
	aggG, err := svc.InstanceGroupManagers.AggregatedList(p).Do()
	if err != nil || len(aggG.Items["zones/"+zone].InstanceGroupManagers) != 1 {
		t.Fatalf("aggregated groups: %v %+v", err, aggG)
	}
	ig, err := svc.InstanceGroups.Get(p, zone, "g1").Do()
	if err != nil || ig.Size != 3 {
		t.Fatalf("instance group: %v %+v", err, ig)
	}
	igi, err := svc.InstanceGroups.ListInstances(p, zone, "g1", &compute.InstanceGroupsListInstancesRequest{}).Do()
	if err != nil || len(igi.Items) != 3 || igi.Items[0].Status != "RUNNING" {
		t.Fatalf("instance group's instances: %v %+v", err, igi)
	}
	waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Delete(p, zone, "g1").Do()))
	_, err = svc.InstanceGroupManagers.Get(p, zone, "g1").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}

// TestGoClientGroupCreateFailure: a member the zone has no room for stays
// CREATING with the create's error as its last attempt, and is not tried
// again before groupRetryDelay (one failed operation, not one a round).
func TestGoClientGroupCreateFailure(t *testing.T) {
	dc, err := cloud.LoadDatacenter("")
	if err != nil {
		t.Fatal(err)
	}
	for ci := range dc.Zones[0].Pods[0].Clusters {
		for hi := range dc.Zones[0].Pods[0].Clusters[ci].Hosts {
			h := &dc.Zones[0].Pods[0].Clusters[ci].Hosts[hi]
			h.CPUs, h.Memory = 4, 8192
		}
	}
	cs := cstest.Start(t, cstest.Options{Datacenter: dc})
	e := newEnv(t, cs.URL, cs.APIKey, cs.SecretKey, cs.HTTP.Client())
	svc := e.service(t, e.token)
	p, zone := e.project, "sandbox-simulator-a"
	waitOp(t, svc, p, mustOp(t)(svc.InstanceTemplates.Insert(p, &compute.InstanceTemplate{Name: "big", Properties: &compute.InstanceProperties{MachineType: "huge",
		Disks: []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/debian-12"}}}}}).Do()))
	waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Insert(p, zone, &compute.InstanceGroupManager{Name: "g1",
		InstanceTemplate: "global/instanceTemplates/big", TargetSize: 1}).Do()))
	var mi *compute.ManagedInstance
	for range 20 {
		waitOp(t, svc, p, mustOp(t)(svc.InstanceGroupManagers.Resize(p, zone, "g1", 1).Do()))
		mis, err := svc.InstanceGroupManagers.ListManagedInstances(p, zone, "g1").Do()
		if err != nil || len(mis.ManagedInstances) != 1 {
			t.Fatalf("members: %v %+v", err, mis)
		}
		mi = mis.ManagedInstances[0]
	}
	if mi.CurrentAction != "CREATING" || mi.LastAttempt == nil || mi.LastAttempt.Errors == nil ||
		mi.LastAttempt.Errors.Errors[0].Code != "ZONE_RESOURCE_POOL_EXHAUSTED" {
		t.Fatalf("member: %+v %+v", mi, mi.LastAttempt)
	}
	ops, err := svc.ZoneOperations.List(p, zone).Filter("operationType eq insert").Do()
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, op := range ops.Items {
		if op.Error != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d failed inserts, want 1 (retried before groupRetryDelay)", failed)
	}
}
