package cloud

import "context"

// allocPublicIP takes an address from the zone's public pool into b.
func (ix *index) allocPublicIP(b *batch, s *Sim, z *Zone, o Owner, networkID, vpcID, want string, sourceNAT bool) (*PublicIP, error) {
	pool, ok := ix.networks.get(z.PublicNetworkID)
	if !ok {
		return nil, Invalid("Zone %s has no public IP ranges", z.Name)
	}
	if err := ix.checkLimits(b, o, map[Resource]int64{ResPublicIP: 1}); err != nil {
		return nil, err
	}
	id := newID()
	addr, rng, err := ix.allocIP(b, pool, want, id)
	if err != nil {
		return nil, err
	}
	p := &PublicIP{ID: id, Seq: ix.nextSeq(), Address: addr, ZoneID: z.ID, NetworkID: networkID, SourceNAT: sourceNAT,
		VLAN: rng.VLAN, State: "Allocated", Allocated: s.clock.Now().UTC(), Owner: o, VPCID: vpcID}
	put(b, ix.publicIPs, p)
	ix.event(b, s, o, Caller{}, "NET.IPASSIGN", "Assigned public IP "+addr, p.ID, KindPublicIP)
	return p, nil
}

// AssociateIP allocates a public address to a network (create-style async
// job: the address exists at once and the job is already complete).
func (s *Sim) AssociateIP(ctx context.Context, c Caller, zoneID, networkID, vpcID, want, account, domainID, cmd string) (*PublicIP, *Job, error) {
	var out *PublicIP
	var job *Job
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		if networkID != "" {
			n, ok := ix.networks.get(networkID)
			if !ok || n.System || !ix.canAccess(c, n.Owner) {
				return notFound(KindNetwork, networkID)
			}
			zoneID, o = n.ZoneID, n.Owner
			if n.VPCID != "" {
				vpcID = n.VPCID
			}
		} else if vpcID != "" {
			v, err := ix.vpcFor(c, vpcID)
			if err != nil {
				return err
			}
			zoneID, o = v.ZoneID, v.Owner
		}
		z, ok := ix.zones.get(zoneID)
		if !ok {
			if zoneID == "" {
				return Invalid("Either networkid or zoneid must be specified")
			}
			return notFound(KindZone, zoneID)
		}
		if networkID == "" && vpcID == "" && z.NetworkType == "Advanced" {
			if networkID, err = ix.defaultIsolatedNetwork(z, o); err != nil {
				return err
			}
		}
		b := &batch{}
		if out, err = ix.allocPublicIP(b, s, z, o, networkID, vpcID, want, false); err != nil {
			return err
		}
		job = s.newJobVal(c, o, JobSpec{Cmd: cmd, InstanceType: KindPublicIP, InstanceID: out.ID})
		job.complete(s.clock.Now().UTC(), KindPublicIP, out)
		put(b, ix.jobs, job)
		return s.commit(ctx, b)
	})
	return out, job, err
}

func (ix *index) publicIPFor(c Caller, id string) (*PublicIP, error) {
	p, ok := ix.publicIPs.get(id)
	if !ok || !ix.canAccess(c, p.Owner) {
		return nil, notFound(KindPublicIP, id)
	}
	return p, nil
}

// DisassociateIP releases a public address, in an async job.
func (s *Sim) DisassociateIP(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		var p *PublicIP
		if p, err = ix.publicIPFor(c, id); err == nil && p.SourceNAT {
			err = Invalid("Can't release source nat IP address %s", p.Address)
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindPublicIP, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, ok := ix.publicIPs.get(id)
			if !ok {
				return notFound(KindPublicIP, id)
			}
			z, _ := ix.zones.get(p.ZoneID)
			b := &batch{}
			ix.release(b, z.PublicNetworkID, p.Address)
			ix.dropRulesOfIP(b, id)
			del(b, ix.publicIPs, id)
			for _, t := range ix.tags.byGroup(id) {
				del(b, ix.tags, t.ID)
			}
			ix.event(b, s, p.Owner, jc.caller(ix), "NET.IPRELEASE", "Released public IP "+p.Address, id, KindPublicIP)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// SetStaticNAT maps a public address to a VM (vmID "" removes the mapping).
func (s *Sim) SetStaticNAT(ctx context.Context, c Caller, ipID, vmID string) error {
	return s.write(func(ix *index) error {
		p, err := ix.publicIPFor(c, ipID)
		if err != nil {
			return err
		}
		n := *p
		if vmID == "" {
			if !p.StaticNAT {
				return Invalid("Specified IP address id is not associated with any vm Id")
			}
			n.StaticNAT, n.VMID, n.VMIP = false, "", ""
		} else {
			vm, err := ix.vmFor(c, vmID)
			if err != nil {
				return err
			}
			if p.SourceNAT {
				return Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "Can't enable static nat for the source nat ip address %s", p.Address)
			}
			if p.StaticNAT && p.VMID != vm.ID {
				return Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "Failed to enable static nat for the ip address id=%s as it's already assigned to a vm", ipID)
			}
			if err := ix.staticNATTarget(&n, vm); err != nil {
				return err
			}
		}
		b := &batch{}
		if vmID == "" {
			ix.dropStaticNATRules(b, p.ID)
		}
		put(b, ix.publicIPs, &n)
		return s.commit(ctx, b)
	})
}

// DisableStaticNAT removes a public address's static NAT, in an async job.
func (s *Sim) DisableStaticNAT(ctx context.Context, c Caller, ipID, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		var p *PublicIP
		if p, err = ix.publicIPFor(c, ipID); err == nil && !p.StaticNAT {
			err = Invalid("Specified IP address id is not associated with any vm Id")
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindPublicIP, InstanceID: ipID}, func(ctx context.Context, jc *jobCtx) error {
		return s.SetStaticNAT(ctx, c, ipID, "")
	})
}
