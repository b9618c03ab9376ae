package cloudstack

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// VPCs, their offerings, and network ACL lists and rules. Accepted and
// ignored: the DNS, MTU, AS number, BGP and
// routed-mode parameters of createVPC, customid, start (a VPC's router
// is not simulated), restartVPC's cleanup, livepatch and makeredundant,
// and replaceNetworkACLList's gatewayid (no private gateways).

type vpcOfferingView struct {
	ID                     string               `json:"id"`
	Name                   string               `json:"name"`
	DisplayText            string               `json:"displaytext"`
	IsDefault              bool                 `json:"isdefault"`
	State                  string               `json:"state"`
	Service                []networkServiceView `json:"service"`
	DistributedVPCRouter   bool                 `json:"distributedvpcrouter"`
	SupportsRegionLevelVPC bool                 `json:"supportsregionLevelvpc"`
	ForNSX                 bool                 `json:"fornsx"`
	NetworkMode            string               `json:"networkmode,omitempty"`
	Created                string               `json:"created"`
}

type vpcView struct {
	ID                   string               `json:"id"`
	Name                 string               `json:"name"`
	DisplayText          string               `json:"displaytext"`
	State                string               `json:"state"`
	ZoneID               string               `json:"zoneid"`
	ZoneName             string               `json:"zonename"`
	VPCOfferingID        string               `json:"vpcofferingid"`
	VPCOfferingName      string               `json:"vpcofferingname"`
	CIDR                 string               `json:"cidr"`
	NetworkDomain        string               `json:"networkdomain,omitempty"`
	RestartRequired      bool                 `json:"restartrequired"`
	RegionLevelVPC       bool                 `json:"regionlevelvpc"`
	DistributedVPCRouter bool                 `json:"distributedvpcrouter"`
	RedundantVPCRouter   bool                 `json:"redundantvpcrouter"`
	ForDisplay           bool                 `json:"fordisplay"`
	DNS1                 string               `json:"dns1,omitempty"`
	PublicMTU            int                  `json:"publicmtu"`
	Created              string               `json:"created"`
	Network              []networkView        `json:"network"`
	Service              []networkServiceView `json:"service"`
	Tags                 []tagView            `json:"tags"`
	ownerView
}

type networkACLListView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	VPCID       string `json:"vpcid,omitempty"`
	VPCName     string `json:"vpcname,omitempty"`
	ForDisplay  bool   `json:"fordisplay"`
}

// networkACLItemView is NetworkACLItemResponse: ports are strings.
type networkACLItemView struct {
	ID          string    `json:"id"`
	ACLID       string    `json:"aclid"`
	ACLName     string    `json:"aclname"`
	Number      int       `json:"number"`
	Protocol    string    `json:"protocol"`
	StartPort   string    `json:"startport,omitempty"`
	EndPort     string    `json:"endport,omitempty"`
	ICMPType    *int      `json:"icmptype,omitempty"`
	ICMPCode    *int      `json:"icmpcode,omitempty"`
	CIDRList    string    `json:"cidrlist"`
	Action      string    `json:"action"`
	TrafficType string    `json:"traffictype"`
	Reason      string    `json:"reason,omitempty"`
	State       string    `json:"state"`
	ForDisplay  bool      `json:"fordisplay"`
	Tags        []tagView `json:"tags"`
}

var pACLItemFields = []param{
	p("action:string", "scl entry action, allow or deny"),
	p("cidrlist:list", "the CIDR list to allow traffic from/to. Multiple entries must be separated by a single comma character (,)."),
	p("endport:integer", "the ending port of ACL"),
	p("fordisplay:boolean", "an optional field, whether to the display the rule to the end user or not"),
	p("icmpcode:integer", "error code for this ICMP message"),
	p("icmptype:integer", "type of the ICMP message being sent"),
	p("reason:string", "A description indicating why the ACL rule is required."),
	p("startport:integer", "the starting port of ACL"),
	p("traffictype:string", "the traffic type for the ACL, can be ingress or egress, defaulted to ingress if not specified"),
}

