package cloud

import (
	"context"
	"time"
)

// MigrateVM live-migrates a Running VM to another host of its zone (hostID,
// or the emptiest host with room), in an async job: Running → Migrating
// (the VM holds capacity on both hosts) → Running on the destination.
// Root admin only, as migrateVirtualMachine is.
func (s *Sim) MigrateVM(ctx context.Context, c Caller, id, hostID, cmd string) (*Job, error) {
	if !c.IsRootAdmin() {
		return nil, Denied("Account %s is not a root admin", c.Account.Name)
	}
	return s.vmJob(ctx, c, id, cmd, func(vm *VM) error {
		if vm.State != VMRunning {
			return Invalid("VM is not Running, unable to migrate the vm %s", vm.InstanceName)
		}
		return nil
	}, func(ctx context.Context, jc *jobCtx) error {
		return s.migrateVM(ctx, jc, id, hostID)
	})
}

func (s *Sim) migrateVM(ctx context.Context, jc *jobCtx, id, hostID string) error {
	var wait time.Duration
	var dstID string
	err := s.write(func(ix *index) error {
		vm, ok := ix.vms.get(id)
		if !ok {
			return notFound(KindVM, id)
		}
		if vm.State != VMRunning {
			return Invalid("VM is not Running, unable to migrate the vm %s", vm.InstanceName)
		}
		so, _ := ix.serviceOfferings.get(vm.ServiceOfferingID)
		var dst *Host
		if hostID != "" {
			h, ok := ix.hosts.get(hostID)
			switch {
			case !ok || h.ZoneID != vm.ZoneID:
				return notFound(KindHost, hostID)
			case h.ID == vm.HostID:
				return Invalid("Cannot migrate VM, destination host is the same as the current host: %s", h.Name)
			case h.State != HostUp:
				return Invalid("Cannot migrate VM, destination host is not in correct state, has status: %s", h.State)
			case !h.fits(so):
				return Errorf(CodeInsufficientCap, CSInsufficientCapacity, "Unable to migrate VM[User|%s]: host %s has no room", vm.InstanceName, h.Name)
			}
			dst = h
		} else {
			for _, h := range ix.placementCandidates(vm, so, "") {
				if h.ID != vm.HostID {
					dst = h
					break
				}
			}
			if dst == nil {
				return Errorf(CodeInsufficientCap, CSInsufficientCapacity, "Unable to find a suitable destination host to migrate VM[User|%s]", vm.InstanceName)
			}
		}
		b := &batch{}
		act := ix.matchFault(b, CmdMigrate, vm, dst)
		if act.Result != FaultNone {
			_ = s.commit(ctx, b)
			return Errorf(CodeInternal, CSCloudRuntime, "Failed to migrate VM[User|%s]: %s", vm.InstanceName, faultText(act))
		}
		n := *vm
		ix.addLoad(b, dst, so, 1)
		dstID = dst.ID
		wait = s.timing(CmdMigrate) + act.Wait
		if wait == 0 {
			ix.releaseOn(b, vm.HostID, vm)
			n.HostID, n.LastHostID = dst.ID, dst.ID
			jc.complete(b, KindVM, &n)
		} else {
			n.State, n.MigrateToHostID = VMMigrating, dst.ID
		}
		put(b, ix.vms, &n)
		ix.event(b, s, vm.Owner, jc.caller(ix), "VM.MIGRATE", "Successfully completed migrating VM. Vm Name: "+vm.Name+" to host "+dst.Name, vm.ID, KindVM)
		return s.commit(ctx, b)
	})
	if err != nil || wait == 0 {
		return err
	}
	if err := s.sleep(ctx, wait); err != nil {
		return err
	}
	return s.write(func(ix *index) error {
		vm, ok := ix.vms.get(id)
		if !ok {
			return notFound(KindVM, id)
		}
		b := &batch{}
		n := *vm
		if vm.State == VMMigrating && vm.MigrateToHostID == dstID {
			ix.releaseOn(b, vm.HostID, vm)
			n.State, n.HostID, n.LastHostID, n.MigrateToHostID = VMRunning, dstID, dstID, ""
			put(b, ix.vms, &n)
		}
		jc.complete(b, KindVM, &n)
		return s.commit(ctx, b)
	})
}
