package cloud

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/netip"
	"time"
)

// VPCs: a VPC owns a CIDR, a source NAT address (taken at creation) and
// tiers, which are isolated networks of a VPC offering's network offering
// whose CIDRs lie inside it. Network ACL lists belong to a VPC (or are the
// two built-in lists every VPC may use, default_allow and default_deny);
// each tier has one list. VPC offerings and the built-in lists are fixed,
// as a fresh CloudStack has them, so they are not kept in the store.

// Kinds of the VPC family.
const (
	KindVPC            Kind = "Vpc"
	KindVPCOffering    Kind = "VpcOffering"
	KindNetworkACLList Kind = "NetworkACL"
	KindNetworkACLItem Kind = "NetworkACLItem"
)

// VPCOffering is a VPC offering: one of CloudStack's built-in ones, or
// one a root admin created. A built-in one a root admin changed or
// deleted is stored under its own id, and the stored copy wins.
type VPCOffering struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Name        string `json:"name"`
	DisplayText string `json:"displayText"`
	IsDefault   bool   `json:"isDefault,omitempty"`
	Redundant   bool   `json:"redundant,omitempty"`
	// Provider is the provider of most services ("VPCVirtualRouter", "Nsx").
	Provider string `json:"provider"`
	// NetworkMode is NATTED or ROUTED for the NSX offerings ("" otherwise).
	NetworkMode string   `json:"networkMode,omitempty"`
	Services    []string `json:"services"`
	// Disabled: updateVPCOffering state=Disabled (createVPC refuses it).
	Disabled bool `json:"disabled,omitempty"`
	// Created is zero for the built-in ones (they date from the cloud's
	// creation); Removed is set once deleted.
	Created time.Time `json:"created,omitempty"`
	Removed time.Time `json:"removed,omitempty"`
}

// State is Enabled or Disabled, as listVPCOfferings shows it.
func (o *VPCOffering) State() string {
	if o.Disabled {
		return "Disabled"
	}
	return "Enabled"
}

