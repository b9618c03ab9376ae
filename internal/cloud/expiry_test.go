package cloud

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// TestExpiryDefaults moves an injected clock through CloudStack's default
// schedules: completed jobs go after job.expire.minutes (1440), a
// destroyed VM is expunged after expunge.delay at the next expunge.interval
// run, and events go after event.purge.delay (15 days).
func TestExpiryDefaults(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n"
	s := start(t, memory.New(memory.Options{}), y, clock)
	waitPending(t, clock, 1) // the expiry loop
	zone, so, tpl := ids(s)
	ctx := context.Background()
	vm, deploy, err := s.DeployVM(ctx, s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, deploy.ID)
	destroy, err := s.DestroyVM(ctx, s.Admin(), vm.ID, false, "destroy")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, destroy.ID)
	if vmState(s, vm.ID) != VMDestroyed {
		t.Fatalf("vm %s, want Destroyed", vmState(s, vm.ID))
	}
	if c := s.Counts(); c.Jobs != 2 || c.Events == 0 {
		t.Fatalf("counts after destroy: %+v", c)
	}

	// Just before the expiry nothing is removed.
	advance(t, clock, DefaultJobExpire-time.Minute)
	if _, err := s.Job(s.Admin(), deploy.ID); err != nil {
		t.Fatalf("job removed before job.expire.minutes: %v", err)
	}
	if vmState(s, vm.ID) != VMDestroyed {
		t.Fatalf("vm expunged before expunge.interval: %s", vmState(s, vm.ID))
	}
	// The next job sweep after 1440 minutes removes both jobs; the first
	// expunge run (86400 s after start) expunges the VM.
	advance(t, clock, 2*time.Minute)
	testenv.Eventually(t, 10*time.Second, "jobs expired", func() bool {
		_, err := s.Job(s.Admin(), deploy.ID)
		var nf *NotFoundError
		return errors.As(err, &nf) && s.Counts().Jobs == 0
	})
	testenv.Eventually(t, 10*time.Second, "VM expunged", func() bool { return vmState(s, vm.ID) == "" })
	events := s.Counts().Events
	if events == 0 {
		t.Fatal("no events before the purge")
	}
	// Events live 15 days, then go at the next daily purge.
	advance(t, clock, DefaultEventPurgeDelay+DefaultEventPurgeInterval)
	testenv.Eventually(t, 10*time.Second, "events purged", func() bool { return s.Counts().Events == 0 })
}

// TestExpiryNeverWhenNegative: a negative setting keeps records (CloudStack's 0).
func TestExpiryNeverWhenNegative(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\nsimulator: {expiry: {jobs: -1s, events: -1s, expungeDelay: -1s}}\n"
	s := start(t, memory.New(memory.Options{}), y, clock)
	waitPending(t, clock, 1)
	zone, so, tpl := ids(s)
	vm, deploy, err := s.DeployVM(context.Background(), s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, deploy.ID)
	destroy, err := s.DestroyVM(context.Background(), s.Admin(), vm.ID, false, "destroy")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, destroy.ID)
	before := s.Counts()
	for range 3 {
		advance(t, clock, 30*24*time.Hour)
	}
	if after := s.Counts(); after != before || vmState(s, vm.ID) != VMDestroyed {
		t.Fatalf("counts %+v -> %+v, vm %s: want nothing removed", before, after, vmState(s, vm.ID))
	}
}

func TestExpirySpecValidate(t *testing.T) {
	for _, tc := range []struct {
		y    string
		fail bool
	}{
		{"simulator: {expiry: {jobs: 10s, jobSweepInterval: 1s}}\n", false},
		{"simulator: {expiry: {eventPurgeInterval: -1s}}\n", true},
		{"simulator: {expiry: {nosuch: 1s}}\n", true},
	} {
		_, err := ParseDatacenter([]byte(smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" + tc.y))
		if (err != nil) != tc.fail {
			t.Errorf("%q: err %v, want failure %v", tc.y, err, tc.fail)
		}
	}
}

// advance moves the clock once the expiry loop waits on it, and waits
// until the loop waits again (its sweeps done).
func advance(t *testing.T, c *fakeClock, d time.Duration) {
	t.Helper()
	waitPending(t, c, 1)
	c.Advance(d)
	waitPending(t, c, 1)
}
