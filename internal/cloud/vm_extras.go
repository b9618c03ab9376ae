package cloud

import (
	"fmt"
	"time"
)

// What a deploy and an expunge do beyond the VM itself: the data disk a
// disk offering asks for, and the record of expunged VMs.

// KindRemovedVM names VMs by id including expunged ones: CloudStack keeps
// an expunged VM's row (marked removed), so an id that named a VM still
// passes a list's parameter check and the list is empty, where an id that
// never named one is refused.
const KindRemovedVM Kind = "UserVmIncludingRemoved"

// RemovedVM records that a VM with this id existed and was expunged.
type RemovedVM struct {
	ID      string    `json:"id"`
	Seq     int64     `json:"seq"`
	Removed time.Time `json:"removed"`
}

// addDataDisk adds to b the data disk of a VM deployed with a disk
// offering (sizeGB for a custom offering), attached as device 1.
func (ix *index) addDataDisk(b *batch, vm *VM, offeringID string, sizeGB int64, now time.Time) error {
	if offeringID == "" {
		return nil
	}
	off, ok := ix.activeDiskOffering(offeringID)
	if !ok {
		return notFound(KindDiskOffering, offeringID)
	}
	size := off.SizeGB
	if off.Custom {
		if sizeGB <= 0 {
			return Invalid("This disk offering requires a custom size specified")
		}
		size = sizeGB
	}
	// the root volume and this one
	if err := ix.checkLimits(b, vm.Owner, map[Resource]int64{ResVolume: 2}); err != nil {
		return err
	}
	put(b, ix.volumes, &Volume{ID: newID(), Seq: ix.nextSeq(), Name: fmt.Sprintf("DATA-%d", vm.Seq), Type: "DATADISK", VMID: vm.ID,
		ZoneID: vm.ZoneID, SizeGB: size, DiskOfferingID: off.ID, State: "Ready", Created: now, Owner: vm.Owner, DeviceID: 1, Attached: now})
	return nil
}

// expungeExtras adds to b what expunging a VM does beyond its own
// records: its data disks are detached (they stay, as CloudStack keeps
// them), its rules go, and its id is remembered.
func (ix *index) expungeExtras(b *batch, s *Sim, vm *VM) {
	for _, v := range ix.volumes.all() {
		if v.VMID == vm.ID && v.Type == "DATADISK" && !b.dropped[v.ID] {
			n := *v
			n.VMID, n.DeviceID, n.Attached = "", 0, time.Time{}
			put(b, ix.volumes, &n)
		}
	}
	ix.dropRulesOfVM(b, vm.ID)
	ix.dropSecondaryIPsOfVM(b, vm)
	put(b, ix.removedVMs, &RemovedVM{ID: vm.ID, Seq: ix.nextSeq(), Removed: s.clock.Now().UTC()})
}
