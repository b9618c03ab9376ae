package cloud

import (
	"context"
	"fmt"
)

// RestoreVMRequest is what restoreVirtualMachine asks for.
type RestoreVMRequest struct {
	VMID string
	// TemplateID is the template (or, for a VM installed from an ISO, the
	// ISO) to restore from; empty: the VM's own.
	TemplateID     string
	DiskOfferingID string
	// RootDiskSize overrides the new root disk's size in GB (0: the
	// template's, or the offering's).
	RootDiskSize int64
	Cmd          string
}

// RestoreVM gives a Running or Stopped VM a fresh root disk from its
// template (or another one), in an async job: the old root volume is
// removed, the VM keeps its state, addresses and data disks. A
// password-enabled template gives the VM a new password, shown in the
// job's result, as the real server does.
func (s *Sim) RestoreVM(ctx context.Context, c Caller, r RestoreVMRequest) (*Job, error) {
	check := func(ix *index, c Caller, vm *VM) (*Template, error) {
		if vm.State != VMRunning && vm.State != VMStopped {
			return nil, Errorf(CodeInternal, CSCloudRuntime, "Vm %s currently in %s state, restore vm can only execute when VM in Running or Stopped", vm.ID, vm.State)
		}
		id := orDefault(r.TemplateID, vm.TemplateID)
		if vm.ISOID != "" && r.TemplateID == "" {
			id = vm.ISOID
		}
		t, ok := ix.templates.get(id)
		if !ok || !(t.Public || ix.canAccess(c, t.Owner)) {
			return nil, notFound(KindTemplate, id)
		}
		if r.TemplateID != "" {
			if vm.ISOID != "" && t.Format != FormatISO {
				return nil, Invalid("Invalid ISO id provided to restore the VM ")
			}
			if vm.ISOID == "" && t.Format == FormatISO {
				return nil, Invalid("Invalid template id provided to restore the VM ")
			}
		}
		if r.DiskOfferingID != "" {
			if _, ok := ix.activeDiskOffering(r.DiskOfferingID); !ok {
				return nil, notFound(KindDiskOffering, r.DiskOfferingID)
			}
		}
		return t, nil
	}
	var err error
	s.read(func(ix *index) {
		var vm *VM
		if vm, err = ix.vmFor(c, r.VMID); err == nil {
			_, err = check(ix, c, vm)
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: r.Cmd, InstanceType: KindVM, InstanceID: r.VMID}, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, r.VMID, func(ix *index, vm *VM, b *batch) error {
			caller := jc.caller(ix)
			t, err := check(ix, caller, vm)
			if err != nil {
				return err
			}
			now := s.clock.Now().UTC()
			old, _ := ix.volumes.get(vm.RootVolumeID)
			size := t.SizeGB
			if so, ok := ix.serviceOfferings.get(vm.ServiceOfferingID); ok && so.RootDiskSize > 0 {
				size = so.RootDiskSize
			}
			offering := ""
			if t.Format == FormatISO && old != nil {
				size, offering = old.SizeGB, old.DiskOfferingID
			}
			if r.DiskOfferingID != "" {
				offering = r.DiskOfferingID
				if off, ok := ix.diskOfferings.get(offering); ok && off.SizeGB > 0 {
					size = off.SizeGB
				}
			}
			if r.RootDiskSize > 0 {
				size = r.RootDiskSize
			}
			vol := &Volume{ID: newID(), Seq: ix.nextSeq(), Name: fmt.Sprintf("ROOT-%d", vm.Seq), Type: "ROOT", VMID: vm.ID,
				ZoneID: vm.ZoneID, SizeGB: size, TemplateID: t.ID, DiskOfferingID: offering, State: "Ready", Created: now, Owner: vm.Owner}
			if old != nil {
				del(b, ix.volumes, old.ID)
			}
			put(b, ix.volumes, vol)
			n := *vm
			n.RootVolumeID = vol.ID
			if t.Format == FormatISO {
				n.ISOID = t.ID
			} else {
				n.TemplateID = t.ID
			}
			pw := ""
			if t.PasswordEnabled {
				if pw, err = newVMPassword(); err != nil {
					return err
				}
				ix.setVMPassword(&n, pw)
			}
			put(b, ix.vms, &n)
			ix.event(b, s, vm.Owner, caller, "VM.RESTORE", "Successfully completed restoring VM. Vm Name: "+vm.Name, vm.ID, KindVM)
			jc.complete(b, KindVM, withPassword(&n, pw))
			return nil
		})
	})
}

// UpdateVMAffinityGroups sets a Stopped VM's affinity groups (ids or
// names of its owner's groups; none: it leaves every group), in an async
// job. The new groups bind from the VM's next start.
func (s *Sim) UpdateVMAffinityGroups(ctx context.Context, c Caller, id string, ids, names []string, cmd string) (*Job, error) {
	check := func(ix *index, c Caller, vm *VM) ([]string, error) {
		if vm.State != VMStopped {
			return nil, Invalid("Unable update affinity groups of the virtual machine %s in state %s; make sure the virtual machine is stopped and not in an error state before updating.", vmLabel(vm), vm.State)
		}
		return ix.resolveAffinityGroups(c, vm.Owner, ids, names)
	}
	var err error
	s.read(func(ix *index) {
		var vm *VM
		if vm, err = ix.vmFor(c, id); err == nil {
			_, err = check(ix, c, vm)
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVM, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, id, func(ix *index, vm *VM, b *batch) error {
			caller := jc.caller(ix)
			groups, err := check(ix, caller, vm)
			if err != nil {
				return err
			}
			n := *vm
			n.AffinityGroupIDs = groups
			put(b, ix.vms, &n)
			ix.event(b, s, vm.Owner, caller, "VM.AG.UPDATE", "Successfully updated affinity groups of VM. Vm Name: "+vm.Name, vm.ID, KindVM)
			jc.complete(b, KindVM, &n)
			return nil
		})
	})
}

