package cloudstack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKSnapshotPolicies drives snapshot policies with cloudstack-go on
// a clock the test moves: the real server's refusals (interval type,
// schedule, maxsnaps and its per-interval cap), one policy per volume and
// interval (a second create reschedules it), snapshots taken on schedule
// and typed by their interval, only the newest maxsnaps kept,
// updateSnapshotPolicy's fordisplay, and no more snapshots once deleted.
func TestSDKSnapshotPolicies(t *testing.T) {
	// Signed requests must not have expired on the simulator's clock, so
	// it starts hours behind the wall clock and stays behind it.
	clock := testingclock.NewFakeClock(time.Now().Add(-6 * time.Hour).Truncate(time.Minute))
	srv := cstest.Start(t, cstest.Options{Clock: clock})
	e := setup(t, srv)
	cs := e.cs
	vm, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	lv := cs.Volume.NewListVolumesParams()
	lv.SetVirtualmachineid(vm.Id)
	vols, err := cs.Volume.ListVolumes(lv)
	if err != nil || vols.Count != 1 {
		t.Fatalf("listVolumes: %v", err)
	}
	root := vols.Volumes[0].Id

	for _, c := range []struct {
		interval, schedule string
		max                int
		want               string
	}{
		{"YEARLY", "30", 2, "Unsupported interval type YEARLY"},
		{"HOURLY", "99", 2, "Invalid schedule: 99 for interval type: HOURLY"},
		{"WEEKLY", "00:10:8", 2, "Invalid schedule: 00:10:8 for interval type: WEEKLY"},
		{"HOURLY", "30", 0, "maxSnaps should be greater than 0"},
		{"HOURLY", "30", 9, "maxSnaps exceeds limit: 8 for interval type: HOURLY"},
	} {
		_, err := cs.Snapshot.CreateSnapshotPolicy(cs.Snapshot.NewCreateSnapshotPolicyParams(c.interval, c.max, c.schedule, "UTC", root))
		if err == nil || !strings.Contains(err.Error(), "431") || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("createSnapshotPolicy %s %s %d: %v, want %q", c.interval, c.schedule, c.max, err, c.want)
		}
	}
	// (cloudstack-go does not unwrap createSnapshotPolicy's "snapshotpolicy",
	// which Ansible's cs_snapshot_policy reads: the policy is read back with
	// listSnapshotPolicies)
	if _, err := cs.Snapshot.CreateSnapshotPolicy(cs.Snapshot.NewCreateSnapshotPolicyParams("hourly", 2, "30", "UTC", root)); err != nil {
		t.Fatalf("createSnapshotPolicy: %v", err)
	}
	lp := cs.Snapshot.NewListSnapshotPoliciesParams()
	lp.SetVolumeid(root)
	l, err := cs.Snapshot.ListSnapshotPolicies(lp)
	if err != nil || l.Count != 1 {
		t.Fatalf("listSnapshotPolicies: %v %+v", err, l)
	}
	pol := l.SnapshotPolicies[0]
	if pol.Intervaltype != 0 || pol.Maxsnaps != 2 || pol.Volumeid != root || !pol.Fordisplay || pol.Schedule != "30" || pol.Timezone != "UTC" {
		t.Fatalf("the policy: %+v", pol)
	}
	if _, err := cs.Snapshot.CreateSnapshotPolicy(cs.Snapshot.NewCreateSnapshotPolicyParams("HOURLY", 2, "45", "UTC", root)); err != nil {
		t.Fatalf("createSnapshotPolicy again: %v", err)
	}
	if l, err = cs.Snapshot.ListSnapshotPolicies(lp); err != nil || l.Count != 1 || l.SnapshotPolicies[0].Id != pol.Id || l.SnapshotPolicies[0].Schedule != "45" {
		t.Fatalf("a second policy of the interval reschedules the first: %v %+v", err, l)
	}

	snapshots := func() (int, string) {
		sp := cs.Snapshot.NewListSnapshotsParams()
		sp.SetVolumeid(root)
		l, err := cs.Snapshot.ListSnapshots(sp)
		if err != nil {
			t.Fatalf("listSnapshots: %v", err)
		}
		if l.Count == 0 {
			return 0, ""
		}
		return l.Count, l.Snapshots[0].Snapshottype
	}
	if n, _ := snapshots(); n != 0 {
		t.Fatalf("a snapshot before the schedule: %d", n)
	}
	// three hours pass, three runs (at :45): the newest two kept
	for i, want := range []int{1, 2, 2} {
		clock.Step(time.Hour)
		testenv.Eventually(t, 10*time.Second, "the scheduled snapshot", func() bool {
			n, typ := snapshots()
			return n == want && typ == "HOURLY"
		})
		if i == 2 {
			// the third run replaced the oldest: exactly two remain, and stay
			time.Sleep(50 * time.Millisecond)
			if n, _ := snapshots(); n != 2 {
				t.Fatalf("maxsnaps 2 kept %d", n)
			}
		}
	}

	up := cs.Snapshot.NewUpdateSnapshotPolicyParams()
	up.SetId(pol.Id)
	up.SetFordisplay(false)
	if u, err := cs.Snapshot.UpdateSnapshotPolicy(up); err != nil || u.Fordisplay {
		t.Fatalf("updateSnapshotPolicy: %v %+v", err, u)
	}
	dp := cs.Snapshot.NewDeleteSnapshotPoliciesParams()
	dp.SetId(pol.Id)
	if _, err := cs.Snapshot.DeleteSnapshotPolicies(dp); err != nil {
		t.Fatalf("deleteSnapshotPolicies: %v", err)
	}
	if _, err := cs.Snapshot.DeleteSnapshotPolicies(dp); err == nil {
		t.Fatal("deleting a deleted policy accepted")
	}
	clock.Step(2 * time.Hour)
	time.Sleep(50 * time.Millisecond)
	if n, _ := snapshots(); n != 2 {
		t.Fatalf("snapshots after the policy went: %d", n)
	}
}

