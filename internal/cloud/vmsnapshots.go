package cloud

import (
	"context"
	"time"
)

// VM snapshots: a whole instance's disks (and, for a running one, its
// memory) kept as one point to go back to, as CloudStack's VMSnapshot.
// They form a chain per VM: each new snapshot's parent is the one that was
// current, and the newest (or the one last reverted to) is current. The
// simulator keeps no disk contents, so a revert restores what a snapshot
// does record: the service offering the VM had (when the VM is stopped).
//
// Each command is one async job whose work is one transaction, so a crash
// leaves either no snapshot or a Ready one, never one half made.

// KindVMSnapshot names VM snapshots.
const KindVMSnapshot Kind = "VMSnapshot"

// VM snapshot types and the state the simulator's snapshots are in.
const (
	VMSnapshotDisk          = "Disk"
	VMSnapshotDiskAndMemory = "DiskAndMemory"
	VMSnapshotReady         = "Ready"
)

// VMSnapshot is one snapshot of a VM.
type VMSnapshot struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
	VMID        string `json:"vmId"`
	Type        string `json:"type"`
	State       string `json:"state"`
	Current     bool   `json:"current"`
	ParentID    string `json:"parentId,omitempty"`
	// OfferingID is the VM's service offering when the snapshot was taken.
	OfferingID string    `json:"offeringId"`
	ZoneID     string    `json:"zoneId"`
	Created    time.Time `json:"created"`
	Owner
}

// VMSnapshotRequest is what createVMSnapshot asks for.
type VMSnapshotRequest struct {
	VMID        string
	DisplayName string
	Description string
	Memory      bool
	Cmd         string
}

// CreateVMSnapshot snapshots a Running or Stopped VM in an async job whose
// result is the snapshot. Its name is the real server's
// <instance name>_VS_<yyyyMMddHHmmss>; the display name defaults to it.
func (s *Sim) CreateVMSnapshot(ctx context.Context, c Caller, r VMSnapshotRequest) (*Job, error) {
	if len(r.DisplayName) > 255 {
		return nil, Invalid("Creating Instance Snapshot failed due to length of Instance Snapshot vsDisplayName should not exceed 255")
	}
	if len(r.Description) > 255 {
		return nil, Invalid("Creating Instance Snapshot failed due to length of Instance Snapshot vsDescription should not exceed 255")
	}
	check := func(ix *index, c Caller, display string) (*VM, error) {
		vm, err := ix.vmFor(c, r.VMID)
		if err != nil {
			return nil, err
		}
		if display != "" && ix.vmSnapshotNamed(vm.ID, display) != nil {
			return nil, Invalid("Creating Instance Snapshot failed because Instance Snapshot with name%s  already exists", display)
		}
		if vm.State != VMRunning && vm.State != VMStopped {
			return nil, Invalid("Creating Instance Snapshot failed because Instance:%s is not in Running or Stopped state", vm.ID)
		}
		if r.Memory && vm.State != VMRunning {
			return nil, Invalid("Can not Snapshot memory when the Instance is not in Running state")
		}
		// vmsnapshot.max: how many snapshots one VM may have
		if limit := ix.settingInt("vmsnapshot.max"); int64(len(ix.vmSnapshotsOf(vm.ID))) >= limit {
			return nil, Errorf(CodeInternal, CSCloudRuntime,
				"Creating Instance Snapshot failed due to a Instance can just have : %d Instance Snapshots. Please delete old ones", limit)
		}
		return vm, nil
	}
	var err error
	s.read(func(ix *index) { _, err = check(ix, c, r.DisplayName) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: r.Cmd, InstanceType: KindVMSnapshot, InstanceID: r.VMID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			now := s.clock.Now().UTC()
			vm, err := ix.vmFor(caller, r.VMID)
			if err != nil {
				return err
			}
			name := vm.InstanceName + "_VS_" + now.Format("20060102150405")
			display := r.DisplayName
			if display == "" {
				display = name
			}
			if vm, err = check(ix, caller, display); err != nil {
				return err
			}
			typ := VMSnapshotDisk
			if r.Memory {
				typ = VMSnapshotDiskAndMemory
			}
			b := &batch{}
			snap := &VMSnapshot{ID: newID(), Seq: ix.nextSeq(), Name: name, DisplayName: display, Description: r.Description,
				VMID: vm.ID, Type: typ, State: VMSnapshotReady, Current: true, OfferingID: vm.ServiceOfferingID,
				ZoneID: vm.ZoneID, Created: now, Owner: vm.Owner}
			if cur := ix.currentVMSnapshot(vm.ID); cur != nil {
				snap.ParentID = cur.ID
				n := *cur
				n.Current = false
				put(b, ix.vmSnapshots, &n)
			}
			put(b, ix.vmSnapshots, snap)
			ix.event(b, s, vm.Owner, caller, "VMSNAPSHOT.CREATE", "Successfully completed creating Instance Snapshot "+display+" of Instance "+vm.Name, snap.ID, KindVMSnapshot)
			jc.complete(b, KindVMSnapshot, snap)
			return s.commit(ctx, b)
		})
	})
}

// vmSnapshotFor finds a VM snapshot c may use.
func (ix *index) vmSnapshotFor(c Caller, id string) (*VMSnapshot, error) {
	snap, ok := ix.vmSnapshots.get(id)
	if !ok {
		return nil, Invalid("Unable to find the Instance Snapshot with id %s", id)
	}
	if !ix.canAccess(c, snap.Owner) {
		return nil, Denied("Account %s does not have permission to operate on Instance Snapshot %s", c.Account.Name, snap.DisplayName)
	}
	return snap, nil
}

