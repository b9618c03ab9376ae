package cloud

import (
	"context"
	"strings"
)

// Network and VPC offerings root admins create, change and delete. As
// on CloudStack a new offering is Disabled unless created with enable;
// createNetwork and createVPC take Enabled ones only; an offering in use
// (by a network, a VPC) cannot be deleted, nor a default one. Providers,
// capabilities and domain or zone scopes are accepted and not simulated:
// every service is the virtual router's.

// NetworkServices are CloudStack's network services, as
// Network.Service.getService knows them.
var NetworkServices = []string{"Vpn", "Dhcp", "Dns", "Gateway", "Firewall", "Lb", "UserData", "SourceNat", "StaticNat",
	"PortForwarding", "SecurityGroup", "NetworkACL", "Connectivity"}

// vpcOfferingServices are the services a VPC offering may have.
var vpcOfferingServices = []string{"Dhcp", "Dns", "StaticNat", "PortForwarding", "SourceNat", "Vpn", "Lb", "UserData",
	"NetworkACL", "Connectivity", "Gateway"}

// canonService returns CloudStack's spelling of a service name (matched
// without regard to case), or "".
func canonService(names []string, s string) string {
	for _, n := range names {
		if strings.EqualFold(n, s) {
			return n
		}
	}
	return ""
}

// NetworkOfferingRequest is createNetworkOffering's parameters (nil: not
// given).
type NetworkOfferingRequest struct {
	Name, DisplayText, GuestIPType, TrafficType, Availability string
	Services                                                  []string
	SpecifyVLAN, SpecifyIPRanges, Persistent, Enable          bool
	ForVPC, ConserveMode, EgressAllow                         *bool
	NetworkRate, MaxConnections                               *int
	ServiceOfferingID, Tags                                   string
}

// CreateNetworkOffering adds a network offering, validated as
// NetworkOfferingServiceImpl does.
func (s *Sim) CreateNetworkOffering(ctx context.Context, c Caller, r NetworkOfferingRequest) (*NetworkOffering, error) {
	if !strings.EqualFold(r.TrafficType, "Guest") {
		for _, t := range []string{"Public", "Management", "Control", "Vlan", "Storage"} {
			if strings.EqualFold(r.TrafficType, t) {
				return nil, Invalid("Only traffic type Guest is supported in the current release")
			}
		}
		return nil, Invalid("Invalid value for traffictype. Supported traffic types: Public, Management, Control, Guest, Vlan or Storage")
	}
	guest := canonService([]string{"Isolated", "Shared", "L2"}, r.GuestIPType)
	if guest == "" {
		return nil, Invalid("Invalid \"type\" parameter is given; can have Shared and Isolated values")
	}
	avail := "Optional"
	if r.Availability != "" {
		if avail = canonService([]string{"Required", "Optional"}, r.Availability); avail == "" {
			return nil, Invalid("Invalid value for Availability. Supported types: Required, Optional")
		}
	}
	forVPC := r.ForVPC
	var services []string
	for _, name := range r.Services {
		svc := canonService(NetworkServices, name)
		if svc == "" || svc == "Gateway" {
			return nil, Invalid("Invalid service %s", name)
		}
		if forVPC == nil && (svc == "SecurityGroup" || svc == "Firewall" || svc == "NetworkACL") {
			v := svc == "NetworkACL"
			forVPC = &v
		}
		if svc == "SecurityGroup" && guest != "Shared" {
			return nil, Invalid("Security group service is supported for network offerings with guest ip type Shared")
		}
		if canonService(services, svc) == "" {
			services = append(services, svc)
		}
	}
	if canonService(services, "SourceNat") != "" {
		services = append(services, "Gateway")
	}
	if guest == "L2" && len(services) > 0 {
		return nil, Invalid("For L2 network offering, supported services are not allowed")
	}
	if avail == "Required" && (guest != "Isolated" || canonService(services, "SourceNat") == "") {
		return nil, Invalid("Availability can be Required only for guestIpType Isolated and with SourceNat service enabled")
	}
	if r.MaxConnections != nil && *r.MaxConnections < 0 {
		return nil, Invalid("Maxconnections cannot be negative")
	}
	var out *NetworkOffering
	err := s.offeringWrite(ctx, c, "createNetworkOffering", func(ix *index, b *batch) error {
		if r.ServiceOfferingID != "" {
			if _, ok := ix.activeServiceOffering(r.ServiceOfferingID); !ok {
				return Invalid("Could not find service offering with id %s", r.ServiceOfferingID)
			}
		}
		o := &NetworkOffering{ID: newID(), Seq: ix.nextSeq(), Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), GuestIPType: guest,
			Services: services, SpecifyVLAN: r.SpecifyVLAN, SpecifyIPRanges: r.SpecifyIPRanges, State: "Disabled", Created: s.clock.Now().UTC(),
			ForVPC: forVPC != nil && *forVPC, Availability: avail, NoConserve: r.ConserveMode != nil && !*r.ConserveMode, NetworkRate: r.NetworkRate,
			MaxConnections: r.MaxConnections, ServiceOfferingID: r.ServiceOfferingID, EgressAllow: r.EgressAllow == nil || *r.EgressAllow,
			Persistent: r.Persistent, Tags: r.Tags}
		if r.Enable {
			o.State = "Enabled"
		}
		put(b, ix.networkOfferings, o)
		ix.event(b, s, c.Owner(), c, "NETWORK.OFFERING.CREATE", "Successfully created network offering "+o.Name, o.ID, KindNetworkOffering)
		out = o
		return nil
	})
	return out, err
}

