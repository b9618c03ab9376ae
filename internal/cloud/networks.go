package cloud

import (
	"context"
	"fmt"
	"net/netip"
)

// resolveNetworks returns the networks a new VM joins: the zone's guest
// network in a Basic zone; in an Advanced zone the named ones, or the
// account's isolated network (created on first use, like CloudStack does
// when a default offering with source NAT exists).
func (ix *index) resolveNetworks(ctx context.Context, b *batch, s *Sim, c Caller, z *Zone, o Owner, ids []string) ([]*Network, error) {
	if z.NetworkType == "Basic" {
		n, ok := ix.networks.get(z.GuestNetworkID)
		if !ok {
			return nil, Errorf(CodeInternal, CSCloudRuntime, "zone %s has no guest network", z.Name)
		}
		if len(ids) > 0 && (len(ids) != 1 || ids[0] != n.ID) {
			return nil, Invalid("Can't specify networks other than the default guest network in a Basic zone")
		}
		return []*Network{n}, nil
	}
	var out []*Network
	for _, id := range ids {
		n, ok := ix.networks.get(id)
		if !ok || n.System || !(n.Shared || ix.canAccess(c, n.Owner)) {
			return nil, notFound(KindNetwork, id)
		}
		if n.ZoneID != z.ID {
			return nil, Invalid("Network id=%s doesn't belong to zone %s", id, z.Name)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		for _, n := range ix.networks.all() {
			if n.ZoneID == z.ID && n.AccountID == o.AccountID && n.Type == "Isolated" && n.VPCID == "" {
				out = append(out, n)
				break
			}
		}
	}
	if len(out) == 0 {
		var off *NetworkOffering
		for _, no := range ix.networkOfferings.all() {
			if no.GuestIPType == "Isolated" && no.HasService("SourceNat") && no.State == "Enabled" && !no.ForVPC {
				off = no
				break
			}
		}
		if off == nil {
			return nil, Invalid("Can't find a default network for the account; specify networkids")
		}
		n, err := ix.newNetwork(b, s, z, off, o, accountName(ix, o)+"-network", "", "", "", "", "")
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	for i, n := range out {
		if n.State == "Allocated" {
			impl, err := ix.implement(b, s, n)
			if err != nil {
				return nil, err
			}
			out[i] = impl
		}
	}
	return out, nil
}

// newNetwork adds an isolated or L2 network to b (a tier of VPC vpcID
// with ACL list aclID when vpcID is not "").
func (ix *index) newNetwork(b *batch, s *Sim, z *Zone, off *NetworkOffering, o Owner, name, displayText, gateway, netmask, vpcID, aclID string) (*Network, error) {
	if z.NetworkType != "Advanced" {
		return nil, Invalid("Network creation is not supported in a %s zone", z.NetworkType)
	}
	if off.GuestIPType == "Shared" {
		return nil, Invalid("Only root admins can create shared networks; this simulator does not create them")
	}
	if err := ix.checkLimits(b, o, map[Resource]int64{ResNetwork: 1}); err != nil {
		return nil, err
	}
	n := &Network{ID: newID(), Seq: ix.nextSeq(), Name: name, DisplayText: orDefault(displayText, name), ZoneID: z.ID,
		OfferingID: off.ID, Type: off.GuestIPType, TrafficType: "Guest", State: "Allocated", Created: s.clock.Now().UTC(), Owner: o,
		VPCID: vpcID, ACLID: aclID}
	if off.GuestIPType != "L2" {
		cidr := z.GuestCIDR
		if gateway != "" && netmask != "" {
			cidr = cidrOf(gateway, netmask)
			if cidr == "" {
				return nil, Invalid("Invalid gateway %s or netmask %s", gateway, netmask)
			}
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
			return nil, Invalid("Invalid guest CIDR %s", cidr)
		}
		first, _ := parseIP(p.Masked().Addr().String())
		last := first | (1<<(32-p.Bits()) - 1)
		gw := first + 1
		if gateway != "" {
			if gw, err = parseIP(gateway); err != nil {
				return nil, Invalid("Invalid gateway %s", gateway)
			}
		}
		n.Gateway, n.CIDR = formatIP(gw), p.Masked().String()
		n.Netmask = formatIP(^uint32(0) << (32 - p.Bits()))
		// every host address but the gateway
		if gw > first+1 {
			n.Ranges = append(n.Ranges, IPRange{Start: formatIP(first + 1), End: formatIP(gw - 1)})
		}
		if gw+1 < last {
			n.Ranges = append(n.Ranges, IPRange{Start: formatIP(gw + 1), End: formatIP(last - 1)})
		}
	}
	put(b, ix.networks, n)
	ix.event(b, s, o, Caller{}, "NETWORK.CREATE", "Successfully created network "+name, n.ID, KindNetwork)
	return n, nil
}

// implement gives a network its VLAN and, with SourceNat, a source NAT
// address, as CloudStack does when the first VM joins it.
func (ix *index) implement(b *batch, s *Sim, n *Network) (*Network, error) {
	z, _ := ix.zones.get(n.ZoneID)
	nn := *n
	nn.State = "Implemented"
	if z.VLANTo > 0 {
		used := map[string]bool{}
		for _, x := range ix.networks.all() {
			used[x.VLAN] = true
		}
		for v := z.VLANFrom; v <= z.VLANTo; v++ {
			if tag := fmt.Sprintf("vlan://%d", v); !used[tag] {
				nn.VLAN = tag
				break
			}
		}
	}
	off, _ := ix.networkOfferings.get(n.OfferingID)
	// (a VPC's tiers share the VPC's source NAT address)
	if off != nil && off.HasService("SourceNat") && z.PublicNetworkID != "" && n.VPCID == "" {
		if _, err := ix.allocPublicIP(b, s, z, n.Owner, nn.ID, "", "", true); err != nil {
			return nil, err
		}
	}
	put(b, ix.networks, &nn)
	return &nn, nil
}

// CreateNetworkRequest is createNetwork's parameters.
type CreateNetworkRequest struct {
	Name, DisplayText, OfferingID, ZoneID, Gateway, Netmask, Account, DomainID string
	// VPCID makes the network a tier of a VPC, with ACL list ACLID
	// (default_deny when "").
	VPCID, ACLID string
}

// CreateNetwork creates a guest network (Allocated until a VM joins it).
func (s *Sim) CreateNetwork(ctx context.Context, c Caller, r CreateNetworkRequest) (*Network, error) {
	var out *Network
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, r.Account, r.DomainID)
		if err != nil {
			return err
		}
		z, ok := ix.zones.get(r.ZoneID)
		if !ok {
			return notFound(KindZone, r.ZoneID)
		}
		off, ok := ix.networkOfferings.get(r.OfferingID)
		if !ok {
			return notFound(KindNetworkOffering, r.OfferingID)
		}
		if off.State != "Enabled" {
			return Invalid("Can't use specified network offering id as its state is not Enabled")
		}
		aclID := ""
		if r.VPCID != "" {
			v, err := ix.vpcFor(c, r.VPCID)
			if err != nil {
				return err
			}
			if aclID, err = ix.checkTier(c, o, v, off, z.ID, r.Gateway, r.Netmask, r.ACLID); err != nil {
				return err
			}
		} else if off.ForVPC {
			return Invalid("Network offering %s can be used for VPC networks only", off.Name)
		} else if r.ACLID != "" {
			return Invalid("Network ACL can be created just for networks of VPC")
		}
		b := &batch{}
		if out, err = ix.newNetwork(b, s, z, off, o, r.Name, r.DisplayText, r.Gateway, r.Netmask, r.VPCID, aclID); err != nil {
			return err
		}

		return s.commit(ctx, b)
	})
	return out, err
}