// UpdateDefaultNIC makes one of a Running or Stopped VM's NICs its default
// (in an advanced zone), in an async job: the two NICs swap places, and
// so device ids, as the real server swaps them.
func (s *Sim) UpdateDefaultNIC(ctx context.Context, c Caller, vmID, nicID, cmd string) (*Job, error) {
	check := func(ix *index, c Caller, vm *VM) (int, error) {
		if len(ix.vmSnapshotsOf(vm.ID)) > 0 {
			return 0, Invalid("NIC cannot be updated for Instance with Instance Snapshots")
		}
		owner, nic, err := ix.nicFor(c, nicID)
		if err != nil {
			return 0, Invalid("Unable to find a NIC with ID %s", nicID)
		}
		if z, ok := ix.zones.get(vm.ZoneID); ok && z.NetworkType == "Basic" {
			return 0, Errorf(CodeInternal, CSCloudRuntime, "Zone %d, has a NetworkType of Basic. Can't change default NIC on a Basic Network", z.Seq)
		}
		if owner.ID != vm.ID {
			return 0, Invalid("NIC {\"id\":\"%s\"} is not a nic on  %s", nic.ID, vmLabel(vm))
		}
		if nic.Default {
			return 0, Errorf(CodeInternal, CSCloudRuntime, "refusing to set default nic because chosen nic is already the default")
		}
		if vm.State != VMRunning && vm.State != VMStopped {
			return 0, Errorf(CodeInternal, CSCloudRuntime, "refusing to set default %s is not Running or Stopped", vmLabel(vm))
		}
		for i := range vm.NICs {
			if vm.NICs[i].ID == nicID {
				return i, nil
			}
		}
		return 0, notFound(KindNIC, nicID)
	}
	var err error
	s.read(func(ix *index) {
		var vm *VM
		if vm, err = ix.vmFor(c, vmID); err == nil {
			_, err = check(ix, c, vm)
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVM, InstanceID: vmID}, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, vmID, func(ix *index, vm *VM, b *batch) error {
			caller := jc.caller(ix)
			chosen, err := check(ix, caller, vm)
			if err != nil {
				return err
			}
			n := *vm
			n.NICs = append([]NIC(nil), vm.NICs...)
			old := 0
			for i := range n.NICs {
				if n.NICs[i].Default {
					old = i
				}
				n.NICs[i].Default = i == chosen
			}
			n.NICs[old], n.NICs[chosen] = n.NICs[chosen], n.NICs[old]
			put(b, ix.vms, &n)
			ix.event(b, s, vm.Owner, caller, "NIC.UPDATE", "Successfully updated the default NIC of VM. Vm Name: "+vm.Name, vm.ID, KindVM)
			jc.complete(b, KindVM, &n)
			return nil
		})
	})
}

// UpdateNICIP gives a VM's NIC another address of its network (want, or
// the next free one), in an async job. The VM must be Stopped when the
// network has services (as the real server asks); the static NAT and
// port forwarding rules that pointed at the old address follow it.
func (s *Sim) UpdateNICIP(ctx context.Context, c Caller, nicID, want, cmd string) (*Job, error) {
	check := func(ix *index, c Caller) (*VM, *Network, error) {
		vm, nic, err := ix.nicFor(c, nicID)
		if err != nil {
			return nil, nil, Invalid("There is no nic for the %s", nicID)
		}
		n, ok := ix.networks.get(nic.NetworkID)
		if !ok {
			return nil, nil, Invalid("There is no network with the nic")
		}
		if off, ok := ix.networkOfferings.get(n.OfferingID); ok && len(off.Services) > 0 && vm.State != VMStopped {
			return nil, nil, Invalid("VM is not Stopped, unable to update the vm nic having the specified id")
		}
		return vm, n, nil
	}
	var vmID string
	var err error
	s.read(func(ix *index) {
		var vm *VM
		if vm, _, err = check(ix, c); err == nil {
			vmID = vm.ID
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVM, InstanceID: vmID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			vm, n, err := check(ix, caller)
			if err != nil {
				return err
			}
			b := &batch{}
			nv := *vm
			nv.NICs = append([]NIC(nil), vm.NICs...)
			for i := range nv.NICs {
				nic := &nv.NICs[i]
				if nic.ID != nicID {
					continue
				}
				if want == nic.IP {
					break
				}
				ip, rng, err := ix.allocIP(b, n, want, vm.ID)
				if err != nil {
					return err
				}
				old := nic.IP
				ix.release(b, n.ID, old)
				nic.IP, nic.Netmask, nic.Gateway = ip, orDefault(rng.Netmask, n.Netmask), orDefault(rng.Gateway, n.Gateway)
				for _, r := range ix.ruleIdx.byVM[vm.ID] {
					if r.VMIP == old {
						nr := *r
						nr.VMIP = ip
						put(b, ix.rules, &nr)
					}
				}
				for _, p := range ix.publicIPs.all() {
					if p.VMID == vm.ID && p.VMIP == old {
						np := *p
						np.VMIP = ip
						put(b, ix.publicIPs, &np)
					}
				}
			}
			put(b, ix.vms, &nv)
			ix.event(b, s, vm.Owner, caller, "NIC.UPDATE", "Successfully updated the address of a NIC of VM. Vm Name: "+vm.Name, vm.ID, KindVM)
			jc.complete(b, KindVM, &nv)
			return s.commit(ctx, b)
		})
	})
}