func vpcCommands() []*command {
	return []*command{
		{Name: "listVPCOfferings", Desc: "Lists VPC offerings", Resp: "vpcoffering", RespOf: vpcOfferingView{},
			Params: listParams(p("id:uuid:VpcOffering", "list VPC offerings by id"), p("name:string", "list VPC offerings by name"),
				p("displaytext:string", "list VPC offerings by display text"), p("isdefault:boolean", "true if need to list only default VPC offerings. Default value is false"),
				p("state:string", "list VPC offerings by state"), p("supportedservices:list", "list VPC offerings supporting certain services"),
				p("zoneid:uuid:Zone", "id of zone VPC offering is associated with"),
				p("domainid:uuid:Domain", "list VPC offerings available for VPC creation in specific domain")),
			Run: listVPCOfferings},
		{Name: "createVPC", Async: true, Desc: "Creates a VPC", Resp: "vpc", RespOf: vpcView{},
			Params: []param{p("name*:string", "the name of the VPC"), p("displaytext:string", "The display text of the VPC, defaults to its 'name'."),
				p("zoneid*:uuid:Zone", "the ID of the availability zone"), p("vpcofferingid*:uuid:VpcOffering", "the ID of the VPC offering"),
				p("cidr:string", "the cidr of the VPC. All VPC guest networks' cidrs should be within this CIDR"),
				p("networkdomain:string", "VPC network domain. All networks inside the VPC will belong to this domain"),
				p("account:string", "the account associated with the VPC. Must be used with the domainId parameter."),
				p("domainid:uuid:Domain", "the domain ID associated with the VPC. If used with the account parameter returns the VPC associated with the account for the specified domain."),
				p("projectid:uuid:Project", "create VPC for the project"),
				p("start:boolean", "If set to false, the VPC won't start (VPC VR will not get allocated) until its first network gets implemented. True by default."),
				p("fordisplay:boolean", "an optional field, whether to the display the vpc to the end user or not"),
				p("dns1:string", "the first IPv4 DNS for the VPC"), p("dns2:string", "the second IPv4 DNS for the VPC"),
				p("publicmtu:integer", "MTU to be configured on the network VR's public facing interfaces"),
				p("sourcenatipaddress:string", "IPV4 address to be assigned to the public interface of the network router.")},
			Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				v, job, err := rq.h.sim.CreateVPC(rq.ctx, rq.c, cloud.VPCSpec{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
					ZoneID: rq.str("zoneid"), OfferingID: rq.str("vpcofferingid"), CIDR: rq.str("cidr"), NetworkDomain: rq.str("networkdomain"),
					Account: account, DomainID: domainID, Display: rq.optBool("fordisplay"), Cmd: rq.className()})
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: v.ID, JobID: job.ID}, nil
			}},
		{Name: "listVPCs", Desc: "Lists VPCs", Resp: "vpc", RespOf: vpcView{},
			Params: ownedListParams(p("id:uuid:Vpc", "list VPC by id"), p("name:string", "list by name of the VPC"),
				p("displaytext:string", "List by display text of the VPC"), p("cidr:string", "list by cidr of the VPC. All VPC guest networks' cidrs should be within this CIDR"),
				p("zoneid:uuid:Zone", "list by zone"), p("vpcofferingid:uuid:VpcOffering", "list by ID of the VPC offering"),
				p("state:string", "list VPCs by state"), p("restartrequired:boolean", "list VPCs by restartRequired option"),
				p("fordisplay:boolean", "list resources by display flag; only ROOT admin is eligible to pass this parameter"),
				pTags,
				p("supportedservices:list", "list VPC supporting certain services"), p("showicon:boolean", "flag to display the resource icon for VPCs")),
			Run: listVPCs},
		{Name: "updateVPC", Async: true, Desc: "Updates a VPC", Resp: "vpc", RespOf: vpcView{},
			Params: []param{p("id*:uuid:Vpc", "the id of the VPC"), p("name:string", "the name of the VPC"), p("displaytext:string", "the display text of the VPC"),
				p("fordisplay:boolean", "an optional field, whether to the display the vpc to the end user or not"),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only"),
				p("publicmtu:integer", "MTU to be configured on the network VR's public facing interfaces")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateVPC(rq.ctx, rq.c, rq.str("id"), rq.optStr("name"), rq.optStr("displaytext"), rq.optBool("fordisplay"), rq.className()))
			}},
		{Name: "deleteVPC", Async: true, Desc: "Deletes a VPC", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:Vpc", "the ID of the VPC")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteVPC(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "restartVPC", Async: true, Desc: "Restarts a VPC", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:Vpc", "the id of the VPC"), p("cleanup:boolean", "If cleanup old network elements"),
				p("makeredundant:boolean", "Turn a single VPC into a redundant one."),
				p("livepatch:boolean", "Live patches the router software before restarting it. This parameter will only work when 'cleanup' is false.")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RestartVPC(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "createNetworkACLList", Async: true, Desc: "Creates a network ACL. If no VPC is given, then it creates a global ACL that can be used by everyone.",
			Resp: "networkacllist", RespOf: networkACLListView{},
			Params: []param{p("name*:string", "Name of the network ACL list"), p("description:string", "Description of the network ACL list"),
				p("vpcid:uuid:Vpc", "ID of the VPC associated with this network ACL list"),
				p("fordisplay:boolean", "an optional field, whether to the display the list to the end user or not")},
			Run: func(rq *request) (any, error) {
				l, job, err := rq.h.sim.CreateNetworkACLList(rq.ctx, rq.c, rq.str("name"), rq.str("description"), rq.str("vpcid"), rq.optBool("fordisplay"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: l.ID, JobID: job.ID}, nil
			}},
		{Name: "listNetworkACLLists", Desc: "Lists all network ACLs", Resp: "networkacllist", RespOf: networkACLListView{},
			Params: ownedListParams(p("id:uuid:NetworkACL", "Lists network ACL with the specified ID."), p("name:string", "list network ACLs by specified name"),
				p("networkid:uuid:Network", "list network ACLs by network ID"), p("vpcid:uuid:Vpc", "list network ACLs by VPC ID"),
				p("fordisplay:boolean", "list resources by display flag; only ROOT admin is eligible to pass this parameter")),
			Run: listNetworkACLLists},
		{Name: "updateNetworkACLList", Async: true, Desc: "Updates network ACL list", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:NetworkACL", "the ID of the network ACL"), p("name:string", "Name of the network ACL list"),
				p("description:string", "Description of the network ACL list"),
				p("fordisplay:boolean", "an optional field, whether to the display the list to the end user or not"),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateNetworkACLList(rq.ctx, rq.c, rq.str("id"), rq.optStr("name"), rq.optStr("description"), rq.optBool("fordisplay"), rq.className()))
			}},
		{Name: "deleteNetworkACLList", Async: true, Desc: "Deletes a network ACL", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:NetworkACL", "the ID of the network ACL")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteNetworkACLList(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "createNetworkACL", Async: true, Desc: "Creates a ACL rule in the given network (the network has to belong to VPC)", Resp: "networkacl", RespOf: networkACLItemView{},
			Params: append([]param{p("protocol*:string", "the protocol for the ACL rule. Valid values are TCP/UDP/ICMP/ALL or valid protocol number"),
				p("aclid:uuid:NetworkACL", "The network of the VM the ACL will be created for"),
				p("networkid:uuid:Network", "The network of the VM the ACL will be created for"),
				p("number:integer", "The number of the ACL item, its ordering")}, pACLItemFields...),
			Run: func(rq *request) (any, error) {
				spec := rq.aclItemSpec()
				spec.ACLID, spec.NetworkID = rq.str("aclid"), rq.str("networkid")
				it, job, err := rq.h.sim.CreateNetworkACLItem(rq.ctx, rq.c, spec)
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: it.ID, JobID: job.ID}, nil
			}},
		{Name: "listNetworkACLs", Desc: "Lists all network ACL items", Resp: "networkacl", RespOf: networkACLItemView{},
			Params: ownedListParams(p("id:uuid:NetworkACLItem", "Lists network ACL Item with the specified ID"),
				p("aclid:uuid:NetworkACL", "list network ACL items by ACL ID"), p("networkid:uuid:Network", "list network ACL items by network ID"),
				p("action:string", "list network ACL items by action"), p("protocol:string", "list network ACL items by protocol"),
				p("traffictype:string", "list network ACL items by traffic type - ingress or egress"), pTags,
				p("fordisplay:boolean", "list resources by display flag; only ROOT admin is eligible to pass this parameter")),
			Run: listNetworkACLs},
		{Name: "updateNetworkACLItem", Async: true, Desc: "Updates ACL item with specified ID", Resp: "networkacl", RespOf: networkACLItemView{},
			Params: append([]param{p("id*:uuid:NetworkACLItem", "the ID of the network ACL item"),
				p("protocol:string", "the protocol for the ACL rule. Valid values are TCP/UDP/ICMP/ALL or valid protocol number"),
				p("number:integer", "The network of the vm the ACL will be created for"),
				p("partialupgrade:boolean", "Indicates if the ACL rule is to be updated partially (merging the parameters sent with current configuration) or completely (disconsidering all of the current configurations). The default value is 'true'."),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only")}, pACLItemFields...),
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateNetworkACLItem(rq.ctx, rq.c, rq.str("id"), rq.aclItemSpec()))
			}},
		{Name: "deleteNetworkACL", Async: true, Desc: "Deletes a network ACL", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:NetworkACLItem", "the ID of the network ACL")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteNetworkACLItem(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "replaceNetworkACLList", Async: true, Desc: "Replaces ACL associated with a network or private gateway", Resp: "success", RespOf: Success{},
			Params: []param{p("aclid*:uuid:NetworkACL", "the ID of the network ACL"), p("networkid:uuid:Network", "the ID of the network"),
				p("gatewayid:uuid", "the ID of the private gateway")},
			Run: func(rq *request) (any, error) {
				if rq.str("gatewayid") != "" {
					if rq.str("networkid") != "" {
						return nil, cloud.Invalid("NetworkId and privateGatewayId can't be passed at the same time")
					}
					return nil, cloud.Invalid("Unable to find specified private gateway")
				}
				return asyncJob(rq.h.sim.ReplaceNetworkACLList(rq.ctx, rq.c, rq.str("aclid"), rq.str("networkid"), rq.className()))
			}},
	}
}

