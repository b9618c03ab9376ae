package cloud

import (
	"context"
	"time"
)

// Kinds of the networking family's objects.
const (
	KindFirewallRule        Kind = "FirewallRule"
	KindLBStickinessPolicy  Kind = "LBStickinessPolicy"
	KindLBHealthCheckPolicy Kind = "LBHealthCheckPolicy"
	KindNIC                 Kind = "Nic"
	KindSecondaryIP         Kind = "NicSecondaryIp"
)

// SecondaryIP is an extra guest address of a NIC (addIpToNic).
type SecondaryIP struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"`
	NICID     string    `json:"nicId"`
	VMID      string    `json:"vmId"`
	NetworkID string    `json:"networkId"`
	IP        string    `json:"ip"`
	Created   time.Time `json:"created"`
	Owner
}

// nicFor finds the NIC with the given id and its VM, if c may see it.
func (ix *index) nicFor(c Caller, nicID string) (*VM, *NIC, error) {
	for _, vm := range ix.vms.all() {
		for i := range vm.NICs {
			if vm.NICs[i].ID == nicID {
				if !ix.canAccess(c, vm.Owner) {
					return nil, nil, notFound(KindNIC, nicID)
				}
				return vm, &vm.NICs[i], nil
			}
		}
	}
	return nil, nil, notFound(KindNIC, nicID)
}

// AddIPToNIC gives a NIC a secondary address of its network (want, or the
// next free one). Create-style: the address exists and the job is complete
// when the call returns.
func (s *Sim) AddIPToNIC(ctx context.Context, c Caller, nicID, want, cmd string) (*SecondaryIP, *Job, error) {
	var out *SecondaryIP
	var job *Job
	err := s.write(func(ix *index) error {
		vm, nic, err := ix.nicFor(c, nicID)
		if err != nil {
			return err
		}
		n, ok := ix.networks.get(nic.NetworkID)
		if !ok {
			return notFound(KindNetwork, nic.NetworkID)
		}
		b := &batch{}
		id := newID()
		addr, _, err := ix.allocIP(b, n, want, vm.ID)
		if err != nil {
			return err
		}
		out = &SecondaryIP{ID: id, Seq: ix.nextSeq(), NICID: nic.ID, VMID: vm.ID, NetworkID: n.ID, IP: addr,
			Created: s.clock.Now().UTC(), Owner: vm.Owner}
		put(b, ix.secondaryIPs, out)
		ix.event(b, s, vm.Owner, c, "NIC.SECONDARY.IP.ASSIGN", "Assigned secondary ip "+addr+" to nic "+nic.ID, id, KindSecondaryIP)
		job = s.newJobVal(c, vm.Owner, JobSpec{Cmd: cmd, InstanceType: KindSecondaryIP, InstanceID: id})
		job.complete(s.clock.Now().UTC(), KindSecondaryIP, out)
		put(b, ix.jobs, job)
		return s.commit(ctx, b)
	})
	return out, job, err
}