// DeleteNetwork deletes a network no VM uses, in an async job.
func (s *Sim) DeleteNetwork(ctx context.Context, c Caller, id string, forced bool, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		n, ok := ix.networks.get(id)
		if !ok || n.System || n.Shared || !ix.canAccess(c, n.Owner) {
			err = notFound(KindNetwork, id)
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindNetwork, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			n, ok := ix.networks.get(id)
			if !ok {
				return notFound(KindNetwork, id)
			}
			for _, vm := range ix.vms.all() {
				for _, nic := range vm.NICs {
					if nic.NetworkID == id {
						return InUse("Can't delete the network, not all user vms are expunged. Vm %s is in %s state", vm.Name, vm.State)
					}
				}
			}
			b := &batch{}
			for _, p := range ix.publicIPs.all() {
				if p.NetworkID == id {
					if z, ok := ix.zones.get(p.ZoneID); ok {
						ix.release(b, z.PublicNetworkID, p.Address)
					}
					ix.dropRulesOfIP(b, p.ID)
					del(b, ix.publicIPs, p.ID)
				}
			}
			ix.dropRulesOfNetwork(b, id)
			for ip := range ix.claimed[id] {
				ix.release(b, id, formatIP(ip))
			}
			for _, t := range ix.tags.byGroup(id) {
				del(b, ix.tags, t.ID)
			}
			del(b, ix.networks, id)
			ix.event(b, s, n.Owner, jc.caller(ix), "NETWORK.DELETE", "Successfully deleted network "+n.Name, id, KindNetwork)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}
