package cloud

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// The storage family: data volumes created from a disk offering or a
// snapshot, attached to and detached from VMs, resized and deleted; volume
// snapshots taken, reverted and deleted. Every change is one transaction,
// as elsewhere; the commands the real server runs as async jobs run as
// jobs here, whose result is the volume or snapshot as it ended.

// KindSnapshot names volume snapshots.
const KindSnapshot Kind = "Snapshot"

// Volume states the family uses (CloudStack's Volume.State).
const (
	VolumeAllocated = "Allocated" // created, not yet on primary storage (never attached)
	VolumeReady     = "Ready"
)

// Snapshot states (CloudStack's Snapshot.State).
const (
	SnapshotBackedUp = "BackedUp"
)

// Snapshot is a volume snapshot.
type Snapshot struct {
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"`
	Name       string    `json:"name"`
	VolumeID   string    `json:"volumeId"`
	VolumeName string    `json:"volumeName"`
	VolumeType string    `json:"volumeType"`
	ZoneID     string    `json:"zoneId"`
	SizeGB     int64     `json:"sizeGb"`
	State      string    `json:"state"`
	Created    time.Time `json:"created"`
	// Type is MANUAL ("") or the interval of the policy that took it
	// (HOURLY, …); PolicyID that policy.
	Type     string `json:"type,omitempty"`
	PolicyID string `json:"policyId,omitempty"`
	Owner
}

// maxDataVolumes is how many data disks a VM takes (the Simulator
// hypervisor's max_data_volumes_limit).
const maxDataVolumes = 6

// cdromDevice is the device id CloudStack keeps for the CD-ROM.
const cdromDevice = 3

// VolumeRequest is what createVolume asks for.
type VolumeRequest struct {
	Name           string
	ZoneID         string
	DiskOfferingID string
	// SizeGB is the size for a custom disk offering.
	SizeGB     int64
	SnapshotID string
	// VMID, with SnapshotID, attaches the new volume to that VM.
	VMID     string
	Account  string
	DomainID string
	Cmd      string
}

// volumeFor finds a volume c may use.
func (ix *index) volumeFor(c Caller, id string) (*Volume, error) {
	v, ok := ix.volumes.get(id)
	if !ok {
		return nil, notFound(KindVolume, id)
	}
	if !ix.canAccess(c, v.Owner) {
		return nil, Denied("Account %s does not have permission to operate on volume %s", c.Account.Name, v.Name)
	}
	return v, nil
}