// fixedID is the id of a built-in object: a name-based UUID, the same on
// every server and across restarts.
func fixedID(name string) string {
	h := sha1.Sum([]byte("stratus/" + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

var vpcServices = []string{"Dhcp", "Dns", "UserData", "SourceNat", "StaticNat", "PortForwarding", "Lb", "NetworkACL", "Vpn", "Gateway"}

// builtinVPCOfferings are the VPC offerings CloudStack 4.22's VpcManager
// creates at start.
var builtinVPCOfferings = func() []*VPCOffering {
	mk := func(name string, def, redundant bool, provider, mode string) *VPCOffering {
		return &VPCOffering{ID: fixedID("vpcoffering/" + name), Name: name, DisplayText: name, IsDefault: def, Redundant: redundant,
			Provider: provider, NetworkMode: mode, Services: vpcServices}
	}
	return []*VPCOffering{
		mk("Default VPC offering", true, false, "VPCVirtualRouter", ""),
		mk("Default VPC  offering with Netscaler", false, false, "VPCVirtualRouter", ""),
		mk("Redundant VPC offering", true, true, "VPCVirtualRouter", ""),
		mk("VPC offering with NSX - NAT Mode", false, false, "Nsx", "NATTED"),
		mk("VPC offering with NSX - Route Mode", false, false, "Nsx", "ROUTED"),
	}
}()

// VPC is a virtual private cloud.
type VPC struct {
	ID              string    `json:"id"`
	Seq             int64     `json:"seq"`
	Name            string    `json:"name"`
	DisplayText     string    `json:"displayText"`
	ZoneID          string    `json:"zoneId"`
	OfferingID      string    `json:"offeringId"`
	CIDR            string    `json:"cidr"`
	NetworkDomain   string    `json:"networkDomain,omitempty"`
	State           string    `json:"state"`
	Display         bool      `json:"display"`
	RestartRequired bool      `json:"restartRequired,omitempty"`
	Created         time.Time `json:"created"`
	Owner
}

// NetworkACLList is a list of ACL rules a VPC's tiers use. The built-in
// lists have no VPC and no owner.
type NetworkACLList struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	VPCID       string    `json:"vpcId,omitempty"`
	Display     bool      `json:"display"`
	Created     time.Time `json:"created"`
	Owner
}

// NetworkACLItem is one rule of a network ACL list.
type NetworkACLItem struct {
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	ACLID  string `json:"aclId"`
	Number int    `json:"number"`
	// Protocol is tcp, udp, icmp, all or a protocol number.
	Protocol  string   `json:"protocol"`
	StartPort *int     `json:"startPort,omitempty"`
	EndPort   *int     `json:"endPort,omitempty"`
	ICMPType  *int     `json:"icmpType,omitempty"`
	ICMPCode  *int     `json:"icmpCode,omitempty"`
	CIDRs     []string `json:"cidrs"`
	// Action is Allow or Deny; Traffic Ingress or Egress.
	Action  string    `json:"action"`
	Traffic string    `json:"traffic"`
	Reason  string    `json:"reason,omitempty"`
	Display bool      `json:"display"`
	State   string    `json:"state"`
	Created time.Time `json:"created"`
	Owner
}

// The built-in ACL lists' names.
const (
	ACLDefaultAllow = "default_allow"
	ACLDefaultDeny  = "default_deny"
)

var (
	defaultACLLists = []*NetworkACLList{
		{ID: fixedID("networkacl/" + ACLDefaultDeny), Seq: 1, Name: ACLDefaultDeny, Description: "Default Network ACL Deny All", Display: true},
		{ID: fixedID("networkacl/" + ACLDefaultAllow), Seq: 2, Name: ACLDefaultAllow, Description: "Default Network ACL Allow All", Display: true},
	}
	defaultACLItems = func() []*NetworkACLItem {
		var out []*NetworkACLItem
		for i, l := range defaultACLLists {
			action := map[string]string{ACLDefaultAllow: "Allow", ACLDefaultDeny: "Deny"}[l.Name]
			for j, traffic := range []string{TrafficIngress, TrafficEgress} {
				out = append(out, &NetworkACLItem{ID: fixedID("networkaclitem/" + l.Name + "/" + traffic), Seq: int64(2*i + j + 1), ACLID: l.ID,
					Number: j + 1, Protocol: "all", CIDRs: []string{"0.0.0.0/0"}, Action: action, Traffic: traffic, Display: true, State: "Active"})
			}
		}
		return out
	}()
)

// IsDefaultACL reports whether id is one of the built-in lists.
func IsDefaultACL(id string) bool {
	for _, l := range defaultACLLists {
		if l.ID == id {
			return true
		}
	}
	return false
}

// DefaultACLID returns the id of a built-in list by name.
func DefaultACLID(name string) string {
	for _, l := range defaultACLLists {
		if l.Name == name {
			return l.ID
		}
	}
	return ""
}

func (ix *index) vpcOffering(id string) (*VPCOffering, bool) {
	if o, ok := ix.vpcOfferings.get(id); ok {
		return o, o.Removed.IsZero()
	}
	for _, o := range builtinVPCOfferings {
		if o.ID == id {
			return o, true
		}
	}
	return nil, false
}

func (ix *index) aclList(id string) (*NetworkACLList, bool) {
	for _, l := range defaultACLLists {
		if l.ID == id {
			return l, true
		}
	}
	return ix.aclLists.get(id)
}

func (ix *index) aclItem(id string) (*NetworkACLItem, bool) {
	for _, it := range defaultACLItems {
		if it.ID == id {
			return it, true
		}
	}
	return ix.aclItems.get(id)
}

// vpcFor returns a VPC c may use.
func (ix *index) vpcFor(c Caller, id string) (*VPC, error) {
	v, ok := ix.vpcs.get(id)
	if !ok || !ix.canAccess(c, v.Owner) {
		return nil, notFound(KindVPC, id)
	}
	return v, nil
}

// aclListFor returns a list c may see: a built-in one, or one of a VPC c
// may use (a global list of an admin's is the admin's).
func (ix *index) aclListFor(c Caller, id string) (*NetworkACLList, error) {
	l, ok := ix.aclList(id)
	if !ok || (!IsDefaultACL(id) && !ix.canAccess(c, l.Owner)) {
		return nil, Invalid("Unable to find specified ACL.")
	}
	return l, nil
}

// modifiableACL returns a list c may change: not a built-in one.
func (ix *index) modifiableACL(c Caller, id string) (*NetworkACLList, error) {
	l, err := ix.aclListFor(c, id)
	if err != nil {
		return nil, err
	}
	if IsDefaultACL(id) {
		return nil, Invalid("Default ACL cannot be modified")
	}
	return l, nil
}

// finishedJob adds to b a job that already succeeded, with obj's snapshot
// as its result (success when obj is nil): the commands of this family
// act at once and answer with a complete job, as create commands do.
func (s *Sim) finishedJob(b *batch, c Caller, o Owner, cmd string, kind Kind, id string, obj any) *Job {
	now := s.clock.Now().UTC()
	j := s.newJobVal(c, o, JobSpec{Cmd: cmd, InstanceType: kind, InstanceID: id})
	if obj != nil {
		j.complete(now, kind, obj)
	} else {
		j.Status, j.Completed, j.Success = JobSucceeded, now, true
	}
	put(b, s.ix.jobs, j)
	return j
}

// VPCSpec is createVPC's parameters.
type VPCSpec struct {
	Name, DisplayText, ZoneID, OfferingID, CIDR, NetworkDomain, Account, DomainID string
	Display                                                                       *bool
	Cmd                                                                           string
}

// CreateVPC creates a VPC with its source NAT address.
func (s *Sim) CreateVPC(ctx context.Context, c Caller, r VPCSpec) (*VPC, *Job, error) {
	var out *VPC
	var job *Job
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, r.Account, r.DomainID)
		if err != nil {
			return err
		}
		z, ok := ix.zones.get(r.ZoneID)
		if !ok {
			return notFound(KindZone, r.ZoneID)
		}
		off, ok := ix.vpcOffering(r.OfferingID)
		if !ok {
			return notFound(KindVPCOffering, r.OfferingID)
		}
		if off.Disabled {
			return Invalid("Unable to find vpc offering in Enabled state by specified id")
		}
		if off.Provider == "Nsx" {
			return Invalid("Zone %s has no NSX provider; VPC offering %s cannot be used in it", z.Name, off.Name)
		}
		if z.NetworkType != "Advanced" {
			return Invalid("Can't create a VPC in zone %s of network type %s", z.Name, z.NetworkType)
		}
		if r.CIDR == "" {
			return Invalid("CIDR is required for a VPC with offering %s", off.Name)
		}
		p, err := netip.ParsePrefix(r.CIDR)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return Invalid("Invalid CIDR specified %s", r.CIDR)
		}
		b := &batch{}
		if err := ix.checkLimits(b, o, map[Resource]int64{ResVPC: 1}); err != nil {
			return err
		}
		v := &VPC{ID: newID(), Seq: ix.nextSeq(), Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), ZoneID: z.ID, OfferingID: off.ID,
			CIDR: p.String(), NetworkDomain: r.NetworkDomain, State: "Enabled", Display: r.Display == nil || *r.Display,
			Created: s.clock.Now().UTC(), Owner: o}
		if z.PublicNetworkID != "" {
			if _, err := ix.allocPublicIP(b, s, z, o, "", v.ID, "", true); err != nil {
				return err
			}
		}
		put(b, ix.vpcs, v)
		ix.event(b, s, o, c, "VPC.CREATE", "Successfully created VPC "+v.Name, v.ID, KindVPC)
		job = s.finishedJob(b, c, o, r.Cmd, KindVPC, v.ID, v)
		out = v
		return s.commit(ctx, b)
	})
	return out, job, err
}

