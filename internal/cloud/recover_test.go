package cloud

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

const timedDC = smallDC + "templates: [{name: t1, osType: Other, size: 1}]\nsimulator: {timings: {start: 30s, stop: 10s, migrate: 20s}}\n"

// startAs starts a simulator of timedDC with a server id on st.
func startAs(t *testing.T, st store.Store, id string, clock Clock) *Sim {
	t.Helper()
	fc, _ := clock.(*fakeClock)
	base := 0
	if fc != nil {
		base = fc.pending()
	}
	s := startWith(t, st, timedDC, id, clock)
	if fc != nil {
		waitTimer(t, fc, base+1) // the expiry loop waits on the clock from the start
	}
	return s
}

// waitTimer waits until n timers wait on the clock. Callers count from
// what waited before their command: the expiry loop always waits too.
func waitTimer(t *testing.T, c *fakeClock, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.pending() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs waiting on the clock, want %d", c.pending(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkCapacity fails unless every host's used capacity is what its VMs hold.
func checkCapacity(t *testing.T, s *Sim) {
	t.Helper()
	s.read(func(ix *index) {
		mem, n := map[string]int64{}, map[string]int{}
		for _, vm := range ix.vms.all() {
			so, _ := ix.serviceOfferings.get(vm.ServiceOfferingID)
			for _, h := range []string{vm.HostID, vm.MigrateToHostID} {
				if h != "" && vm.State.holdsCapacity() {
					mem[h] += int64(so.MemoryMB)
					n[h]++
				}
			}
		}
		for _, h := range ix.hosts.all() {
			if h.UsedMemoryMB != mem[h.ID] || h.VMs != n[h.ID] {
				t.Errorf("host %s: %d MB, %d VMs used; its VMs hold %d MB, %d VMs", h.Name, h.UsedMemoryMB, h.VMs, mem[h.ID], n[h.ID])
			}
		}
	})
}

func TestRestartSettlesTransitionalVMs(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// op brings a Running VM (or, for "start", a fresh one) into transition.
		op func(t *testing.T, s *Sim, clock *fakeClock) string
		// advance is how far the clock moves while the server is down.
		advance time.Duration
		want    VMState
		onFirst bool // the VM ends on the host it was on before op
	}{
		{name: "starting, host not done", op: deployStarting, want: VMStopped},
		{name: "starting, host done", op: deployStarting, advance: 30 * time.Second, want: VMRunning},
		{name: "stopping", op: func(t *testing.T, s *Sim, clock *fakeClock) string {
			id := deployRunning(t, s, clock)
			base := clock.pending()
			if _, err := s.StopVM(ctx, s.Admin(), id, false, "stop"); err != nil {
				t.Fatal(err)
			}
			waitTimer(t, clock, base+1)
			return id
		}, want: VMStopped},
		{name: "migrating", op: func(t *testing.T, s *Sim, clock *fakeClock) string {
			id := deployRunning(t, s, clock)
			base := clock.pending()
			if _, err := s.MigrateVM(ctx, s.Admin(), id, "", "migrate"); err != nil {
				t.Fatal(err)
			}
			waitTimer(t, clock, base+1)
			if st := vmState(s, id); st != VMMigrating {
				t.Fatalf("after migrate: %s", st)
			}
			return id
		}, advance: time.Minute, want: VMRunning, onFirst: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New(memory.Options{})
			clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			s1 := startAs(t, st, "a", clock)
			id := tc.op(t, s1, clock)
			var firstHost string
			s1.Read(func(r Reader) { vm, _ := r.VM(id); firstHost = vm.HostID })
			// A clean stop cancels the job; a SIGKILL leaves the same state
			// (the job pending, failed at the next start).
			if err := s1.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.advance)
			s2 := startAs(t, st, "a", clock)
			var vm *VM
			s2.Read(func(r Reader) { vm, _ = r.VM(id) })
			if vm.State != tc.want {
				t.Fatalf("after restart: %s, want %s", vm.State, tc.want)
			}
			if tc.onFirst && vm.HostID != firstHost {
				t.Errorf("on host %s, want the source %s", vm.HostID, firstHost)
			}
			if vm.MigrateToHostID != "" || vm.JobID != "" {
				t.Errorf("left over: %+v", vm)
			}
			checkCapacity(t, s2)
			var events int
			s2.read(func(ix *index) {
				for _, e := range ix.events.all() {
					if e.ResourceID == id && strings.Contains(e.Description, "restart of the management server") {
						events++
					}
				}
			})
			if events == 0 {
				t.Error("no event for the settled VM")
			}
			// The VM takes commands again.
			var j *Job
			var err error
			timers := clock.pending()
			if vm.State == VMRunning {
				j, err = s2.StopVM(ctx, s2.Admin(), id, false, "stop")
			} else {
				j, err = s2.StartVM(ctx, s2.Admin(), id, "", "start")
			}
			if err != nil {
				t.Fatal(err)
			}
			waitTimer(t, clock, timers+1)
			if j := advanceUntilDone(t, s2, clock, j.ID); j.Status != JobSucceeded {
				t.Fatalf("next command after restart: %+v", j)
			}
			checkCapacity(t, s2)
		})
	}
}

// TestRestartLeavesOtherServersJobs: a server starting beside another one
// that is working on a VM does not touch that VM.
func TestRestartLeavesOtherServersJobs(t *testing.T) {
	st := memory.New(memory.Options{})
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := startAs(t, st, "a", clock)
	id := deployStarting(t, a, clock)
	b := startAs(t, st, "b", clock)
	if got := vmState(b, id); got != VMStarting {
		t.Fatalf("server b settled server a's VM: %s", got)
	}
	clock.Advance(30 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for vmState(a, id) != VMRunning {
		if time.Now().After(deadline) {
			t.Fatalf("server a's start did not finish: %s", vmState(a, id))
		}
		time.Sleep(time.Millisecond)
	}
	checkCapacity(t, a)
}

func deployStarting(t *testing.T, s *Sim, clock *fakeClock) string {
	t.Helper()
	zone, so, tpl := ids(s)
	base := clock.pending()
	vm, _, err := s.DeployVM(context.Background(), s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	waitTimer(t, clock, base+1)
	if st := vmState(s, vm.ID); st != VMStarting {
		t.Fatalf("after deploy: %s", st)
	}
	return vm.ID
}

func deployRunning(t *testing.T, s *Sim, clock *fakeClock) string {
	t.Helper()
	zone, so, tpl := ids(s)
	base := clock.pending()
	vm, job, err := s.DeployVM(context.Background(), s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	waitTimer(t, clock, base+1)
	clock.Advance(30 * time.Second)
	if j := waitJob(t, s, job.ID); j.Status != JobSucceeded {
		t.Fatalf("deploy: %+v", j)
	}
	return vm.ID
}

// advanceUntilDone moves the clock a minute at a time until job id ends:
// the expiry loop's own timer may be the one waitTimer saw, so the job's
// timer can be armed a moment after the first move.
func advanceUntilDone(t *testing.T, s *Sim, clock *fakeClock, id string) *Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		clock.Advance(time.Minute)
		if j, err := s.Job(s.Admin(), id); err == nil && j.Status != JobPending {
			return j
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("job %s still pending", id)
	return nil
}