// CreateVolume creates a data volume from a disk offering (Allocated: it
// reaches primary storage when first attached) or from a snapshot
// (Ready, attached to r.VMID when given). Create-style: the volume exists
// and its job is complete when the call returns.
func (s *Sim) CreateVolume(ctx context.Context, c Caller, r VolumeRequest) (*Volume, *Job, error) {
	if r.DiskOfferingID == "" && r.SnapshotID == "" {
		return nil, nil, Invalid("Either disk Offering Id or snapshot Id must be passed whilst creating volume")
	}
	if r.SizeGB < 0 {
		return nil, nil, Invalid("Disk size must be larger than 0")
	}
	var out *Volume
	var job *Job
	err := s.write(func(ix *index) error {
		owner, err := ix.ownerFor(c, r.Account, r.DomainID)
		if err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		seq := ix.nextSeq()
		v := &Volume{ID: newID(), Seq: seq, Name: r.Name, Type: "DATADISK", State: VolumeAllocated, Created: now, Owner: owner}
		if v.Name == "" {
			v.Name = fmt.Sprintf("DATA-%d", seq)
		}
		if r.SnapshotID != "" {
			snap, ok := ix.snapshots.get(r.SnapshotID)
			if !ok || !ix.canAccess(c, snap.Owner) {
				return notFound(KindSnapshot, r.SnapshotID)
			}
			if snap.State != SnapshotBackedUp {
				return Invalid("Snapshot id=%s is not in %s state yet and can't be used for volume creation", snap.ID, SnapshotBackedUp)
			}
			v.ZoneID, v.SizeGB, v.SnapshotID, v.State = snap.ZoneID, snap.SizeGB, snap.ID, VolumeReady
			if src, ok := ix.volumes.get(snap.VolumeID); ok && src.Type == "DATADISK" {
				v.DiskOfferingID = src.DiskOfferingID
			}
			if r.DiskOfferingID != "" {
				v.DiskOfferingID = r.DiskOfferingID
			}
		} else {
			off, ok := ix.activeDiskOffering(r.DiskOfferingID)
			if !ok {
				return notFound(KindDiskOffering, r.DiskOfferingID)
			}
			if r.ZoneID == "" {
				return Invalid("Unable to execute API command createvolume due to missing parameter zoneid")
			}
			v.DiskOfferingID, v.SizeGB = off.ID, off.SizeGB
			switch {
			case off.Custom && r.SizeGB == 0:
				return Invalid("This disk offering requires a custom size specified")
			case off.Custom:
				v.SizeGB = r.SizeGB
			case r.SizeGB != 0 && r.SizeGB != off.SizeGB:
				return Invalid("This disk offering does not allow custom size")
			}
		}
		if r.ZoneID != "" {
			if _, ok := ix.zones.get(r.ZoneID); !ok {
				return notFound(KindZone, r.ZoneID)
			}
			if r.SnapshotID == "" {
				v.ZoneID = r.ZoneID
			}
		}
		b := &batch{}
		if err := ix.checkLimits(b, owner, map[Resource]int64{ResVolume: 1, ResPrimaryStorage: v.SizeGB}); err != nil {
			return err
		}
		if r.VMID != "" && r.SnapshotID != "" {
			vm, err := ix.vmFor(c, r.VMID)
			if err != nil {
				return err
			}
			if err := ix.attachTo(v, vm, 0, now); err != nil {
				return err
			}
		}
		put(b, ix.volumes, v)
		ix.event(b, s, owner, c, "VOLUME.CREATE", "Successfully created volume. Volume Name: "+v.Name, v.ID, KindVolume)
		job = s.newJobVal(c, owner, JobSpec{Cmd: r.Cmd, InstanceType: KindVolume, InstanceID: v.ID})
		job.complete(now, KindVolume, v)
		put(b, ix.jobs, job)
		out = v
		return s.commit(ctx, b)
	})
	return out, job, err
}

// attachTo sets v attached to vm at device (0: the next free one), after
// the checks CloudStack makes. It changes v only.
func (ix *index) attachTo(v *Volume, vm *VM, device int64, now time.Time) error {
	if v.Type != "DATADISK" {
		return Invalid("Please specify a volume with the valid type: DATADISK")
	}
	if v.VMID != "" {
		return Invalid("Volume %s is already attached to a VM", v.Name)
	}
	if vm.State != VMRunning && vm.State != VMStopped {
		return Invalid("Please specify a VM that is either running or stopped.")
	}
	if v.ZoneID != vm.ZoneID {
		return Invalid("Please specify a VM that is in the same zone as the volume.")
	}
	used := map[int64]bool{0: true, cdromDevice: true}
	n := 0
	for _, x := range ix.volumes.all() {
		if x.VMID == vm.ID && x.Type == "DATADISK" {
			used[x.device()] = true
			n++
		}
	}
	if n >= maxDataVolumes {
		return Invalid("The specified VM already has the maximum number of data disks (%d) attached. Please specify another VM.", maxDataVolumes)
	}
	switch {
	case device == 0:
		for device = 1; used[device]; device++ {
		}
	case device == cdromDevice:
		return Invalid("deviceId can't be %d, it is reserved for the CD-ROM", cdromDevice)
	case used[device]:
		return Invalid("deviceId %d is used by VM %s", device, vm.Name)
	}
	v.VMID, v.DeviceID, v.Attached, v.State = vm.ID, device, now, VolumeReady
	return nil
}

// device is the volume's device id on its VM.
func (v *Volume) device() int64 {
	switch {
	case v.VMID == "":
		return 0
	case v.DeviceID != 0:
		return v.DeviceID
	case v.Type == "DATADISK":
		return 1
	}
	return 0
}

// DeviceOf is the volume's device id on its VM (0 for the root disk, or
// when detached).
func DeviceOf(v *Volume) int64 { return v.device() }