// NetworkOfferingUpdate is updateNetworkOffering's parameters (nil: not
// given).
type NetworkOfferingUpdate struct {
	Name, DisplayText, Availability, State, Tags *string
	MaxConnections                               *int
}

// canonState is Enabled or Disabled for state (without regard to case),
// or CloudStack's error.
func canonState(state string) (string, error) {
	st := canonService([]string{"Enabled", "Disabled"}, state)
	if st == "" {
		return "", Invalid("Incorrect state value: %s", state)
	}
	return st, nil
}

// UpdateNetworkOffering renames, enables or disables a network offering.
func (s *Sim) UpdateNetworkOffering(ctx context.Context, c Caller, id string, u NetworkOfferingUpdate) (*NetworkOffering, error) {
	var out *NetworkOffering
	err := s.offeringWrite(ctx, c, "updateNetworkOffering", func(ix *index, b *batch) error {
		o, ok := ix.networkOfferings.get(id)
		if !ok {
			return Invalid("unable to find network offering %s", id)
		}
		n := *o
		n.Name, n.DisplayText, n.Tags = deref(u.Name, n.Name), deref(u.DisplayText, n.DisplayText), deref(u.Tags, n.Tags)
		if u.State != nil && *u.State != "" {
			st, err := canonState(*u.State)
			if err != nil {
				return err
			}
			n.State = st
		}
		if u.Availability != nil && *u.Availability != "" {
			av := canonService([]string{"Required", "Optional"}, *u.Availability)
			if av == "" {
				return Invalid("Invalid value for Availability. Supported types: Required, Optional")
			}
			if av == "Required" && (n.GuestIPType != "Isolated" || !n.HasService("SourceNat")) {
				return Invalid("Availability can be Required only for networkOfferings of type Isolated and with SourceNat enabled")
			}
			n.Availability = av
		}
		if u.MaxConnections != nil {
			n.MaxConnections = u.MaxConnections
		}
		put(b, ix.networkOfferings, &n)
		ix.event(b, s, c.Owner(), c, "NETWORK.OFFERING.EDIT", "Successfully updated network offering "+n.Name, n.ID, KindNetworkOffering)
		out = &n
		return nil
	})
	return out, err
}

// DeleteNetworkOffering removes a network offering no network uses.
func (s *Sim) DeleteNetworkOffering(ctx context.Context, c Caller, id string) error {
	return s.offeringWrite(ctx, c, "deleteNetworkOffering", func(ix *index, b *batch) error {
		o, ok := ix.networkOfferings.get(id)
		if !ok {
			return Invalid("unable to find network offering %s", id)
		}
		if o.IsDefault {
			return Invalid("Default network offering can't be deleted")
		}
		n := 0
		for _, net := range ix.networks.all() {
			if net.OfferingID == id {
				n++
			}
		}
		if n > 0 {
			return Invalid("Can't delete network offering %s as its used by %d networks. To make the network offering unavailable, disable it", id, n)
		}
		del(b, ix.networkOfferings, id)
		ix.event(b, s, c.Owner(), c, "NETWORK.OFFERING.DELETE", "Successfully deleted network offering "+o.Name, id, KindNetworkOffering)
		return nil
	})
}

// VPCOfferingRequest is createVPCOffering's parameters.
type VPCOfferingRequest struct {
	Name, DisplayText string
	Services          []string
	Enable            bool
	Cmd               string
}

