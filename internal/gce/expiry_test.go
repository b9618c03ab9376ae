package gce

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"
)

// TestExpiredOperationIsNotFound: a finished operation stays readable for
// OperationTTL, then the sweep removes it and Google's client gets GCE's
// 404 notFound for it; it is gone from the lists too.
func TestExpiredOperationIsNotFound(t *testing.T) {
	e := newRealEnv(t)
	var skew atomic.Int64
	e.gw.clock = skewClock{&skew}
	svc := e.service(t, e.token)
	p, zone := e.project, "sandbox-simulator-a"
	op, err := svc.Instances.Insert(p, zone, &compute.Instance{Name: "vm1", MachineType: "zones/" + zone + "/machineTypes/n1-standard-1",
		Disks: []*compute.AttachedDisk{{Boot: true, AutoDelete: true, InitializeParams: &compute.AttachedDiskInitializeParams{
			SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	op = waitOp(t, svc, p, op)

	e.gw.sweepOperations(context.Background())
	if _, err := svc.ZoneOperations.Get(p, zone, op.Name).Do(); err != nil {
		t.Fatalf("operation within its TTL: %v", err)
	}
	skew.Store(int64(DefaultOperationTTL + time.Minute))
	e.gw.sweepOperations(context.Background())
	_, err = svc.ZoneOperations.Get(p, zone, op.Name).Do()
	wantAPIError(t, err, 404, "notFound")
	_, err = svc.ZoneOperations.Wait(p, zone, op.Name).Do()
	wantAPIError(t, err, 404, "notFound")
	if list, err := svc.ZoneOperations.List(p, zone).Do(); err != nil || len(list.Items) != 0 {
		t.Fatalf("list after expiry: %+v %v", list, err)
	}
}

// skewClock is the wall clock moved on by a skew the test sets.
type skewClock struct{ skew *atomic.Int64 }

func (c skewClock) Now() time.Time                  { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c skewClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
