package gce

import (
	"net/http"
	"testing"

	compute "google.golang.org/api/compute/v1"
)

// TestGoClientDisks drives disks with Google's compute/v1 client: insert
// (a fixed offering's size and a custom one), get, aggregatedList,
// attachDisk and detachDisk, snapshots, and GCE's error reasons.
func TestGoClientDisks(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p, zone := e.project, "sandbox-simulator-a"

	for _, d := range []*compute.Disk{{Name: "small", SizeGb: 5}, {Name: "odd", SizeGb: 7}} {
		waitOp(t, svc, p, mustOp(t)(svc.Disks.Insert(p, zone, d).Do()))
	}
	_, err := svc.Disks.Insert(p, zone, &compute.Disk{Name: "odd", SizeGb: 7}).Do()
	wantAPIError(t, err, http.StatusConflict, "alreadyExists")
	_, err = svc.Disks.Insert(p, zone, &compute.Disk{Name: "Bad_Name"}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	_, err = svc.Disks.Get(p, zone, "nosuch").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
	d, err := svc.Disks.Get(p, zone, "odd").Do()
	if err != nil || d.SizeGb != 7 || d.Status != "READY" || len(d.Users) != 0 {
		t.Fatalf("get: %v %+v", err, d)
	}

	waitOp(t, svc, p, mustOp(t)(svc.Instances.Insert(p, zone, &compute.Instance{Name: "vm1", MachineType: "zones/" + zone + "/machineTypes/small",
		Disks: []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}}).Do()))
	for _, name := range []string{"small", "odd"} {
		waitOp(t, svc, p, mustOp(t)(svc.Instances.AttachDisk(p, zone, "vm1", &compute.AttachedDisk{Source: "zones/" + zone + "/disks/" + name}).Do()))
	}
	inst, err := svc.Instances.Get(p, zone, "vm1").Do()
	if err != nil || len(inst.Disks) != 3 || inst.Disks[2].DeviceName != "persistent-disk-2" || inst.Disks[2].Index != 2 {
		t.Fatalf("instance disks: %v %+v", err, inst)
	}
	_, err = svc.Disks.Delete(p, zone, "odd").Do()
	wantAPIError(t, err, http.StatusBadRequest, "resourceInUseByAnotherResource")
	_, err = svc.Disks.Delete(p, zone, "vm1").Do()
	wantAPIError(t, err, http.StatusBadRequest, "resourceInUseByAnotherResource")
	agg, err := svc.Disks.AggregatedList(p).Do()
	if err != nil || len(agg.Items["zones/"+zone].Disks) != 3 {
		t.Fatalf("aggregated: %v %+v", err, agg)
	}

	waitOp(t, svc, p, mustOp(t)(svc.Disks.CreateSnapshot(p, zone, "odd", &compute.Snapshot{Name: "snap1"}).Do()))
	s, err := svc.Snapshots.Get(p, "snap1").Do()
	if err != nil || s.DiskSizeGb != 7 || s.Status != "READY" {
		t.Fatalf("snapshot: %v %+v", err, s)
	}
	_, err = svc.Instances.DetachDisk(p, zone, "vm1", "persistent-disk-9").Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	waitOp(t, svc, p, mustOp(t)(svc.Instances.DetachDisk(p, zone, "vm1", "persistent-disk-2").Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Disks.Delete(p, zone, "odd").Do()))
	waitOp(t, svc, p, mustOp(t)(svc.Snapshots.Delete(p, "snap1").Do()))
	l, err := svc.Disks.List(p, zone).Do()
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("disks left: %v %+v", err, l)
	}
}

// mustOp fails the test on a call's error and returns its operation.
func mustOp(t *testing.T) func(*compute.Operation, error) *compute.Operation {
	return func(op *compute.Operation, err error) *compute.Operation {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
}