// aclItemSpec reads the rule fields createNetworkACL and
// updateNetworkACLItem share.
func (rq *request) aclItemSpec() cloud.ACLItemSpec {
	return cloud.ACLItemSpec{Number: rq.optInt("number"), Protocol: rq.str("protocol"), StartPort: rq.optInt("startport"),
		EndPort: rq.optInt("endport"), ICMPType: rq.optInt("icmptype"), ICMPCode: rq.optInt("icmpcode"), CIDRs: rq.p.List("cidrlist"),
		Action: rq.str("action"), Traffic: rq.str("traffictype"), Reason: rq.optStr("reason"), Display: rq.optBool("fordisplay"), Cmd: rq.className()}
}

func listVPCOfferings(rq *request) (any, error) {
	isDef, hasDef := rq.p["isdefault"]
	services := rq.p.List("supportedservices")
	return rq.read(func(r cloud.Reader) (any, error) {
		return listView(rq, "vpcoffering", r.VPCOfferings(), func(o *cloud.VPCOffering) bool {
			for _, s := range services {
				if !containsFold(o.Services, s) {
					return false
				}
			}
			return rq.match("id", o.ID) && rq.match("name", o.Name) && rq.match("displaytext", o.DisplayText) &&
				strings.EqualFold(orAll(rq.str("state"), o.State()), o.State()) && (!hasDef || parseBool(isDef) == o.IsDefault) &&
				rq.keyword(o.Name, o.DisplayText)
		}, func(o *cloud.VPCOffering) vpcOfferingView { return vpcOfferingOf(o, vpcOfferingCreated(r, o)) })
	})
}

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func vpcOfferingOf(o *cloud.VPCOffering, created string) vpcOfferingView {
	v := vpcOfferingView{ID: o.ID, Name: o.Name, DisplayText: o.DisplayText, IsDefault: o.IsDefault, State: o.State(),
		Service: vpcServicesOf(o), ForNSX: o.Provider == "Nsx", NetworkMode: o.NetworkMode, Created: created}
	return v
}