// volumeJob runs a change of one volume as an async job whose result is
// the volume: decide checks and returns the new volume (nil: no change).
func (s *Sim) volumeJob(ctx context.Context, c Caller, id, cmd, event string,
	decide func(ix *index, c Caller, v *Volume, now time.Time) (*Volume, error)) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		var v *Volume
		if v, err = ix.volumeFor(c, id); err == nil {
			n := *v
			_, err = decide(ix, c, &n, s.clock.Now().UTC())
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVolume, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			v, err := ix.volumeFor(caller, id)
			if err != nil {
				return err
			}
			n := *v
			nv, err := decide(ix, caller, &n, s.clock.Now().UTC())
			if err != nil {
				return err
			}
			b := &batch{}
			put(b, ix.volumes, nv)
			ix.event(b, s, v.Owner, caller, event, "Volume Id: "+v.ID+" "+eventVerb(event), v.ID, KindVolume)
			jc.complete(b, KindVolume, nv)
			return s.commit(ctx, b)
		})
	})
}

func eventVerb(event string) string {
	switch event {
	case "VOLUME.ATTACH":
		return "attached"
	case "VOLUME.DETACH":
		return "detached"
	case "VOLUME.RESIZE":
		return "resized"
	}
	return "changed"
}

// AttachVolume attaches a data volume to a Running or Stopped VM, in an
// async job whose result is the volume.
func (s *Sim) AttachVolume(ctx context.Context, c Caller, id, vmID string, device int64, cmd string) (*Job, error) {
	return s.volumeJob(ctx, c, id, cmd, "VOLUME.ATTACH", func(ix *index, c Caller, v *Volume, now time.Time) (*Volume, error) {
		vm, err := ix.vmFor(c, vmID)
		if err != nil {
			return nil, err
		}
		return v, ix.attachTo(v, vm, device, now)
	})
}

// DetachVolume detaches a data volume from its VM, in an async job whose
// result is the volume.
func (s *Sim) DetachVolume(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	return s.volumeJob(ctx, c, id, cmd, "VOLUME.DETACH", func(ix *index, c Caller, v *Volume, now time.Time) (*Volume, error) {
		if v.Type == "ROOT" {
			return nil, Invalid("Please specify volume of type DATADISK or ROOT (for a stopped VM with a root volume to detach)")
		}
		if v.VMID == "" {
			return nil, Invalid("The specified volume is not attached to a VM.")
		}
		if vm, ok := ix.vms.get(v.VMID); ok && vm.State != VMRunning && vm.State != VMStopped && vm.State != VMDestroyed {
			return nil, Invalid("Please specify a VM that is either running or stopped.")
		}
		v.VMID, v.DeviceID, v.Attached = "", 0, time.Time{}
		return v, nil
	})
}

// VolumeAt finds the volume attached to a VM at a device id (detachVolume
// by virtualmachineid and deviceid).
func (r Reader) VolumeAt(vmID string, device int64) (*Volume, bool) {
	for _, v := range r.ix.volumes.all() {
		if v.VMID == vmID && v.device() == device {
			return v, true
		}
	}
	return nil, false
}

// ResizeVolume grows (or, with shrinkOK, shrinks) a volume to sizeGB, or to
// a new disk offering's size, in an async job whose result is the volume.
func (s *Sim) ResizeVolume(ctx context.Context, c Caller, id string, sizeGB int64, offeringID string, shrinkOK bool, cmd string) (*Job, error) {
	return s.volumeJob(ctx, c, id, cmd, "VOLUME.RESIZE", func(ix *index, c Caller, v *Volume, now time.Time) (*Volume, error) {
		size := sizeGB
		if offeringID != "" {
			off, ok := ix.activeDiskOffering(offeringID)
			if !ok {
				return nil, notFound(KindDiskOffering, offeringID)
			}
			if v.Type == "ROOT" {
				return nil, Invalid("Cannot change the disk offering of a ROOT volume with resizeVolume")
			}
			if !off.Custom {
				if sizeGB != 0 && sizeGB != off.SizeGB {
					return nil, Invalid("New disk offering does not allow custom size")
				}
				size = off.SizeGB
			}
			v.DiskOfferingID = off.ID
		} else if v.Type == "DATADISK" {
			if off, ok := ix.diskOfferings.get(v.DiskOfferingID); ok && !off.Custom && sizeGB != 0 {
				return nil, Invalid("To change a volume's size without providing a new disk offering, its current disk offering must be customizable or it must be a root volume (if providing a disk offering, make sure it is different from the current disk offering).")
			}
		}
		if size <= 0 {
			return nil, Invalid("Invalid size for the volume: specify a new size or a new disk offering")
		}
		if size < v.SizeGB && !shrinkOK {
			return nil, Invalid("Going from existing size of %d GB to size of %d GB would shrink the volume. "+
				"Need to sign off by supplying the shrinkok parameter with value of true.", v.SizeGB, size)
		}
		if size > v.SizeGB {
			b := &batch{}
			if err := ix.checkLimits(b, v.Owner, map[Resource]int64{ResPrimaryStorage: size - v.SizeGB}); err != nil {
				return nil, err
			}
		}
		v.SizeGB = size
		return v, nil
	})
}

