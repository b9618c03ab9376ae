package cloud

import (
	"context"
	"net/netip"
)

// RestartNetwork restarts a network's elements, in an async job. The
// simulator has no routers to restart: the job checks the network's state
// as CloudStack does and succeeds.
func (s *Sim) RestartNetwork(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) {
		n, ok := ix.networks.get(id)
		switch {
		case !ok || n.System || !(ix.canAccess(c, n.Owner) || n.Shared && c.IsRootAdmin()):
			err = notFound(KindNetwork, id)
		case n.State != "Implemented" && n.State != "Setup":
			err = Invalid("Network is not in the right state to be restarted. Correct states are: Implemented, Setup")
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
			b := &batch{}
			ix.event(b, s, n.Owner, jc.caller(ix), "NETWORK.RESTART", "Restarted network "+n.Name, id, KindNetwork)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// NetworkUpdate changes a network; nil or empty fields stay as they are.
type NetworkUpdate struct {
	Name, DisplayText *string
	// OfferingID moves the network to another offering of the same guest
	// type; GuestCIDR narrows the range VMs get addresses from.
	OfferingID, GuestCIDR string
	Cmd                   string
}

// UpdateNetwork changes a network in an async job whose result is the
// network.
func (s *Sim) UpdateNetwork(ctx context.Context, c Caller, id string, u NetworkUpdate) (*Job, error) {
	decide := func(ix *index, c Caller) (*Network, error) {
		n, ok := ix.networks.get(id)
		if !ok || n.System || !ix.canAccess(c, n.Owner) {
			return nil, notFound(KindNetwork, id)
		}
		nn := *n
		if u.Name != nil && *u.Name != "" {
			nn.Name = *u.Name
		}
		if u.DisplayText != nil && *u.DisplayText != "" {
			nn.DisplayText = *u.DisplayText
		}
		if u.OfferingID != "" && u.OfferingID != n.OfferingID {
			off, ok := ix.networkOfferings.get(u.OfferingID)
			if !ok {
				return nil, notFound(KindNetworkOffering, u.OfferingID)
			}
			if off.State != "Enabled" {
				return nil, Invalid("Network offering with specified id is not in Enabled state, can't upgrade to it")
			}
			if off.GuestIPType != n.Type || off.ForVPC != (n.VPCID != "") {
				return nil, Invalid("Can't upgrade from network offering %s to %s; check logs for more information", n.OfferingID, off.ID)
			}
			nn.OfferingID = off.ID
		}
		if u.GuestCIDR != "" && u.GuestCIDR != n.CIDR {
			p, err := netip.ParsePrefix(u.GuestCIDR)
			outer, err2 := netip.ParsePrefix(n.CIDR)
			if err != nil || err2 != nil || !p.Addr().Is4() || p.Bits() < outer.Bits() || !outer.Contains(p.Addr()) {
				return nil, Invalid("Invalid guest vm cidr %s; it must be a part of the network cidr %s", u.GuestCIDR, n.CIDR)
			}
			first, _ := parseIP(p.Masked().Addr().String())
			last := first | (1<<(32-p.Bits()) - 1)
			for ip := range ix.claimed[n.ID] {
				if ip < first || ip > last {
					return nil, Invalid("Can't update the guest vm cidr to %s: address %s in use lies outside it", u.GuestCIDR, formatIP(ip))
				}
			}
			gw, _ := parseIP(n.Gateway)
			nn.Ranges = nil
			if gw > first+1 && gw <= last {
				nn.Ranges = append(nn.Ranges, IPRange{Start: formatIP(first + 1), End: formatIP(min(gw-1, last-1))})
			}
			if lo := max(first+1, gw+1); lo < last {
				nn.Ranges = append(nn.Ranges, IPRange{Start: formatIP(lo), End: formatIP(last - 1)})
			}
		}
		return &nn, nil
	}
	var err error
	s.read(func(ix *index) { _, err = decide(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: u.Cmd, InstanceType: KindNetwork, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			nn, err := decide(ix, jc.caller(ix))
			if err != nil {
				return err
			}
			b := &batch{}
			put(b, ix.networks, nn)
			ix.event(b, s, nn.Owner, jc.caller(ix), "NETWORK.UPDATE", "Updated network "+nn.Name, id, KindNetwork)
			jc.complete(b, KindNetwork, nn)
			return s.commit(ctx, b)
		})
	})
}

// defaultIsolatedNetwork is the network associateIpAddress puts an address
// in when only a zone is given: the account's one isolated network in the
// zone ("" when it has none: the address waits for a rule to name one).
func (ix *index) defaultIsolatedNetwork(z *Zone, o Owner) (string, error) {
	var found []string
	for _, n := range ix.networks.all() {
		if n.ZoneID == z.ID && n.AccountID == o.AccountID && n.Type == "Isolated" && !n.System && n.VPCID == "" {
			found = append(found, n.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", Invalid("More than 1 default Isolated networks are found for account Acct[%s]; please specify networkId", o.AccountID)
}