// CreateVPCOffering adds a VPC offering of the VPC virtual router. As
// VpcManagerImpl does, it adds SourceNat and NetworkACL when they are
// not asked for, and Gateway always.
func (s *Sim) CreateVPCOffering(ctx context.Context, c Caller, r VPCOfferingRequest) (*VPCOffering, *Job, error) {
	var services []string
	for _, name := range r.Services {
		svc := canonService(vpcOfferingServices, name)
		if svc == "" {
			return nil, nil, Invalid("Service %s is not supported in VPC", name)
		}
		if canonService(services, svc) == "" {
			services = append(services, svc)
		}
	}
	for _, must := range []string{"SourceNat", "NetworkACL", "Gateway"} {
		if canonService(services, must) == "" {
			services = append(services, must)
		}
	}
	var out *VPCOffering
	var job *Job
	err := s.offeringWrite(ctx, c, "createVPCOffering", func(ix *index, b *batch) error {
		o := &VPCOffering{ID: newID(), Seq: ix.nextSeq(), Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), Provider: "VPCVirtualRouter",
			Services: services, Disabled: !r.Enable, Created: s.clock.Now().UTC()}
		put(b, ix.vpcOfferings, o)
		ix.event(b, s, c.Owner(), c, "VPC.OFFERING.CREATE", "Successfully created VPC offering "+o.Name, o.ID, KindVPCOffering)
		job = s.finishedJob(b, c, c.Owner(), r.Cmd, KindVPCOffering, o.ID, o)
		out = o
		return nil
	})
	return out, job, err
}

// VPCOfferingUpdate is updateVPCOffering's parameters (nil: not given).
type VPCOfferingUpdate struct {
	Name, DisplayText, State *string
	Cmd                      string
}

// UpdateVPCOffering renames, enables or disables a VPC offering.
func (s *Sim) UpdateVPCOffering(ctx context.Context, c Caller, id string, u VPCOfferingUpdate) (*Job, error) {
	var job *Job
	err := s.offeringWrite(ctx, c, "updateVPCOffering", func(ix *index, b *batch) error {
		o, ok := ix.vpcOffering(id)
		if !ok {
			return Invalid("Unable to find vpc offering %s", id)
		}
		n := *o
		n.Name, n.DisplayText = deref(u.Name, n.Name), deref(u.DisplayText, n.DisplayText)
		if u.State != nil && *u.State != "" {
			st, err := canonState(*u.State)
			if err != nil {
				return err
			}
			n.Disabled = st == "Disabled"
		}
		if n.Seq == 0 {
			n.Seq = ix.nextSeq()
		}
		put(b, ix.vpcOfferings, &n)
		ix.event(b, s, c.Owner(), c, "VPC.OFFERING.UPDATE", "Successfully updated VPC offering "+n.Name, n.ID, KindVPCOffering)
		job = s.finishedJob(b, c, c.Owner(), u.Cmd, KindVPCOffering, n.ID, &n)
		return nil
	})
	return job, err
}

// DeleteVPCOffering removes a VPC offering no VPC uses.
func (s *Sim) DeleteVPCOffering(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.offeringWrite(ctx, c, "deleteVPCOffering", func(ix *index, b *batch) error {
		o, ok := ix.vpcOffering(id)
		if !ok {
			return Invalid("unable to find vpc offering %s", id)
		}
		if o.IsDefault {
			return Invalid("Default network offering can't be deleted")
		}
		n := 0
		for _, v := range ix.vpcs.all() {
			if v.OfferingID == id {
				n++
			}
		}
		if n > 0 {
			return Invalid("Can't delete vpc offering %s as its used by %d vpcs. To make the network offering unavailable, disable it", id, n)
		}
		gone := *o
		gone.Removed = s.clock.Now().UTC()
		if gone.Seq == 0 {
			gone.Seq = ix.nextSeq()
		}
		put(b, ix.vpcOfferings, &gone)
		ix.event(b, s, c.Owner(), c, "VPC.OFFERING.DELETE", "Successfully deleted VPC offering "+o.Name, id, KindVPCOffering)
		job = s.finishedJob(b, c, c.Owner(), cmd, KindVPCOffering, id, nil)
		return nil
	})
	return job, err
}

// activeVPCOfferings returns the built-in VPC offerings (as changed) and
// the created ones, without the deleted.
func (ix *index) activeVPCOfferings() []*VPCOffering {
	var out []*VPCOffering
	for _, o := range builtinVPCOfferings {
		if cur, ok := ix.vpcOffering(o.ID); ok {
			out = append(out, cur)
		}
	}
	for _, o := range ix.vpcOfferings.all() {
		if o.Created.IsZero() || !o.Removed.IsZero() {
			continue // a built-in one, listed above
		}
		out = append(out, o)
	}
	return out
}