// DeleteVolume deletes a detached data volume (sync, as the real command).
// Its snapshots stay.
func (s *Sim) DeleteVolume(ctx context.Context, c Caller, id string) error {
	return s.write(func(ix *index) error {
		v, err := ix.volumeFor(c, id)
		if err != nil {
			return err
		}
		if v.VMID != "" {
			return Invalid("Please specify a volume that is not attached to any VM.")
		}
		if v.Type == "ROOT" {
			return Invalid("Please specify a volume that is not of type ROOT.")
		}
		b := &batch{}
		del(b, ix.volumes, v.ID)
		ix.dropSnapshotPolicies(b, v.ID)
		for _, t := range ix.tags.byGroup(v.ID) {
			del(b, ix.tags, t.ID)
		}
		ix.event(b, s, v.Owner, c, "VOLUME.DELETE", "Successfully deleted volume. Volume Id: "+v.ID, v.ID, KindVolume)
		return s.commit(ctx, b)
	})
}

// CreateSnapshot takes a snapshot of a Ready volume, in an async job whose
// result is the snapshot (BackedUp). The name is the real server's
// default when none is given: <vm>_<volume>_<yyyyMMddHHmmss>.
func (s *Sim) CreateSnapshot(ctx context.Context, c Caller, volumeID, name, cmd string) (*Job, error) {
	check := func(ix *index, c Caller) (*Volume, error) {
		v, err := ix.volumeFor(c, volumeID)
		if err != nil {
			return nil, err
		}
		if v.State != VolumeReady {
			return nil, Invalid("VolumeId: %s is not in %s state but %s. Cannot take snapshot.", v.ID, VolumeReady, v.State)
		}
		return v, nil
	}
	var err error
	var owner Owner
	s.read(func(ix *index) {
		var v *Volume
		if v, err = check(ix, c); err == nil {
			owner = v.Owner
			b := &batch{}
			err = ix.checkLimits(b, owner, map[Resource]int64{ResSnapshot: 1})
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindSnapshot, InstanceID: volumeID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			v, err := check(ix, caller)
			if err != nil {
				return err
			}
			b := &batch{}
			if err := ix.checkLimits(b, v.Owner, map[Resource]int64{ResSnapshot: 1}); err != nil {
				return err
			}
			now := s.clock.Now().UTC()
			n := name
			if n == "" {
				n = v.Name + "_" + now.Format("20060102150405")
				if vm, ok := ix.vms.get(v.VMID); ok {
					n = vm.DisplayName + "_" + n
				}
			}
			snap := &Snapshot{ID: newID(), Seq: ix.nextSeq(), Name: n, VolumeID: v.ID, VolumeName: v.Name, VolumeType: v.Type,
				ZoneID: v.ZoneID, SizeGB: v.SizeGB, State: SnapshotBackedUp, Created: now, Owner: v.Owner}
			put(b, ix.snapshots, snap)
			ix.event(b, s, v.Owner, caller, "SNAPSHOT.CREATE", "Successfully completed creating snapshot "+n+" for volume "+v.Name, snap.ID, KindSnapshot)
			jc.complete(b, KindSnapshot, snap)
			return s.commit(ctx, b)
		})
	})
}