func vpcServicesOf(o *cloud.VPCOffering) []networkServiceView {
	out := make([]networkServiceView, 0, len(o.Services))
	for _, s := range o.Services {
		prov := []serviceProviderView{{Name: o.Provider}}
		switch {
		case o.Provider == "Nsx" && (s == "Dhcp" || s == "Dns" || s == "UserData"):
			prov = []serviceProviderView{{Name: "VPCVirtualRouter"}}
		case s == "Lb" && o.Provider != "Nsx":
			prov = append(prov, serviceProviderView{Name: "InternalLbVm"})
		}
		out = append(out, networkServiceView{Name: s, Provider: prov})
	}
	return out
}

func listVPCs(rq *request) (any, error) {
	restart, hasRestart := rq.p["restartrequired"]
	disp, hasDisp := rq.p["fordisplay"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "vpc", r.VPCs(), func(v *cloud.VPC) bool {
			return keep(v.Owner) && rq.match("id", v.ID) && rq.match("name", v.Name) && rq.match("displaytext", v.DisplayText) &&
				rq.match("cidr", v.CIDR) && rq.match("zoneid", v.ZoneID) && rq.match("vpcofferingid", v.OfferingID) &&
				strings.EqualFold(orAll(rq.str("state"), v.State), v.State) && (!hasRestart || parseBool(restart) == v.RestartRequired) &&
				(!hasDisp || parseBool(disp) == v.Display) && rq.keyword(v.Name, v.DisplayText) && rq.tagsMatch(r, v.ID)
		}, func(v *cloud.VPC) vpcView { return vpcOf(r, v) })
	})
}