// TestAnsibleSnapshotPolicies runs Ansible's cs_snapshot_policy (Debian
// ansible: ngine_io.cloudstack) through create, no change, reschedule, a
// second interval, the per-interval cap and removal.
func TestAnsibleSnapshotPolicies(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_snapshot_policy.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	dp := e.cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetName("db1")
	vm, err := e.cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"-e", "vm="+vm.Name, "testdata/ansible/snapshot_policy.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook snapshot_policy: %v\n%s", err, out)
	}
}

// TestTwoServersOneScheduledSnapshot runs two servers on one store and
// one clock: a policy made through one is run by both, and each run takes
// one snapshot, not one per server.
func TestTwoServersOneScheduledSnapshot(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Now().Add(-6 * time.Hour).Truncate(time.Minute))
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	a := cstest.Start(t, cstest.Options{Store: st, ID: "a", Clock: clock})
	b := cstest.Start(t, cstest.Options{Store: st, ID: "b", Clock: clock})
	e := setup(t, a)
	vm, err := e.cs.VirtualMachine.DeployVirtualMachine(e.cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	lv := e.cs.Volume.NewListVolumesParams()
	lv.SetVirtualmachineid(vm.Id)
	vols, err := e.cs.Volume.ListVolumes(lv)
	if err != nil || vols.Count != 1 {
		t.Fatalf("listVolumes: %v", err)
	}
	root := vols.Volumes[0].Id
	if _, err := e.cs.Snapshot.CreateSnapshotPolicy(e.cs.Snapshot.NewCreateSnapshotPolicyParams("HOURLY", 8, "10", "UTC", root)); err != nil {
		t.Fatalf("createSnapshotPolicy: %v", err)
	}
	other := setup(t, b).cs
	lp := other.Snapshot.NewListSnapshotPoliciesParams()
	lp.SetVolumeid(root)
	testenv.Eventually(t, 10*time.Second, "the other server sees the policy", func() bool {
		l, err := other.Snapshot.ListSnapshotPolicies(lp)
		return err == nil && l.Count == 1
	})
	count := func() int {
		sp := other.Snapshot.NewListSnapshotsParams()
		sp.SetVolumeid(root)
		l, err := other.Snapshot.ListSnapshots(sp)
		if err != nil {
			t.Fatalf("listSnapshots: %v", err)
		}
		return l.Count
	}
	for want := 1; want <= 3; want++ {
		clock.Step(time.Hour)
		testenv.Eventually(t, 10*time.Second, "the run's snapshot", func() bool { return count() >= want })
		time.Sleep(100 * time.Millisecond) // both servers' loops have run by now
		if n := count(); n != want {
			t.Fatalf("after %d runs: %d snapshots", want, n)
		}
	}
}