// vmSnapshotsOf returns a VM's snapshots in creation order.
func (ix *index) vmSnapshotsOf(vmID string) []*VMSnapshot { return ix.vmSnapshots.byGroup(vmID) }

func (ix *index) currentVMSnapshot(vmID string) *VMSnapshot {
	for _, s := range ix.vmSnapshots.byGroup(vmID) {
		if s.Current {
			return s
		}
	}
	return nil
}

func (ix *index) vmSnapshotNamed(vmID, display string) *VMSnapshot {
	for _, s := range ix.vmSnapshots.byGroup(vmID) {
		if s.DisplayName == display {
			return s
		}
	}
	return nil
}

// DeleteVMSnapshot deletes a VM snapshot in an async job. Its children
// take its parent, and if it was current its parent becomes current.
func (s *Sim) DeleteVMSnapshot(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.vmSnapshotFor(c, id) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVMSnapshot, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			snap, err := ix.vmSnapshotFor(caller, id)
			if err != nil {
				return err
			}
			b := &batch{}
			ix.dropVMSnapshot(b, snap)
			ix.event(b, s, snap.Owner, caller, "VMSNAPSHOT.DELETE", "Successfully deleted Instance Snapshot "+snap.DisplayName, snap.ID, KindVMSnapshot)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// dropVMSnapshot adds to b the removal of snap and its tags, re-parenting
// its children.
func (ix *index) dropVMSnapshot(b *batch, snap *VMSnapshot) {
	for _, o := range ix.vmSnapshots.byGroup(snap.VMID) {
		if o.ID == snap.ID {
			continue
		}
		if o.ParentID == snap.ID || (snap.Current && o.ID == snap.ParentID) {
			n := *o
			if n.ParentID == snap.ID {
				n.ParentID = snap.ParentID
			}
			if snap.Current && o.ID == snap.ParentID {
				n.Current = true
			}
			put(b, ix.vmSnapshots, &n)
		}
	}
	del(b, ix.vmSnapshots, snap.ID)
	for _, t := range ix.tags.byGroup(snap.ID) {
		del(b, ix.tags, t.ID)
	}
}

// RevertToVMSnapshot puts a VM back to a snapshot in an async job whose
// result is the VM. A disk-only snapshot needs a stopped VM, one with
// memory a running VM, as on the real server.
func (s *Sim) RevertToVMSnapshot(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	check := func(ix *index, c Caller) (*VMSnapshot, *VM, error) {
		snap, err := ix.vmSnapshotFor(c, id)
		if err != nil {
			return nil, nil, err
		}
		vm, ok := ix.vms.get(snap.VMID)
		if !ok {
			return nil, nil, Invalid("Revert Instance to Snapshot: %s failed due to Instance: %s is not found", snap.DisplayName, snap.VMID)
		}
		switch {
		case vm.State != VMRunning && vm.State != VMStopped:
			return nil, nil, Invalid("Instance Snapshot reverting failed because the Instance is not in Running or Stopped state.")
		case vm.State == VMRunning && snap.Type == VMSnapshotDisk:
			return nil, nil, Invalid("Reverting to the Instance Snapshot is not allowed for running Instances as this would result in an Instance state change. " +
				"For running Instances only Snapshots with memory can be reverted. In order to revert to a Snapshot without memory you need to first stop the Instance.")
		case vm.State == VMStopped && snap.Type == VMSnapshotDiskAndMemory:
			return nil, nil, Invalid("Reverting to the Instance Snapshot is not allowed for stopped Instances when the Snapshot contains memory as this would result in an Instance state change. " +
				"In order to revert to a Snapshot with memory you need to first start the Instance.")
		}
		return snap, vm, nil
	}
	var err error
	s.read(func(ix *index) { _, _, err = check(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVMSnapshot, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			snap, vm, err := check(ix, caller)
			if err != nil {
				return err
			}
			b := &batch{}
			out := vm
			if vm.State == VMStopped && snap.OfferingID != vm.ServiceOfferingID {
				if so, ok := ix.serviceOfferings.get(snap.OfferingID); ok {
					n := *vm
					n.ServiceOfferingID, n.HA = so.ID, so.HA
					put(b, ix.vms, &n)
					out = &n
				}
			}
			for _, o := range ix.vmSnapshots.byGroup(vm.ID) {
				if o.Current != (o.ID == snap.ID) {
					n := *o
					n.Current = o.ID == snap.ID
					put(b, ix.vmSnapshots, &n)
				}
			}
			ix.event(b, s, snap.Owner, caller, "VMSNAPSHOT.REVERTTO", "Successfully reverted Instance "+vm.Name+" to Instance Snapshot "+snap.DisplayName, snap.ID, KindVMSnapshot)
			jc.complete(b, KindVM, out)
			return s.commit(ctx, b)
		})
	})
}

// dropVMSnapshotsOf adds to b the removal of every snapshot of a VM (at
// its expunge, as the real server removes them with the VM).
func (ix *index) dropVMSnapshotsOf(b *batch, vmID string) {
	for _, snap := range ix.vmSnapshots.byGroup(vmID) {
		del(b, ix.vmSnapshots, snap.ID)
		for _, t := range ix.tags.byGroup(snap.ID) {
			del(b, ix.tags, t.ID)
		}
	}
}

// VMSnapshots returns every VM snapshot in creation order.
func (r Reader) VMSnapshots() []*VMSnapshot { return r.ix.vmSnapshots.all() }

// VMSnapshot looks a VM snapshot up by id.
func (r Reader) VMSnapshot(id string) (*VMSnapshot, bool) { return r.ix.vmSnapshots.get(id) }
