package cloud

import (
	"context"
	"encoding/json"
	"slices"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// placementCandidates returns the Up hosts of the VM's zone with room for
// offering so, the emptiest first (spreading VMs like CloudStack's
// "firstfit" with random order does, but deterministically). hostID, when
// set, is the only candidate.
func (ix *index) placementCandidates(vm *VM, so *ServiceOffering, hostID string) []*Host {
	var out []*Host
	allow := ix.affinityFilter(vm)
	for _, h := range ix.hosts.all() {
		if h.ZoneID != vm.ZoneID || !h.fits(so) || (hostID != "" && h.ID != hostID) || !allow(h.ID) {
			continue
		}
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(a, b *Host) int {
		fa, fb := a.MemoryMB-a.UsedMemoryMB, b.MemoryMB-b.UsedMemoryMB
		switch {
		case fa > fb:
			return -1
		case fa < fb:
			return 1
		}
		return 0
	})
	return out
}

// addLoad adds (n=1) or removes (n=-1) a VM of offering so to the host's
// used capacity, in b. The write is conditioned on the host's revision, so
// two placements can never both take the last room on a host.
func (ix *index) addLoad(b *batch, h *Host, so *ServiceOffering, n int) {
	// Several changes to one host in a batch build on each other.
	if cur := b.hosts[h.ID]; cur != nil {
		h = cur
	}
	nh := *h
	nh.UsedCPU += int64(n) * so.cpuMHz()
	nh.UsedMemoryMB += int64(n) * int64(so.MemoryMB)
	nh.VMs += n
	nh.UsedCPU, nh.UsedMemoryMB, nh.VMs = max(nh.UsedCPU, 0), max(nh.UsedMemoryMB, 0), max(nh.VMs, 0)
	if b.hosts == nil {
		b.hosts = map[string]*Host{}
	}
	if _, seen := b.hosts[h.ID]; seen {
		// replace the earlier put of this host in the batch
		b.replaceHost(ix, &nh)
	} else {
		put(b, ix.hosts, &nh)
	}
	b.hosts[h.ID] = &nh
}

// replaceHost rewrites the pending put of a host already in b.
func (b *batch) replaceHost(ix *index, h *Host) {
	key := ix.hosts.prefix + h.ID
	data, err := json.Marshal(h)
	if err != nil {
		b.err = err
		return
	}
	for i := range b.ops {
		if b.ops[i].Key == key {
			b.ops[i].Value = data
		}
	}
	b.then(func(rev int64) { ix.hosts.set(h, rev) })
}

// releaseHost gives back the capacity a VM holds on its host (and on the
// destination of a migration in progress).
func (ix *index) releaseHost(b *batch, vm *VM) {
	ix.releaseOn(b, vm.HostID, vm)
	ix.releaseTarget(b, vm)
}

// releaseTarget gives back what a Migrating VM holds on its destination.
func (ix *index) releaseTarget(b *batch, vm *VM) {
	if vm.MigrateToHostID != "" {
		ix.releaseOn(b, vm.MigrateToHostID, vm)
	}
}

// releaseOn gives back the capacity vm's offering takes on one host.
func (ix *index) releaseOn(b *batch, hostID string, vm *VM) {
	h, ok := ix.hosts.get(hostID)
	if !ok {
		return
	}
	so, ok := ix.serviceOfferings.get(vm.ServiceOfferingID)
	if !ok {
		return
	}
	ix.addLoad(b, h, so, -1)
}

// Capacity is a zone's (or the whole cloud's) used and total capacity.
type Capacity struct {
	CPUUsedMHz, CPUTotalMHz     int64
	MemoryUsedMB, MemoryTotalMB int64
	Hosts, HostsUp, VMs         int
}

// Capacity sums the capacity of the hosts of a zone ("" for all zones).
func (s *Sim) Capacity(zoneID string) Capacity {
	var c Capacity
	s.read(func(ix *index) {
		for _, h := range ix.hosts.all() {
			if zoneID != "" && h.ZoneID != zoneID {
				continue
			}
			c.Hosts++
			if h.State == HostUp {
				c.HostsUp++
			}
			c.CPUUsedMHz += h.UsedCPU
			c.CPUTotalMHz += h.TotalCPU()
			c.MemoryUsedMB += h.UsedMemoryMB
			c.MemoryTotalMB += h.MemoryMB
			c.VMs += h.VMs
		}
	})
	return c
}

// SetHostState takes a host Down (its VMs stop, or restart on another
// host when their offering has HA) or brings it back Up. Root admin only.
func (s *Sim) SetHostState(ctx context.Context, c Caller, hostID string, st HostState) error {
	if !c.IsRootAdmin() {
		return Denied("Account %s is not a root admin", c.Account.Name)
	}
	return s.write(func(ix *index) error {
		if _, ok := ix.hosts.get(hostID); !ok {
			return notFound(KindHost, hostID)
		}
		return s.setHostState(ctx, ix, hostID, st, false)
	})
}

// setHostState does SetHostState's work; caller holds wmu.
func (s *Sim) setHostState(ctx context.Context, ix *index, hostID string, st HostState, byFault bool) error {
	h, _ := ix.hosts.get(hostID)
	if h.State == st {
		return nil
	}
	b := &batch{}
	nh := *h
	nh.State = st
	nh.DownByFault = byFault && st == HostDown
	put(b, ix.hosts, &nh)
	b.hosts = map[string]*Host{h.ID: &nh}
	if st == HostDown {
		for _, vm := range ix.vms.all() {
			if vm.HostID != h.ID || !vm.State.holdsCapacity() {
				continue
			}
			so, _ := ix.serviceOfferings.get(vm.ServiceOfferingID)
			ix.addLoad(b, &nh, so, -1)
			ix.releaseTarget(b, vm)
			n := *vm
			n.HostID, n.JobID, n.MigrateToHostID = "", "", ""
			n.State = VMStopped
			msg := "VM stopped: its host " + h.Name + " went down"
			if vm.HA {
				for _, cand := range ix.placementCandidates(vm, so, "") {
					if cand.ID == h.ID {
						continue
					}
					if cur := b.hosts[cand.ID]; cur != nil {
						cand = cur
						if !cand.fits(so) {
							continue
						}
					}
					ix.addLoad(b, cand, so, 1)
					n.State, n.HostID, n.LastHostID = VMRunning, cand.ID, cand.ID
					msg = "HA restarted VM on host " + cand.Name + " after host " + h.Name + " went down"
					break
				}
			}
			put(b, ix.vms, &n)
			ix.event(b, s, vm.Owner, Caller{}, "HA.VM.RESTART", msg, vm.ID, KindVM)
		}
	}
	ix.event(b, s, Owner{}, Caller{}, "HOST.STATE", "Host "+h.Name+" is "+string(st), h.ID, KindHost)
	if st == HostDown {
		ix.alertHostDown(b, s, h)
	}
	return s.commit(ctx, b)
}

// applyPingFaults takes down the hosts an active PingCommand fault names
// and brings back those it took down whose fault is gone.
func (s *Sim) applyPingFaults(ctx context.Context) error {
	return s.write(func(ix *index) error {
		for _, h := range ix.hosts.all() {
			down := false
			for _, m := range ix.mocks.all() {
				if !m.Active || m.Command != CmdPing || m.Action.Result == FaultNone {
					continue
				}
				if (m.ZoneID == "" || m.ZoneID == h.ZoneID) && (m.PodID == "" || m.PodID == h.PodID) &&
					(m.ClusterID == "" || m.ClusterID == h.ClusterID) && (m.HostID == "" || m.HostID == h.ID) && m.VMID == "" {
					down = true
				}
			}
			var err error
			switch {
			case down && h.State == HostUp:
				err = s.setHostState(ctx, ix, h.ID, HostDown, true)
			case !down && h.State == HostDown && h.DownByFault:
				err = s.setHostState(ctx, ix, h.ID, HostUp, false)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