// RemoveIPFromNIC releases a secondary address, in an async job. An
// address a rule still forwards to cannot go.
func (s *Sim) RemoveIPFromNIC(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	check := func(ix *index, c Caller) (*SecondaryIP, error) {
		sec, ok := ix.secondaryIPs.get(id)
		if !ok || !ix.canAccess(c, sec.Owner) {
			return nil, notFound(KindSecondaryIP, id)
		}
		for _, r := range ix.ruleIdx.byVM[sec.VMID] {
			if r.VMIP == sec.IP || r.hasMemberIP(sec.IP) {
				return nil, Invalid("Can't remove the secondary ip %s: %s %s uses it", sec.IP, ruleNoun(r.Purpose), r.ID)
			}
		}
		for _, p := range ix.publicIPs.all() {
			if p.StaticNAT && p.VMID == sec.VMID && p.VMIP == sec.IP {
				return nil, Invalid("Can't remove the secondary ip %s: it is associated with static NAT rule public IP address %s", sec.IP, p.Address)
			}
		}
		return sec, nil
	}
	var err error
	s.read(func(ix *index) { _, err = check(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindSecondaryIP, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			sec, err := check(ix, jc.caller(ix))
			if err != nil {
				return err
			}
			b := &batch{}
			ix.release(b, sec.NetworkID, sec.IP)
			del(b, ix.secondaryIPs, sec.ID)
			ix.event(b, s, sec.Owner, jc.caller(ix), "NIC.SECONDARY.IP.UNASSIGN", "Released secondary ip "+sec.IP, sec.ID, KindSecondaryIP)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

func (r *NetRule) hasMemberIP(ip string) bool {
	for _, m := range r.Members {
		if m.IP == ip {
			return true
		}
	}
	return false
}

// RemoveNIC detaches a VM from a network, in an async job whose result is
// the VM: the NIC's addresses are released. The default NIC stays, and so
// does one that rules still use.
func (s *Sim) RemoveNIC(ctx context.Context, c Caller, vmID, nicID, cmd string) (*Job, error) {
	decide := func(ix *index, c Caller) (*VM, *NIC, error) {
		vm, err := ix.vmFor(c, vmID)
		if err != nil {
			return nil, nil, err
		}
		for i := range vm.NICs {
			nic := &vm.NICs[i]
			if nic.ID != nicID {
				continue
			}
			if nic.Default {
				return nil, nil, Invalid("Unable to remove nic from %s in %s, nic is default.", vm.InstanceName, nic.NetworkID)
			}
			for _, r := range ix.ruleIdx.byVM[vm.ID] {
				if r.NetworkID == nic.NetworkID {
					return nil, nil, Invalid("Unable to remove nic from %s: %s %s forwards to it", vm.InstanceName, ruleNoun(r.Purpose), r.ID)
				}
			}
			return vm, nic, nil
		}
		return nil, nil, notFound(KindNIC, nicID)
	}
	var err error
	s.read(func(ix *index) { _, _, err = decide(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVM, InstanceID: vmID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			vm, nic, err := decide(ix, jc.caller(ix))
			if err != nil {
				return err
			}
			b := &batch{}
			ix.release(b, nic.NetworkID, nic.IP)
			for _, sec := range ix.secondaryIPs.byGroup(nic.ID) {
				ix.release(b, sec.NetworkID, sec.IP)
				del(b, ix.secondaryIPs, sec.ID)
			}
			nv := *vm
			nv.NICs = nil
			for _, x := range vm.NICs {
				if x.ID != nicID {
					nv.NICs = append(nv.NICs, x)
				}
			}
			put(b, ix.vms, &nv)
			ix.event(b, s, vm.Owner, jc.caller(ix), "NIC.DELETE", "Removed nic "+nicID+" from VM "+vm.Name, vm.ID, KindVM)
			jc.complete(b, KindVM, &nv)
			return s.commit(ctx, b)
		})
	})
}

// dropSecondaryIPsOfVM adds the release of a VM's secondary addresses to b.
func (ix *index) dropSecondaryIPsOfVM(b *batch, vm *VM) {
	for _, nic := range vm.NICs {
		for _, sec := range ix.secondaryIPs.byGroup(nic.ID) {
			ix.release(b, sec.NetworkID, sec.IP)
			del(b, ix.secondaryIPs, sec.ID)
		}
	}
}

// Reader access to the networking family.

// NetRules returns every network rule in creation order.
func (r Reader) NetRules() []*NetRule { return r.ix.rules.all() }

// NetRule looks a rule up by id.
func (r Reader) NetRule(id string) (*NetRule, bool) { return r.ix.rules.get(id) }

// RulesOfIP returns the rules of a public address in creation order.
func (r Reader) RulesOfIP(ipID string) []*NetRule { return sortedRules(r.ix.ruleIdx.byIP[ipID]) }

// RulesOfVM returns the rules that forward or balance to a VM.
func (r Reader) RulesOfVM(vmID string) []*NetRule { return sortedRules(r.ix.ruleIdx.byVM[vmID]) }

// LBPolicyRule returns the load balancer rule a policy belongs to.
func (r Reader) LBPolicyRule(policyID string) (*NetRule, bool) {
	return r.ix.rules.get(r.ix.ruleIdx.policies[policyID])
}

// StaticNATOf returns the public address static NAT maps to a VM.
func (r Reader) StaticNATOf(vmID string) (*PublicIP, bool) {
	id, ok := r.ix.ruleIdx.staticNAT[vmID]
	if !ok {
		return nil, false
	}
	return r.ix.publicIPs.get(id)
}

// SecondaryIPsOf returns a NIC's secondary addresses.
func (r Reader) SecondaryIPsOf(nicID string) []*SecondaryIP { return r.ix.secondaryIPs.byGroup(nicID) }

// SecondaryIP looks a secondary address up by id.
func (r Reader) SecondaryIP(id string) (*SecondaryIP, bool) { return r.ix.secondaryIPs.get(id) }

// existsNet is Reader.Exists for the networking family's kinds.
func (ix *index) existsNet(k Kind, id string) bool {
	switch k {
	case KindFirewallRule:
		return has(ix.rules, id)
	case KindSecondaryIP:
		return has(ix.secondaryIPs, id)
	case KindRemovedVM:
		return has(ix.vms, id) || has(ix.removedVMs, id)
	case KindLBStickinessPolicy, KindLBHealthCheckPolicy:
		_, ok := ix.ruleIdx.policies[id]
		return ok
	case KindNIC:
		_, _, err := ix.nicFor(Caller{Account: &Account{Type: AccountRootAdmin}}, id)
		return err == nil
	}
	return ix.existsStorage(k, id)
}
