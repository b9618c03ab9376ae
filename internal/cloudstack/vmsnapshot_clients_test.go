package cloudstack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKVMSnapshots drives VM snapshots with cloudstack-go: a disk-only
// and a memory snapshot chain (parent and current), the real server's
// refusals (memory of a stopped VM, a disk-only revert of a running VM, a
// memory revert of a stopped one, a duplicate display name), a revert that
// brings back the service offering, deletion re-parenting the chain, and
// the snapshots going with the VM at expunge.
func TestSDKVMSnapshots(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetName("snappy")
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	create := func(name string, memory bool) (string, error) {
		p := cs.Snapshot.NewCreateVMSnapshotParams(vm.Id)
		p.SetName(name)
		p.SetSnapshotmemory(memory)
		s, err := cs.Snapshot.CreateVMSnapshot(p)
		if err != nil {
			return "", err
		}
		return s.Id, nil
	}
	disk, err := create("disk-1", false)
	if err != nil {
		t.Fatalf("createVMSnapshot: %v", err)
	}
	mem, err := create("mem-1", true)
	if err != nil {
		t.Fatalf("createVMSnapshot with memory: %v", err)
	}
	if _, err := create("mem-1", false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate display name: %v", err)
	}
	list := func() map[string]map[string]any {
		lp := cs.Snapshot.NewListVMSnapshotParams()
		lp.SetVirtualmachineid(vm.Id)
		l, err := cs.Snapshot.ListVMSnapshot(lp)
		if err != nil {
			t.Fatalf("listVMSnapshot: %v", err)
		}
		out := map[string]map[string]any{}
		for _, s := range l.VMSnapshot {
			out[s.Displayname] = map[string]any{"id": s.Id, "type": s.Type, "current": s.Current, "parent": s.Parent,
				"state": s.State, "vm": s.Virtualmachinename, "name": s.Name}
		}
		return out
	}
	got := list()
	if len(got) != 2 || got["disk-1"]["type"] != "Disk" || got["mem-1"]["type"] != "DiskAndMemory" ||
		got["mem-1"]["parent"] != disk || got["mem-1"]["current"] != true || got["disk-1"]["current"] != false ||
		got["disk-1"]["state"] != "Ready" || got["disk-1"]["vm"] != "snappy" || !strings.Contains(got["disk-1"]["name"].(string), "_VS_") {
		t.Fatalf("the chain: %v", got)
	}

	// a running VM reverts only to a memory snapshot
	if _, err := cs.Snapshot.RevertToVMSnapshot(cs.Snapshot.NewRevertToVMSnapshotParams(disk)); err == nil ||
		!strings.Contains(err.Error(), "For running Instances only Snapshots with memory can be reverted") {
		t.Fatalf("disk-only revert of a running VM: %v", err)
	}
	if r, err := cs.Snapshot.RevertToVMSnapshot(cs.Snapshot.NewRevertToVMSnapshotParams(mem)); err != nil || r.State != "Running" {
		t.Fatalf("memory revert of a running VM: %v %+v", err, r)
	}

	// stopped: memory snapshots are refused, a disk revert brings back the offering
	if _, err := cs.VirtualMachine.StopVirtualMachine(cs.VirtualMachine.NewStopVirtualMachineParams(vm.Id)); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := create("mem-2", true); err == nil || !strings.Contains(err.Error(), "Can not Snapshot memory when the Instance is not in Running state") {
		t.Fatalf("memory snapshot of a stopped VM: %v", err)
	}
	if _, err := cs.Snapshot.RevertToVMSnapshot(cs.Snapshot.NewRevertToVMSnapshotParams(mem)); err == nil ||
		!strings.Contains(err.Error(), "you need to first start the Instance") {
		t.Fatalf("memory revert of a stopped VM: %v", err)
	}
	if _, err := cs.VirtualMachine.ChangeServiceForVirtualMachine(cs.VirtualMachine.NewChangeServiceForVirtualMachineParams(vm.Id, e.small)); err != nil {
		t.Fatalf("changeServiceForVirtualMachine: %v", err)
	}
	r, err := cs.Snapshot.RevertToVMSnapshot(cs.Snapshot.NewRevertToVMSnapshotParams(disk))
	if err != nil || r.Serviceofferingid != e.micro || r.State != "Stopped" {
		t.Fatalf("disk revert of a stopped VM: %v %+v", err, r)
	}
	if got := list(); got["disk-1"]["current"] != true || got["mem-1"]["current"] != false {
		t.Fatalf("after revert, current: %v", got)
	}

	// deleting the parent re-parents its child
	if _, err := cs.Snapshot.DeleteVMSnapshot(cs.Snapshot.NewDeleteVMSnapshotParams(disk)); err != nil {
		t.Fatalf("deleteVMSnapshot: %v", err)
	}
	if got := list(); len(got) != 1 || got["mem-1"]["parent"] != "" {
		t.Fatalf("after delete: %v", got)
	}
	if _, err := cs.Snapshot.DeleteVMSnapshot(cs.Snapshot.NewDeleteVMSnapshotParams(disk)); err == nil {
		t.Fatal("deleting a deleted snapshot accepted")
	}

	// expunge takes the rest
	dvp := cs.VirtualMachine.NewDestroyVirtualMachineParams(vm.Id)
	dvp.SetExpunge(true)
	if _, err := cs.VirtualMachine.DestroyVirtualMachine(dvp); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	l, err := cs.Snapshot.ListVMSnapshot(cs.Snapshot.NewListVMSnapshotParams())
	if err != nil || l.Count != 0 {
		t.Fatalf("after expunge: %v %+v", err, l)
	}
}

// TestAnsibleVMSnapshots runs Ansible's cs_vmsnapshot (Debian ansible:
// ngine_io.cloudstack) through create, no-change, revert and remove.
func TestAnsibleVMSnapshots(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_vmsnapshot.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	dp := e.cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetName("web1")
	vm, err := e.cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"-e", "vm="+vm.Name, "testdata/ansible/vmsnapshot.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook vmsnapshot: %v\n%s", err, out)
	}
}