// UpdateVPC changes a VPC's name, display text or display flag.
func (s *Sim) UpdateVPC(ctx context.Context, c Caller, id string, name, displayText *string, display *bool, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		v, err := ix.vpcFor(c, id)
		if err != nil {
			return err
		}
		n := *v
		if name != nil && *name != "" {
			n.Name = *name
		}
		if displayText != nil && *displayText != "" {
			n.DisplayText = *displayText
		}
		if display != nil {
			n.Display = *display
		}
		b := &batch{}
		put(b, ix.vpcs, &n)
		ix.event(b, s, n.Owner, c, "VPC.UPDATE", "Successfully updated VPC "+n.Name, n.ID, KindVPC)
		job = s.finishedJob(b, c, n.Owner, cmd, KindVPC, n.ID, &n)
		return s.commit(ctx, b)
	})
	return job, err
}

// RestartVPC restarts a VPC's router (nothing to do but clear
// restartrequired).
func (s *Sim) RestartVPC(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		v, err := ix.vpcFor(c, id)
		if err != nil {
			return err
		}
		n := *v
		n.RestartRequired = false
		b := &batch{}
		put(b, ix.vpcs, &n)
		ix.event(b, s, n.Owner, c, "VPC.RESTART", "Restarted VPC "+n.Name, n.ID, KindVPC)
		job = s.finishedJob(b, c, n.Owner, cmd, KindVPC, n.ID, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// DeleteVPC deletes a VPC that has no tiers, with its addresses and ACL
// lists.
func (s *Sim) DeleteVPC(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		v, err := ix.vpcFor(c, id)
		if err != nil {
			return err
		}
		tiers := 0
		for _, n := range ix.networks.all() {
			if n.VPCID == id {
				tiers++
			}
		}
		if tiers > 0 {
			return Invalid("Can't delete VPC %s as it is used by %d networks", v.Name, tiers)
		}
		b := &batch{}
		ix.dropVPC(b, v)
		ix.event(b, s, v.Owner, c, "VPC.DELETE", "Successfully deleted VPC "+v.Name, v.ID, KindVPC)
		job = s.finishedJob(b, c, v.Owner, cmd, KindVPC, v.ID, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// dropVPC adds the removal of a VPC, its addresses, ACL lists and tags to b.
func (ix *index) dropVPC(b *batch, v *VPC) {
	for _, p := range ix.publicIPs.all() {
		if p.VPCID == v.ID {
			if z, ok := ix.zones.get(p.ZoneID); ok {
				ix.release(b, z.PublicNetworkID, p.Address)
			}
			ix.dropRulesOfIP(b, p.ID)
			del(b, ix.publicIPs, p.ID)
		}
	}
	for _, l := range ix.aclLists.all() {
		if l.VPCID == v.ID {
			ix.dropACLList(b, l.ID)
		}
	}
	for _, t := range ix.tags.byGroup(v.ID) {
		del(b, ix.tags, t.ID)
	}
	ix.dropPrivateGateways(b, v.ID)
	del(b, ix.vpcs, v.ID)
}

func (ix *index) dropACLList(b *batch, id string) {
	for _, it := range ix.aclItems.all() {
		if it.ACLID == id {
			del(b, ix.aclItems, it.ID)
		}
	}
	del(b, ix.aclLists, id)
}

// CreateNetworkACLList creates a list in a VPC (vpcID "": a global list,
// root admins only).
func (s *Sim) CreateNetworkACLList(ctx context.Context, c Caller, name, description, vpcID string, display *bool, cmd string) (*NetworkACLList, *Job, error) {
	var out *NetworkACLList
	var job *Job
	err := s.write(func(ix *index) error {
		o := c.Owner()
		if vpcID != "" {
			v, ok := ix.vpcs.get(vpcID)
			if !ok || !ix.canAccess(c, v.Owner) {
				return Invalid("Unable to find VPC with ID [%s].", vpcID)
			}
			o = v.Owner
		} else if !c.IsRootAdmin() {
			return Denied("Only Root Admin can create global ACLs.")
		}
		l := &NetworkACLList{ID: newID(), Seq: ix.nextSeq(), Name: name, Description: orDefault(description, name), VPCID: vpcID,
			Display: display == nil || *display, Created: s.clock.Now().UTC(), Owner: o}
		b := &batch{}
		put(b, ix.aclLists, l)
		ix.event(b, s, o, c, "NETWORK.ACL.CREATE", "Successfully created network ACL list "+name, l.ID, KindNetworkACLList)
		job = s.finishedJob(b, c, o, cmd, KindNetworkACLList, l.ID, l)
		out = l
		return s.commit(ctx, b)
	})
	return out, job, err
}

// UpdateNetworkACLList changes a list's name, description or display flag.
func (s *Sim) UpdateNetworkACLList(ctx context.Context, c Caller, id string, name, description *string, display *bool, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		l, err := ix.modifiableACL(c, id)
		if err != nil {
			return err
		}
		n := *l
		if name != nil && *name != "" {
			n.Name = *name
		}
		if description != nil && *description != "" {
			n.Description = *description
		}
		if display != nil {
			n.Display = *display
		}
		b := &batch{}
		put(b, ix.aclLists, &n)
		job = s.finishedJob(b, c, n.Owner, cmd, KindNetworkACLList, n.ID, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// DeleteNetworkACLList deletes a list no tier uses, with its rules.
func (s *Sim) DeleteNetworkACLList(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		l, err := ix.aclListFor(c, id)
		if err != nil {
			return err
		}
		if IsDefaultACL(id) {
			return Invalid("Default ACL cannot be removed")
		}
		if l.VPCID == "" && !c.IsRootAdmin() {
			return Denied("Only Root Admin can delete global ACLs.")
		}
		tiers := 0
		for _, n := range ix.networks.all() {
			if n.ACLID == id {
				tiers++
			}
		}
		if tiers > 0 {
			return Errorf(CodeInternal, CSCloudRuntime, "ACL is still associated with %d tier(s). Cannot delete network ACL: %s", tiers, id)
		}
		b := &batch{}
		ix.dropACLList(b, id)
		ix.event(b, s, l.Owner, c, "NETWORK.ACL.DELETE", "Successfully deleted network ACL list "+l.Name, l.ID, KindNetworkACLList)
		job = s.finishedJob(b, c, l.Owner, cmd, KindNetworkACLList, l.ID, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// ACLItemSpec is createNetworkACL's and updateNetworkACLItem's parameters
// (nil or "": not given).
type ACLItemSpec struct {
	ACLID, NetworkID   string
	Number             *int
	Protocol           string
	StartPort, EndPort *int
	ICMPType, ICMPCode *int
	CIDRs              []string
	Action, Traffic    string
	Reason             *string
	Display            *bool
	Cmd                string
}

// checkACLItem validates a rule as CloudStack's NetworkACLServiceImpl does
// and normalises its protocol, action and traffic type.
func checkACLItem(it *NetworkACLItem) error {
	switch lower(it.Action) {
	case "allow":
		it.Action = "Allow"
	case "deny":
		it.Action = "Deny"
	default:
		return Invalid("Invalid action [%s]. Permitted actions are Allow and Deny", it.Action)
	}
	switch lower(it.Traffic) {
	case "ingress":
		it.Traffic = TrafficIngress
	case "egress":
		it.Traffic = TrafficEgress
	default:
		return Invalid("Invalid traffic type %s; valid values are Ingress and Egress", it.Traffic)
	}
	if it.Number < 1 {
		return Invalid("Invalid number [%d]. Number cannot be < 1", it.Number)
	}
	if it.StartPort != nil || it.EndPort != nil {
		start, end := it.StartPort, it.EndPort
		if start == nil {
			start = end
		}
		if end == nil {
			end = start
		}
		if !validPort(*start) || !validPort(*end) {
			return Invalid("Invalid port range %d-%d", *start, *end)
		}
		if *start > *end {
			return Invalid("Start port can't be bigger than end port")
		}
		it.StartPort, it.EndPort = start, end
	}
	for _, c := range it.CIDRs {
		if p, err := netip.ParsePrefix(c); err != nil || !p.Addr().Is4() {
			return Invalid("Source cidrs formatting error %s", c)
		}
	}
	proto := lower(it.Protocol)
	if n, ok := atoiOK(proto); ok {
		if n < 0 || n > 255 {
			return Invalid("Invalid protocol number: %d", n)
		}
	} else if proto != "tcp" && proto != "udp" && proto != "icmp" && proto != "all" {
		return Invalid("Invalid protocol [%s]. Expected one of: [tcp,udp,icmp,all]", it.Protocol)
	}
	it.Protocol = proto
	icmp := proto == "icmp"
	if !icmp && (it.ICMPType != nil || it.ICMPCode != nil) {
		return Invalid("Can specify icmpCode and icmpType for ICMP protocol only")
	}
	if icmp && (it.StartPort != nil || it.EndPort != nil) {
		return Invalid("Can't specify start/end port when protocol is ICMP")
	}
	if it.ICMPType != nil && *it.ICMPType != -1 && (*it.ICMPType < 0 || *it.ICMPType > 255) {
		return Invalid("Invalid icmp type [%d]. It should belong to [0-255] range", *it.ICMPType)
	}
	if it.ICMPCode != nil && *it.ICMPCode != -1 && (*it.ICMPCode < 0 || *it.ICMPCode > 16) {
		return Invalid("Invalid icmp code [%d]. It should belong to [0-16] range and can be defined when icmpType belongs to [0-40] range", *it.ICMPCode)
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

func atoiOK(s string) (int, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int(ch-'0')
	}
	return n, true
}

// CreateNetworkACLItem adds a rule to a list (aclid), or to the list of a
// tier (networkid).
func (s *Sim) CreateNetworkACLItem(ctx context.Context, c Caller, r ACLItemSpec) (*NetworkACLItem, *Job, error) {
	var out *NetworkACLItem
	var job *Job
	err := s.write(func(ix *index) error {
		aclID := r.ACLID
		if aclID == "" {
			if r.NetworkID == "" {
				return Invalid("Cannot create Network ACL Item. ACL Id or network Id is required")
			}
			n, ok := ix.networks.get(r.NetworkID)
			if !ok || !ix.canAccess(c, n.Owner) {
				return notFound(KindNetwork, r.NetworkID)
			}
			if n.VPCID == "" {
				return Invalid("Network: %s does not belong to VPC", n.ID)
			}
			aclID = n.ACLID
		}
		l, err := ix.modifiableACL(c, aclID)
		if err != nil {
			return err
		}
		if l.VPCID == "" && !c.IsRootAdmin() {
			return Denied("Only Root Admins can create rules for a global ACL.")
		}
		it := &NetworkACLItem{ACLID: l.ID, Protocol: r.Protocol, StartPort: r.StartPort, EndPort: r.EndPort, ICMPType: r.ICMPType,
			ICMPCode: r.ICMPCode, CIDRs: r.CIDRs, Action: orDefault(r.Action, "Allow"), Traffic: orDefault(r.Traffic, TrafficIngress),
			Display: r.Display == nil || *r.Display, State: "Active", Created: s.clock.Now().UTC(), Owner: l.Owner}
		if r.Reason != nil {
			it.Reason = *r.Reason
		}
		if len(it.CIDRs) == 0 {
			it.CIDRs = []string{"0.0.0.0/0"}
		}
		maxNum := 0
		for _, x := range ix.aclItems.all() {
			if x.ACLID != l.ID {
				continue
			}
			maxNum = max(maxNum, x.Number)
			if r.Number != nil && x.Number == *r.Number {
				return Invalid("ACL item with number %d already exists in ACL: %s", *r.Number, l.ID)
			}
		}
		it.Number = maxNum + 1
		if r.Number != nil {
			it.Number = *r.Number
		}
		if err := checkACLItem(it); err != nil {
			return err
		}
		it.ID, it.Seq = newID(), ix.nextSeq()
		b := &batch{}
		put(b, ix.aclItems, it)
		ix.event(b, s, l.Owner, c, "NETWORK.ACL.ITEM.CREATE", "Successfully created network ACL item", it.ID, KindNetworkACLItem)
		job = s.finishedJob(b, c, l.Owner, r.Cmd, KindNetworkACLItem, it.ID, it)
		out = it
		return s.commit(ctx, b)
	})
	return out, job, err
}

// UpdateNetworkACLItem changes a rule: the fields given, the others kept.
func (s *Sim) UpdateNetworkACLItem(ctx context.Context, c Caller, id string, r ACLItemSpec) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		cur, ok := ix.aclItem(id)
		if !ok {
			return Invalid("Unable to find ACL item to update with id: %s", id)
		}
		l, err := ix.modifiableACL(c, cur.ACLID)
		if err != nil {
			return err
		}
		n := *cur
		if r.Protocol != "" {
			n.Protocol = r.Protocol
			if lower(r.Protocol) != "icmp" {
				n.ICMPType, n.ICMPCode = nil, nil
			} else {
				n.StartPort, n.EndPort = nil, nil
			}
		}
		if r.StartPort != nil || r.EndPort != nil {
			n.StartPort, n.EndPort = r.StartPort, r.EndPort
		}
		if r.ICMPType != nil || r.ICMPCode != nil {
			n.ICMPType, n.ICMPCode = r.ICMPType, r.ICMPCode
		}
		if len(r.CIDRs) > 0 {
			n.CIDRs = r.CIDRs
		}
		if r.Action != "" {
			n.Action = r.Action
		}
		if r.Traffic != "" {
			n.Traffic = r.Traffic
		}
		if r.Reason != nil {
			n.Reason = *r.Reason
		}
		if r.Display != nil {
			n.Display = *r.Display
		}
		if r.Number != nil && *r.Number != n.Number {
			for _, x := range ix.aclItems.all() {
				if x.ACLID == l.ID && x.Number == *r.Number {
					return Invalid("Network ACL Item with number %d already exists in ACL: %s", *r.Number, l.ID)
				}
			}
			n.Number = *r.Number
		}
		if err := checkACLItem(&n); err != nil {
			return err
		}
		b := &batch{}
		put(b, ix.aclItems, &n)
		job = s.finishedJob(b, c, l.Owner, r.Cmd, KindNetworkACLItem, n.ID, &n)
		return s.commit(ctx, b)
	})
	return job, err
}

// DeleteNetworkACLItem deletes a rule of a list that is not built in.
func (s *Sim) DeleteNetworkACLItem(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		it, ok := ix.aclItem(id)
		if !ok {
			return notFound(KindNetworkACLItem, id)
		}
		l, err := ix.modifiableACL(c, it.ACLID)
		if err != nil {
			return err
		}
		b := &batch{}
		del(b, ix.aclItems, id)
		for _, t := range ix.tags.byGroup(id) {
			del(b, ix.tags, t.ID)
		}
		ix.event(b, s, l.Owner, c, "NETWORK.ACL.ITEM.DELETE", "Successfully deleted network ACL item", id, KindNetworkACLItem)
		job = s.finishedJob(b, c, l.Owner, cmd, KindNetworkACLItem, id, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// ReplaceNetworkACLList gives a tier another list of its VPC (or a
// built-in one).
func (s *Sim) ReplaceNetworkACLList(ctx context.Context, c Caller, aclID, networkID, cmd string) (*Job, error) {
	var job *Job
	err := s.write(func(ix *index) error {
		if networkID == "" {
			return Invalid("Network ID and private gateway can't be passed at the same time; one of them is required")
		}
		n, ok := ix.networks.get(networkID)
		if !ok || !ix.canAccess(c, n.Owner) {
			return Invalid("Unable to find specified Network")
		}
		l, err := ix.aclListFor(c, aclID)
		if err != nil {
			return Invalid("Unable to find specified NetworkACL")
		}
		if n.VPCID == "" {
			return Invalid("Network is not part of a VPC: %s", n.ID)
		}
		if !IsDefaultACL(l.ID) && l.VPCID != "" && l.VPCID != n.VPCID {
			return Invalid("Network: %s and ACL: %s do not belong to the same VPC", n.ID, l.ID)
		}
		nn := *n
		nn.ACLID = l.ID
		b := &batch{}
		put(b, ix.networks, &nn)
		ix.event(b, s, n.Owner, c, "NETWORK.ACL.REPLACE", "Replaced the ACL of network "+n.Name, n.ID, KindNetwork)
		job = s.finishedJob(b, c, n.Owner, cmd, KindNetworkACLList, l.ID, nil)
		return s.commit(ctx, b)
	})
	return job, err
}

// checkTier checks a new network of a VPC: the offering is for VPCs, the
// owner is the VPC's, the CIDR lies in the VPC's and meets no other
// tier's, and the ACL list is the VPC's or built in. It returns the ACL
// list the tier gets.
func (ix *index) checkTier(c Caller, o Owner, v *VPC, off *NetworkOffering, zoneID, gateway, netmask, aclID string) (string, error) {
	if !off.ForVPC {
		return "", Invalid("Network offering %s can't be used for VPC networks", off.Name)
	}
	if zoneID != v.ZoneID {
		return "", Invalid("New network doesn't belong to vpc zone")
	}
	if o.AccountID != v.AccountID {
		return "", Denied("Vpc %s and network owner %s do not match", v.Name, o.AccountID)
	}
	if gateway == "" || netmask == "" {
		return "", Invalid("Gateway/netmask are required when creating a network for VPC")
	}
	cidr := cidrOf(gateway, netmask)
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", Invalid("Invalid gateway %s or netmask %s", gateway, netmask)
	}
	vp := netip.MustParsePrefix(v.CIDR)
	if !vp.Contains(p.Addr()) || p.Bits() < vp.Bits() {
		return "", Invalid("Network cidr %s is not within vpc %s cidr %s", cidr, v.Name, v.CIDR)
	}
	for _, n := range ix.networks.all() {
		if n.VPCID != v.ID || n.CIDR == "" {
			continue
		}
		if q, err := netip.ParsePrefix(n.CIDR); err == nil && q.Overlaps(p) {
			return "", Invalid("Network cidr %s crosses other network cidr %s belonging to the same vpc %s", cidr, n.CIDR, v.Name)
		}
	}
	if aclID == "" {
		return DefaultACLID(ACLDefaultDeny), nil
	}
	l, err := ix.aclListFor(c, aclID)
	if err != nil {
		return "", err
	}
	if !IsDefaultACL(l.ID) && l.VPCID != "" && l.VPCID != v.ID {
		return "", Invalid("Acl %s doesn't belong to vpc %s", l.Name, v.Name)
	}
	return l.ID, nil
}

// purgeVPCs adds the removal of an account's VPCs and ACL lists to b (its
// tiers, addresses and tags are removed with the rest of what it owns).
func (ix *index) purgeVPCs(b *batch, accountID string) {
	for _, l := range ix.aclLists.all() {
		if l.AccountID == accountID {
			ix.dropACLList(b, l.ID)
		}
	}
	for _, v := range ix.vpcs.all() {
		if v.AccountID == accountID {
			del(b, ix.vpcs, v.ID)
		}
	}
}

// existsVPC is Reader.Exists for the VPC family's kinds.
func (ix *index) existsVPC(k Kind, id string) bool {
	switch k {
	case KindVPC:
		return has(ix.vpcs, id)
	case KindVPCOffering:
		_, ok := ix.vpcOffering(id)
		return ok
	case KindNetworkACLList:
		_, ok := ix.aclList(id)
		return ok
	case KindNetworkACLItem:
		_, ok := ix.aclItem(id)
		return ok
	}
	return ix.existsVPN(k, id)
}

// Reader access to the VPC family.

// VPCOfferings returns the VPC offerings not deleted: the built-in ones
// (as changed), then the ones root admins created.
func (r Reader) VPCOfferings() []*VPCOffering { return r.ix.activeVPCOfferings() }

// VPCOffering looks a VPC offering up by id.
func (r Reader) VPCOffering(id string) (*VPCOffering, bool) { return r.ix.vpcOffering(id) }

// VPCs returns every VPC in creation order.
func (r Reader) VPCs() []*VPC { return r.ix.vpcs.all() }

// VPC looks a VPC up by id.
func (r Reader) VPC(id string) (*VPC, bool) { return r.ix.vpcs.get(id) }

// NetworkACLLists returns the built-in lists, then every other list.
func (r Reader) NetworkACLLists() []*NetworkACLList {
	return append(append([]*NetworkACLList{}, defaultACLLists...), r.ix.aclLists.all()...)
}

// NetworkACLList looks a list up by id.
func (r Reader) NetworkACLList(id string) (*NetworkACLList, bool) { return r.ix.aclList(id) }

// NetworkACLItems returns the built-in lists' rules, then every other rule.
func (r Reader) NetworkACLItems() []*NetworkACLItem {
	return append(append([]*NetworkACLItem{}, defaultACLItems...), r.ix.aclItems.all()...)
}

// NetworkACLItem looks a rule up by id.
func (r Reader) NetworkACLItem(id string) (*NetworkACLItem, bool) { return r.ix.aclItem(id) }

// CreatedAt is when the data center was seeded (the built-in objects' date).
func (r Reader) CreatedAt() time.Time {
	if d := r.ix.domains.all(); len(d) > 0 {
		return d[0].Created
	}
	return time.Time{}
}
