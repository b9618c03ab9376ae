package cloud

import (
	"context"
	"net/netip"
	"time"
)

// Private gateways and static routes of VPCs. A private gateway is the
// VPC router's leg on a private network (a VLAN, or an isolated network
// it is associated with): an address, a gateway and a netmask, with a
// network ACL list (default_deny unless given). Static routes send a CIDR
// through a private gateway, or to a next hop; the simulated router
// applies them at once (Active). Deleting a VPC removes both.

// Kinds of private gateways and static routes.
const (
	KindPrivateGateway Kind = "VpcGateway"
	KindStaticRoute    Kind = "StaticRoute"
)

// PrivateGateway is a VPC's private gateway.
type PrivateGateway struct {
	ID                  string    `json:"id"`
	Seq                 int64     `json:"seq"`
	VPCID               string    `json:"vpcId"`
	ZoneID              string    `json:"zoneId"`
	IPAddress           string    `json:"ipAddress"`
	Gateway             string    `json:"gateway"`
	Netmask             string    `json:"netmask"`
	VLAN                string    `json:"vlan,omitempty"`
	AssociatedNetworkID string    `json:"associatedNetworkId,omitempty"`
	ACLID               string    `json:"aclId"`
	SourceNAT           bool      `json:"sourceNat,omitempty"`
	State               string    `json:"state"`
	Created             time.Time `json:"created"`
	Owner
}

// StaticRoute is a route of a VPC: a CIDR through a private gateway or to
// a next hop.
type StaticRoute struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"`
	VPCID     string    `json:"vpcId"`
	GatewayID string    `json:"gatewayId,omitempty"`
	NextHop   string    `json:"nextHop,omitempty"`
	CIDR      string    `json:"cidr"`
	State     string    `json:"state"`
	Created   time.Time `json:"created"`
	Owner
}

// PrivateGatewaySpec is createPrivateGateway's parameters.
type PrivateGatewaySpec struct {
	VPCID, IPAddress, Gateway, Netmask, VLAN, AssociatedNetworkID, ACLID string
	SourceNAT                                                            bool
	Cmd                                                                  string
}

// CreatePrivateGateway adds a private gateway to a VPC.
func (s *Sim) CreatePrivateGateway(ctx context.Context, c Caller, r PrivateGatewaySpec) (*PrivateGateway, *Job, error) {
	var out *PrivateGateway
	var job *Job
	err := s.write(func(ix *index) error {
		v, err := ix.vpcFor(c, r.VPCID)
		if err != nil {
			return err
		}
		ip, err1 := netip.ParseAddr(r.IPAddress)
		gw, err2 := netip.ParseAddr(r.Gateway)
		mask, err3 := netip.ParseAddr(r.Netmask)
		if err1 != nil || !ip.Is4() {
			return Invalid("Invalid format for the ip address parameter")
		}
		if err2 != nil || !gw.Is4() {
			return Invalid("Invalid format for the gateway parameter")
		}
		bits := maskBits(mask)
		if err3 != nil || bits < 0 {
			return Invalid("Invalid netmask %s", r.Netmask)
		}
		subnet := netip.PrefixFrom(gw, bits).Masked()
		if !subnet.Contains(ip) {
			return Invalid("The gateway ip %s and the ip address %s should belong to the same subnet", r.Gateway, r.IPAddress)
		}
		if r.VLAN == "" && r.AssociatedNetworkID == "" {
			return Invalid("One of vlan and associatednetworkid must be specified")
		}
		if r.VLAN != "" && r.AssociatedNetworkID != "" {
			return Invalid("Only one of vlan and associatednetworkid can be specified")
		}
		if r.AssociatedNetworkID != "" {
			n, ok := ix.networks.get(r.AssociatedNetworkID)
			if !ok || !ix.canAccess(c, n.Owner) {
				return notFound(KindNetwork, r.AssociatedNetworkID)
			}
			if n.VPCID != "" || n.Type != "Isolated" {
				return Invalid("The associated network %s must be an isolated network outside any VPC", n.Name)
			}
		}
		for _, g := range ix.privateGateways.all() {
			if g.VPCID == v.ID && g.IPAddress == r.IPAddress {
				return Invalid("Private ip address %s already used for private gateway in VPC %s", r.IPAddress, v.Name)
			}
			if g.ZoneID == v.ZoneID && r.VLAN != "" && g.VLAN == r.VLAN && g.VPCID != v.ID {
				return Invalid("The VLAN %s is already used by a private gateway of another VPC", r.VLAN)
			}
		}
		if vp, err := netip.ParsePrefix(v.CIDR); err == nil && vp.Overlaps(subnet) {
			return Invalid("The private gateway's subnet %s overlaps the VPC's CIDR %s", subnet, v.CIDR)
		}
		acl := r.ACLID
		if acl == "" {
			acl = DefaultACLID(ACLDefaultDeny)
		} else if l, ok := ix.aclList(acl); !ok || (l.VPCID != "" && l.VPCID != v.ID) {
			return Invalid("Network ACL %s does not belong to VPC %s", acl, v.Name)
		}
		g := &PrivateGateway{ID: newID(), Seq: ix.nextSeq(), VPCID: v.ID, ZoneID: v.ZoneID, IPAddress: r.IPAddress, Gateway: r.Gateway,
			Netmask: r.Netmask, VLAN: r.VLAN, AssociatedNetworkID: r.AssociatedNetworkID, ACLID: acl, SourceNAT: r.SourceNAT,
			State: "Ready", Created: s.clock.Now().UTC(), Owner: v.Owner}
		b := &batch{}
		put(b, ix.privateGateways, g)
		ix.event(b, s, v.Owner, c, "PRIVATE.GATEWAY.CREATE", "Successfully created private gateway "+g.IPAddress+" for VPC "+v.Name, g.ID, KindPrivateGateway)
		job = s.finishedJob(b, c, v.Owner, r.Cmd, KindPrivateGateway, g.ID, g)
		out = g
		return s.commit(ctx, b)
	})
	return out, job, err
}