// snapshotFor finds a snapshot c may use.
func (ix *index) snapshotFor(c Caller, id string) (*Snapshot, error) {
	snap, ok := ix.snapshots.get(id)
	if !ok {
		return nil, notFound(KindSnapshot, id)
	}
	if !ix.canAccess(c, snap.Owner) {
		return nil, Denied("Account %s does not have permission to operate on snapshot %s", c.Account.Name, snap.Name)
	}
	return snap, nil
}

// DeleteSnapshot deletes a snapshot, in an async job.
func (s *Sim) DeleteSnapshot(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.snapshotFor(c, id) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindSnapshot, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			snap, err := ix.snapshotFor(caller, id)
			if err != nil {
				return err
			}
			b := &batch{}
			del(b, ix.snapshots, snap.ID)
			for _, t := range ix.tags.byGroup(snap.ID) {
				del(b, ix.tags, t.ID)
			}
			ix.event(b, s, snap.Owner, caller, "SNAPSHOT.DELETE", "Successfully deleted snapshot "+snap.Name, snap.ID, KindSnapshot)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// RevertSnapshot puts a volume back to a snapshot of it, in an async job
// whose result is the snapshot. A root volume's VM must be stopped.
func (s *Sim) RevertSnapshot(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	check := func(ix *index, c Caller) (*Snapshot, *Volume, error) {
		snap, err := ix.snapshotFor(c, id)
		if err != nil {
			return nil, nil, err
		}
		v, ok := ix.volumes.get(snap.VolumeID)
		if !ok {
			return nil, nil, Invalid("Cannot revert snapshot %s: its volume no longer exists", snap.Name)
		}
		if vm, ok := ix.vms.get(v.VMID); ok && vm.State != VMStopped {
			return nil, nil, Invalid("The VM the specified disk is attached to is not in the right state to revert snapshot: %s", vm.State)
		}
		return snap, v, nil
	}
	var err error
	s.read(func(ix *index) { _, _, err = check(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindSnapshot, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			snap, v, err := check(ix, caller)
			if err != nil {
				return err
			}
			b := &batch{}
			nv := *v
			nv.SizeGB = snap.SizeGB
			put(b, ix.volumes, &nv)
			ix.event(b, s, snap.Owner, caller, "SNAPSHOT.REVERT", "Reverted volume "+v.Name+" to snapshot "+snap.Name, snap.ID, KindSnapshot)
			jc.complete(b, KindSnapshot, snap)
			return s.commit(ctx, b)
		})
	})
}

// purgeStorage adds to b the deletion of an account's data volumes and
// snapshots (its root volumes go with its VMs).
func (ix *index) purgeStorage(b *batch, accountID string) {
	for _, v := range ix.volumes.all() {
		if v.AccountID == accountID && v.Type != "ROOT" {
			if b.dropped == nil {
				b.dropped = map[string]bool{}
			}
			b.dropped[v.ID] = true
			del(b, ix.volumes, v.ID)
			ix.dropSnapshotPolicies(b, v.ID)
		}
	}
	for _, sn := range ix.snapshots.all() {
		if sn.AccountID == accountID {
			del(b, ix.snapshots, sn.ID)
		}
	}
	for _, sn := range ix.vmSnapshots.all() {
		if sn.AccountID == accountID {
			del(b, ix.vmSnapshots, sn.ID)
		}
	}
}

// Reader access to the storage family.

// Snapshots returns every snapshot in creation order.
func (r Reader) Snapshots() []*Snapshot { return r.ix.snapshots.all() }

// Snapshot looks a snapshot up by id.
func (r Reader) Snapshot(id string) (*Snapshot, bool) { return r.ix.snapshots.get(id) }

// VolumesOf returns a VM's volumes, root first, then by device id.
func (r Reader) VolumesOf(vmID string) []*Volume {
	var out []*Volume
	for _, v := range r.ix.volumes.all() {
		if v.VMID == vmID {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].device() < out[j].device() })
	return out
}

// existsStorage is Reader.Exists for the storage family's kinds.
func (ix *index) existsStorage(k Kind, id string) bool {
	switch k {
	case KindSnapshot:
		return has(ix.snapshots, id)
	case KindAffinityGroup:
		return has(ix.affinityGroups, id)
	case KindVMSnapshot:
		return has(ix.vmSnapshots, id)
	}
	return ix.existsVPC(k, id)
}