func vpcOf(r cloud.Reader, v *cloud.VPC) vpcView {
	out := vpcView{ID: v.ID, Name: v.Name, DisplayText: v.DisplayText, State: v.State, ZoneID: v.ZoneID, VPCOfferingID: v.OfferingID,
		CIDR: v.CIDR, NetworkDomain: v.NetworkDomain, RestartRequired: v.RestartRequired, ForDisplay: v.Display, PublicMTU: 1500,
		Created: date(v.Created), Network: []networkView{}, Service: []networkServiceView{}, Tags: tagsOf(r, v.ID), ownerView: owner(r, v.Owner)}
	if z, ok := r.Zone(v.ZoneID); ok {
		out.ZoneName, out.DNS1 = z.Name, z.DNS1
	}
	if o, ok := r.VPCOffering(v.OfferingID); ok {
		out.VPCOfferingName, out.RedundantVPCRouter, out.Service = o.Name, o.Redundant, vpcServicesOf(o)
	}
	for _, n := range r.Networks() {
		if n.VPCID == v.ID {
			out.Network = append(out.Network, networkOf(r, n))
		}
	}
	return out
}

// aclVisible returns whether c may see a list: a built-in one, or one
// whose owner the list's scope keeps.
func aclVisible(keep func(cloud.Owner) bool, l *cloud.NetworkACLList) bool {
	return cloud.IsDefaultACL(l.ID) || keep(l.Owner)
}

func listNetworkACLLists(rq *request) (any, error) {
	disp, hasDisp := rq.p["fordisplay"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.aclScope(r)
		if err != nil {
			return nil, err
		}
		var netACL string
		if id := rq.str("networkid"); id != "" {
			n, ok := r.Network(id)
			if !ok || !r.CanAccess(rq.c, n.Owner) {
				return List{Key: "networkacllist"}, nil
			}
			netACL = n.ACLID
		}
		vpc := rq.str("vpcid")
		return listView(rq, "networkacllist", r.NetworkACLLists(), func(l *cloud.NetworkACLList) bool {
			return aclVisible(keep, l) && rq.match("id", l.ID) && rq.match("name", l.Name) &&
				(vpc == "" || l.VPCID == vpc || cloud.IsDefaultACL(l.ID)) && (rq.str("networkid") == "" || l.ID == netACL) &&
				(!hasDisp || parseBool(disp) == l.Display) && rq.keyword(l.Name, l.Description)
		}, func(l *cloud.NetworkACLList) networkACLListView { return networkACLListOf(r, l) })
	})
}

// aclScope is the owner scope of the ACL lists: with vpcid, the VPC's
// owner, once the caller may use the VPC (CloudStack lists by VPC then).
func (rq *request) aclScope(r cloud.Reader) (func(cloud.Owner) bool, error) {
	if id := rq.str("vpcid"); id != "" {
		v, ok := r.VPC(id)
		if !ok || !r.CanAccess(rq.c, v.Owner) {
			return nil, cloud.Invalid("Unable to find VPC")
		}
		return func(o cloud.Owner) bool { return o == v.Owner }, nil
	}
	return rq.ownerScope(r)
}