// maskBits is the prefix length of a contiguous IPv4 netmask, or -1.
func maskBits(m netip.Addr) int {
	if !m.Is4() {
		return -1
	}
	a := m.As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	bits := 0
	for n&0x80000000 != 0 {
		bits++
		n <<= 1
	}
	if n != 0 {
		return -1
	}
	return bits
}

// privateGatewayFor returns a private gateway c may use.
func (ix *index) privateGatewayFor(c Caller, id string) (*PrivateGateway, error) {
	g, ok := ix.privateGateways.get(id)
	if !ok || !ix.canAccess(c, g.Owner) {
		return nil, notFound(KindPrivateGateway, id)
	}
	return g, nil
}

// DeletePrivateGateway removes a private gateway no static route uses.
func (s *Sim) DeletePrivateGateway(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		g, err := ix.privateGatewayFor(c, id)
		if err != nil {
			return err
		}
		for _, r := range ix.staticRoutes.all() {
			if r.GatewayID == id {
				return Invalid("Can't delete private gateway %s as it has static routes applied. Please remove the static routes first", g.IPAddress)
			}
		}
		b := &batch{}
		del(b, ix.privateGateways, id)
		ix.event(b, s, g.Owner, c, "PRIVATE.GATEWAY.DELETE", "Successfully deleted private gateway "+g.IPAddress, id, KindPrivateGateway)
		job = s.finishedJob(b, c, g.Owner, cmd, KindPrivateGateway, id, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// blockedRoutes are the CIDRs a static route may not cover (CloudStack's
// default blacklisted routes: link local).
var blockedRoutes = []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}

// CreateStaticRoute adds a route to a VPC through one of its private
// gateways (gatewayID) or to a next hop of the VPC (nextHop with vpcID).
func (s *Sim) CreateStaticRoute(ctx context.Context, c Caller, gatewayID, nextHop, vpcID, cidr, cmd string) (*StaticRoute, *Job, error) {
	var res *StaticRoute
	var job *Job
	err := s.write(func(ix *index) error {
		switch {
		case gatewayID != "" && nextHop != "":
			return Invalid("Only one of gatewayid and nexthop can be specified")
		case gatewayID == "" && nextHop == "":
			return Invalid("Either gatewayid or nexthop must be specified")
		case nextHop != "" && vpcID == "":
			return Invalid("vpcid must be specified with nexthop")
		}
		var v *VPC
		if gatewayID != "" {
			g, err := ix.privateGatewayFor(c, gatewayID)
			if err != nil {
				return err
			}
			if v, err = ix.vpcFor(c, g.VPCID); err != nil {
				return err
			}
		} else {
			var err error
			if v, err = ix.vpcFor(c, vpcID); err != nil {
				return err
			}
			if a, err := netip.ParseAddr(nextHop); err != nil || !a.Is4() {
				return Invalid("Invalid next hop %s", nextHop)
			}
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return Invalid("Invalid format for cidr %s", cidr)
		}
		if vp, err := netip.ParsePrefix(v.CIDR); err == nil && vp.Overlaps(p) {
			return Invalid("CIDR should be outside of VPC cidr %s", v.CIDR)
		}
		for _, bl := range blockedRoutes {
			if bl.Overlaps(p) {
				return Invalid("The static gateway cidr overlaps with one of the blacklisted routes of the zone the VPC belongs to")
			}
		}
		for _, r := range ix.staticRoutes.all() {
			if r.VPCID != v.ID {
				continue
			}
			if rp, err := netip.ParsePrefix(r.CIDR); err == nil && rp.Overlaps(p) && r.GatewayID == gatewayID && r.NextHop == nextHop {
				return Invalid("The static gateway cidr overlaps with one of the static routes of the VPC: %s", r.CIDR)
			}
		}
		rt := &StaticRoute{ID: newID(), Seq: ix.nextSeq(), VPCID: v.ID, GatewayID: gatewayID, NextHop: nextHop, CIDR: cidr, State: "Active",
			Created: s.clock.Now().UTC(), Owner: v.Owner}
		b := &batch{}
		put(b, ix.staticRoutes, rt)
		ix.event(b, s, v.Owner, c, "STATIC.ROUTE.CREATE", "Successfully created static route "+cidr, rt.ID, KindStaticRoute)
		job = s.finishedJob(b, c, v.Owner, cmd, KindStaticRoute, rt.ID, rt)
		res = rt
		return s.commit(ctx, b)
	})
	return res, job, err
}

// DeleteStaticRoute removes a static route.
func (s *Sim) DeleteStaticRoute(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		r, ok := ix.staticRoutes.get(id)
		if !ok || !ix.canAccess(c, r.Owner) {
			return notFound(KindStaticRoute, id)
		}
		b := &batch{}
		del(b, ix.staticRoutes, id)
		for _, t := range ix.tags.byGroup(id) {
			del(b, ix.tags, t.ID)
		}
		ix.event(b, s, r.Owner, c, "STATIC.ROUTE.DELETE", "Successfully deleted static route "+r.CIDR, id, KindStaticRoute)
		job = s.finishedJob(b, c, r.Owner, cmd, KindStaticRoute, id, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// dropPrivateGateways adds the removal of a VPC's private gateways and
// static routes to b.
func (ix *index) dropPrivateGateways(b *batch, vpcID string) {
	for _, r := range ix.staticRoutes.all() {
		if r.VPCID == vpcID {
			del(b, ix.staticRoutes, r.ID)
			for _, t := range ix.tags.byGroup(r.ID) {
				del(b, ix.tags, t.ID)
			}
		}
	}
	for _, g := range ix.privateGateways.all() {
		if g.VPCID == vpcID {
			del(b, ix.privateGateways, g.ID)
		}
	}
}

// existsPrivateGateway is Reader.Exists for private gateways and static
// routes.
func (ix *index) existsPrivateGateway(k Kind, id string) bool {
	switch k {
	case KindPrivateGateway:
		return has(ix.privateGateways, id)
	case KindStaticRoute:
		return has(ix.staticRoutes, id)
	}
	return false
}

// PrivateGateways returns every private gateway in creation order.
func (r Reader) PrivateGateways() []*PrivateGateway { return r.ix.privateGateways.all() }

// PrivateGateway looks a private gateway up by id.
func (r Reader) PrivateGateway(id string) (*PrivateGateway, bool) {
	return r.ix.privateGateways.get(id)
}

// StaticRoutes returns every static route in creation order.
func (r Reader) StaticRoutes() []*StaticRoute { return r.ix.staticRoutes.all() }