func networkACLListOf(r cloud.Reader, l *cloud.NetworkACLList) networkACLListView {
	v := networkACLListView{ID: l.ID, Name: l.Name, Description: l.Description, VPCID: l.VPCID, ForDisplay: l.Display}
	if vpc, ok := r.VPC(l.VPCID); ok {
		v.VPCName = vpc.Name
	}
	return v
}

func listNetworkACLs(rq *request) (any, error) {
	disp, hasDisp := rq.p["fordisplay"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		aclID := rq.str("aclid")
		if id := rq.str("networkid"); id != "" {
			n, ok := r.Network(id)
			if !ok || !r.CanAccess(rq.c, n.Owner) || n.ACLID == "" || (aclID != "" && aclID != n.ACLID) {
				return List{Key: "networkacl"}, nil
			}
			aclID = n.ACLID
		}
		if aclID != "" {
			// A list c may see shows its rules whatever the scope asks
			// (the built-in lists' rules have no owner).
			l, ok := r.NetworkACLList(aclID)
			if !ok || !(cloud.IsDefaultACL(l.ID) || r.CanAccess(rq.c, l.Owner)) {
				return List{Key: "networkacl"}, nil
			}
			keep = func(cloud.Owner) bool { return true }
		}
		return listView(rq, "networkacl", r.NetworkACLItems(), func(it *cloud.NetworkACLItem) bool {
			if aclID == "" && cloud.IsDefaultACL(it.ACLID) {
				return false
			}
			return keep(it.Owner) && rq.match("id", it.ID) && (aclID == "" || it.ACLID == aclID) &&
				strings.EqualFold(orAll(rq.str("action"), it.Action), it.Action) &&
				strings.EqualFold(orAll(rq.str("protocol"), it.Protocol), it.Protocol) &&
				strings.EqualFold(orAll(rq.str("traffictype"), it.Traffic), it.Traffic) &&
				(!hasDisp || parseBool(disp) == it.Display) && rq.keyword(it.Protocol, it.Reason) && rq.tagsMatch(r, it.ID)
		}, func(it *cloud.NetworkACLItem) networkACLItemView { return networkACLItemOf(r, it) })
	})
}

func networkACLItemOf(r cloud.Reader, it *cloud.NetworkACLItem) networkACLItemView {
	v := networkACLItemView{ID: it.ID, ACLID: it.ACLID, Number: it.Number, Protocol: it.Protocol, ICMPType: it.ICMPType, ICMPCode: it.ICMPCode,
		CIDRList: strings.Join(it.CIDRs, ","), Action: it.Action, TrafficType: it.Traffic, Reason: it.Reason, State: it.State,
		ForDisplay: it.Display, Tags: tagsOf(r, it.ID)}
	if it.StartPort != nil {
		v.StartPort = strconv.Itoa(*it.StartPort)
	}
	if it.EndPort != nil {
		v.EndPort = strconv.Itoa(*it.EndPort)
	}
	if l, ok := r.NetworkACLList(it.ACLID); ok {
		v.ACLName = l.Name
	}
	return v
}

// vpcJobResult renders the job results of the VPC family (nil for other
// kinds).
func vpcJobResult(r cloud.Reader, j *cloud.Job) any {
	switch j.ResultKind {
	case cloud.KindVPC:
		var v cloud.VPC
		if json.Unmarshal(j.Result, &v) != nil {
			return nil
		}
		if cur, ok := r.VPC(v.ID); ok {
			v.RestartRequired = cur.RestartRequired
		}
		return Object{Key: "vpc", Obj: vpcOf(r, &v)}
	case cloud.KindNetworkACLList:
		var l cloud.NetworkACLList
		if json.Unmarshal(j.Result, &l) != nil {
			return nil
		}
		return Object{Key: "networkacllist", Obj: networkACLListOf(r, &l)}
	case cloud.KindNetworkACLItem:
		var it cloud.NetworkACLItem
		if json.Unmarshal(j.Result, &it) != nil {
			return nil
		}
		return Object{Key: "networkacl", Obj: networkACLItemOf(r, &it)}
	}
	return nil
}
