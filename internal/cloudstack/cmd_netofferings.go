package cloudstack

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Network and VPC offerings, created, changed and deleted by root
// admins, and the two catalogues behind them (listSupportedNetworkServices,
// listNetworkProtocols). Accepted and ignored (one provider, the virtual
// router, serves every service; offerings are not scoped): details,
// domainid, fornsx, fortungsten, internetprotocol, keepaliveenabled,
// networkmode, nsxsupportlb, nsxsupportsinternallb, provider,
// routingmode, servicecapabilitylist, serviceproviderlist,
// specifyasnumber and zoneid of the creates; domainid, keepaliveenabled,
// sortkey and zoneid of the updates. listNetworkProtocols answers the
// common IANA protocol numbers and the ICMP types CloudStack's rules
// take, not the whole registry.

func netOfferingCommands() []*command {
	return []*command{
		{Name: "createNetworkOffering", Desc: "Creates a network offering.", Resp: "networkoffering", RespOf: networkOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("name*:string", "the name of the network offering"),
				p("displaytext:string", "the display text of the network offering, defaults to the value of 'name'."),
				p("guestiptype*:string", "guest type of the network offering: Shared or Isolated"),
				p("traffictype*:string", "the traffic type for the network offering. Supported type in current release is GUEST only"),
				p("supportedservices:list", "services supported by the network offering"),
				p("availability:string", "the availability of network offering. The default value is Optional.  Another value is Required, which will make it as the default network offering for new networks "),
				p("conservemode:boolean", "true if the network offering is IP conserve mode enabled"),
				p("egressdefaultpolicy:boolean", "true if guest network default egress policy is allow; false if default egress policy is deny"),
				p("enable:boolean", "set to true if the offering is to be enabled during creation. Default is false"),
				p("forvpc:boolean", "true if network offering is meant to be used for VPC, false otherwise."),
				p("ispersistent:boolean", "true if network offering supports persistent networks; defaulted to false if not specified"),
				p("maxconnections:integer", "maximum number of concurrent connections supported by the network offering"),
				p("networkrate:integer", "data transfer rate in megabits per second allowed"),
				p("serviceofferingid:uuid:ServiceOffering", "the service offering ID used by virtual router provider"),
				p("specifyipranges:boolean", "true if network offering supports specifying ip ranges; defaulted to false if not specified"),
				p("specifyvlan:boolean", "true if network offering supports vlans"),
				p("tags:string", "the tags for the network offering."),
			}, ignoredParams("details:map", "domainid:list", "fornsx:boolean", "fortungsten:boolean", "internetprotocol:string", "keepaliveenabled:boolean",
				"networkmode:string", "nsxsupportlb:boolean", "nsxsupportsinternallb:boolean", "provider:string", "routingmode:string",
				"servicecapabilitylist:map", "serviceproviderlist:map", "specifyasnumber:boolean", "zoneid:list")...),
			Run: func(rq *request) (any, error) {
				o, err := rq.h.sim.CreateNetworkOffering(rq.ctx, rq.c, cloud.NetworkOfferingRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
					GuestIPType: rq.str("guestiptype"), TrafficType: rq.str("traffictype"), Availability: rq.str("availability"),
					Services: rq.p.List("supportedservices"), SpecifyVLAN: rq.boolean("specifyvlan", false), SpecifyIPRanges: rq.boolean("specifyipranges", false),
					Persistent: rq.boolean("ispersistent", false), Enable: rq.boolean("enable", false), ForVPC: rq.optBool("forvpc"),
					ConserveMode: rq.optBool("conservemode"), EgressAllow: rq.optBool("egressdefaultpolicy"), NetworkRate: rq.optInt("networkrate"),
					MaxConnections: rq.optInt("maxconnections"), ServiceOfferingID: rq.str("serviceofferingid"), Tags: rq.str("tags")})
				if err != nil {
					return nil, err
				}
				return Object{Key: "networkoffering", Obj: networkOfferingOf(o)}, nil
			}},
		{Name: "updateNetworkOffering", Desc: "Updates a network offering.", Resp: "networkoffering", RespOf: networkOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("id:uuid:NetworkOffering", "the id of the network offering"),
				p("name:string", "the name of the network offering"),
				p("displaytext:string", "the display text of the network offering"),
				p("availability:string", "the availability of network offering. The value is Required makes this network offering default for Guest Virtual Networks. Only one network offering can have the value Required "),
				p("state:string", "update state for the network offering"),
				p("tags:string", "the tags for the network offering."),
				p("maxconnections:integer", "maximum number of concurrent connections supported by the network offering"),
			}, ignoredParams("domainid:string", "keepaliveenabled:boolean", "sortkey:integer", "zoneid:string")...),
			Run: func(rq *request) (any, error) {
				o, err := rq.h.sim.UpdateNetworkOffering(rq.ctx, rq.c, rq.str("id"), cloud.NetworkOfferingUpdate{Name: rq.optStr("name"),
					DisplayText: rq.optStr("displaytext"), Availability: rq.optStr("availability"), State: rq.optStr("state"), Tags: rq.optStr("tags"),
					MaxConnections: rq.optInt("maxconnections")})
				if err != nil {
					return nil, err
				}
				return Object{Key: "networkoffering", Obj: networkOfferingOf(o)}, nil
			}},
		{Name: "deleteNetworkOffering", Desc: "Deletes a network offering.", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: []param{p("id*:uuid:NetworkOffering", "the ID of the network offering")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.DeleteNetworkOffering(rq.ctx, rq.c, rq.str("id")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "createVPCOffering", Async: true, Desc: "Creates VPC offering", Resp: "vpcoffering", RespOf: vpcOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("name*:string", "the name of the vpc offering"),
				p("displaytext:string", "the display text of the vpc offering, defaults to the 'name'"),
				p("supportedservices:list", "services supported by the vpc offering"),
				p("enable:boolean", "set to true if the offering is to be enabled during creation. Default is false"),
				p("serviceofferingid:uuid:ServiceOffering", "the ID of the service offering for the VPC router appliance"),
			}, ignoredParams("domainid:list", "fornsx:boolean", "internetprotocol:string", "networkmode:string", "nsxsupportlb:boolean", "provider:string",
				"routingmode:string", "servicecapabilitylist:map", "serviceproviderlist:map", "specifyasnumber:boolean", "zoneid:list")...),
			Run: func(rq *request) (any, error) {
				o, job, err := rq.h.sim.CreateVPCOffering(rq.ctx, rq.c, cloud.VPCOfferingRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
					Services: rq.p.List("supportedservices"), Enable: rq.boolean("enable", false), Cmd: rq.className()})
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: o.ID, JobID: job.ID}, nil
			}},
		{Name: "updateVPCOffering", Async: true, Desc: "Updates VPC offering", Resp: "vpcoffering", RespOf: vpcOfferingView{}, Role: roleRootAdmin,
			Params: append([]param{
				p("id*:uuid:VpcOffering", "the id of the VPC offering"),
				p("name:string", "the name of the VPC offering"),
				p("displaytext:string", "the display text of the VPC offering"),
				p("state:string", "update state for the VPC offering; supported states - Enabled/Disabled"),
			}, ignoredParams("domainid:string", "sortkey:integer", "zoneid:string")...),
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateVPCOffering(rq.ctx, rq.c, rq.str("id"), cloud.VPCOfferingUpdate{Name: rq.optStr("name"),
					DisplayText: rq.optStr("displaytext"), State: rq.optStr("state"), Cmd: rq.className()}))
			}},
		{Name: "deleteVPCOffering", Async: true, Desc: "Deletes VPC offering", Resp: "success", RespOf: Success{}, Role: roleRootAdmin,
			Params: []param{p("id*:uuid:VpcOffering", "the ID of the VPC offering")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteVPCOffering(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "listSupportedNetworkServices", Desc: "Lists all network services provided by CloudStack or for the given Provider.", Resp: "networkservice",
			RespOf: supportedServiceView{},
			Params: listParams(p("provider:string", "network service provider name"), p("service:string", "network service name to list providers and capabilities of")),
			Run:    listSupportedNetworkServices},
		{Name: "listNetworkProtocols", Desc: "Lists details of network protocols", Resp: "networkprotocol", RespOf: networkProtocolView{},
			Params: []param{p("option*:string", "The option of network protocols. Supported values are: protocolnumber, icmptype.")},
			Run:    listNetworkProtocols},
	}
}

type serviceCapabilityView struct {
	Name                       string `json:"name"`
	Value                      string `json:"value"`
	CanChooseServiceCapability bool   `json:"canchooseservicecapability"`
}

type supportedServiceView struct {
	Name       string                  `json:"name"`
	Provider   []serviceProviderView   `json:"provider"`
	Capability []serviceCapabilityView `json:"capability"`
}

// supportedServices are the services the simulated providers offer, with
// the capabilities a CloudStack zone of virtual routers reports (Gateway
// left out, as CloudStack lists it not).
var supportedServices = []supportedServiceView{
	{Name: "Vpn", Provider: providers("VirtualRouter", "VpcVirtualRouter"), Capability: []serviceCapabilityView{{Name: "SupportedVpnTypes", Value: "pptp,l2tp,ipsec"}, {Name: "VpnTypes", Value: "removeaccessvpn"}}},
	{Name: "Dhcp", Provider: providers("VirtualRouter", "VpcVirtualRouter"), Capability: []serviceCapabilityView{{Name: "DhcpAccrossMultipleSubnets", Value: "true"}}},
	{Name: "Dns", Provider: providers("VirtualRouter", "VpcVirtualRouter"), Capability: []serviceCapabilityView{{Name: "AllowDnsSuffixModification", Value: "true"}}},
	{Name: "Firewall", Provider: providers("VirtualRouter"), Capability: []serviceCapabilityView{{Name: "SupportedProtocols", Value: "tcp,udp,icmp"},
		{Name: "SupportedEgressProtocols", Value: "tcp,udp,icmp, all"}, {Name: "SupportedTrafficDirection", Value: "ingress, egress"}, {Name: "MultipleIps", Value: "true"}}},
	{Name: "Lb", Provider: providers("VirtualRouter", "VpcVirtualRouter", "InternalLbVm"), Capability: []serviceCapabilityView{{Name: "SupportedLBAlgorithms", Value: "roundrobin,leastconn,source"},
		{Name: "SupportedLBIsolation", Value: "dedicated", CanChooseServiceCapability: true}, {Name: "SupportedProtocols", Value: "tcp, udp, tcp-proxy"},
		{Name: "SupportedStickinessMethods", Value: "LbCookie,AppCookie,SourceBased"}, {Name: "LbSchemes", Value: "Public,Internal"}}},
	{Name: "UserData", Provider: providers("VirtualRouter", "VpcVirtualRouter", "ConfigDrive")},
	{Name: "SourceNat", Provider: providers("VirtualRouter", "VpcVirtualRouter"), Capability: []serviceCapabilityView{{Name: "SupportedSourceNatTypes", Value: "peraccount", CanChooseServiceCapability: true},
		{Name: "RedundantRouter", Value: "true", CanChooseServiceCapability: true}}},
	{Name: "StaticNat", Provider: providers("VirtualRouter", "VpcVirtualRouter")},
	{Name: "PortForwarding", Provider: providers("VirtualRouter", "VpcVirtualRouter"), Capability: []serviceCapabilityView{{Name: "SupportedProtocols", Value: "tcp,udp"}}},
	{Name: "SecurityGroup", Provider: providers("SecurityGroupProvider")},
	{Name: "NetworkACL", Provider: providers("VpcVirtualRouter"), Capability: []serviceCapabilityView{{Name: "SupportedProtocols", Value: "tcp,udp,icmp"}}},
	{Name: "Connectivity", Provider: providers()},
}

func providers(names ...string) []serviceProviderView {
	out := make([]serviceProviderView, 0, len(names))
	for _, n := range names {
		out = append(out, serviceProviderView{Name: n})
	}
	return out
}

func listSupportedNetworkServices(rq *request) (any, error) {
	svc, prov := rq.str("service"), rq.str("provider")
	if svc != "" && !containsFold(cloud.NetworkServices, svc) {
		return nil, cloud.Invalid("Invalid Network Service=%s", svc)
	}
	if prov != "" {
		known := false
		for _, s := range supportedServices {
			for _, pv := range s.Provider {
				known = known || strings.EqualFold(pv.Name, prov)
			}
		}
		if !known {
			return nil, cloud.Invalid("Invalid Network Service Provider=%s", prov)
		}
	}
	all := make([]*supportedServiceView, len(supportedServices))
	for i := range supportedServices {
		all[i] = &supportedServices[i]
	}
	return listView(rq, "networkservice", all, func(s *supportedServiceView) bool {
		if svc != "" && !strings.EqualFold(svc, s.Name) {
			return false
		}
		if prov != "" {
			found := false
			for _, pv := range s.Provider {
				found = found || strings.EqualFold(pv.Name, prov)
			}
			if !found {
				return false
			}
		}
		return rq.keyword(s.Name)
	}, func(s *supportedServiceView) supportedServiceView {
		v := *s
		if v.Capability == nil {
			v.Capability = []serviceCapabilityView{}
		}
		return v
	})
}

type networkProtocolView struct {
	Index       int               `json:"index"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Details     map[string]string `json:"details,omitempty"`
}

// protocolNumbers are the IANA protocol numbers clients pick from most.
var protocolNumbers = []networkProtocolView{
	{0, "HOPOPT", "IPv6 Hop-by-Hop Option", nil}, {1, "ICMP", "Internet Control Message", nil}, {2, "IGMP", "Internet Group Management", nil},
	{4, "IPv4", "IPv4 encapsulation", nil}, {6, "TCP", "Transmission Control", nil}, {17, "UDP", "User Datagram", nil},
	{41, "IPv6", "IPv6 encapsulation", nil}, {47, "GRE", "Generic Routing Encapsulation", nil}, {50, "ESP", "Encap Security Payload", nil},
	{51, "AH", "Authentication Header", nil}, {58, "IPv6-ICMP", "ICMP for IPv6", nil}, {89, "OSPFIGP", "OSPFIGP", nil},
	{94, "IPIP", "IP-within-IP Encapsulation Protocol", nil}, {103, "PIM", "Protocol Independent Multicast", nil},
	{112, "VRRP", "Virtual Router Redundancy Protocol", nil}, {115, "L2TP", "Layer Two Tunneling Protocol", nil},
	{132, "SCTP", "Stream Control Transmission Protocol", nil}, {136, "UDPLite", "", nil},
}

// icmpTypes are the ICMP types (with their codes) rules may name.
var icmpTypes = []networkProtocolView{
	{0, "Echo Reply", "Echo Reply", map[string]string{"0": "Echo reply"}},
	{3, "Destination Unreachable", "Destination Unreachable", map[string]string{"0": "Net unreachable", "1": "Host unreachable",
		"2": "Protocol unreachable", "3": "Port unreachable", "4": "Fragmentation needed and DF set", "5": "Source route failed",
		"6": "Destination network unknown", "7": "Destination host unknown", "9": "Network administratively prohibited",
		"10": "Host administratively prohibited", "11": "Network unreachable for ToS", "12": "Host unreachable for ToS",
		"13": "Communication administratively prohibited", "14": "Host Precedence Violation", "15": "Precedence cutoff in effect"}},
	{5, "Redirect", "Redirect", map[string]string{"0": "Redirect Datagram for the Network", "1": "Redirect Datagram for the Host",
		"2": "Redirect Datagram for the ToS & network", "3": "Redirect Datagram for the ToS & host"}},
	{8, "Echo", "Echo", map[string]string{"0": "Echo request"}},
	{9, "Router Advertisement", "Router Advertisement", map[string]string{"0": "Router advertisement", "16": "Does not route common traffic"}},
	{10, "Router Solicitation", "Router Solicitation", map[string]string{"0": "Router solicitation"}},
	{11, "Time Exceeded", "Time Exceeded", map[string]string{"0": "TTL expired in transit", "1": "Fragment reassembly time exceeded"}},
	{12, "Parameter Problem", "Parameter Problem", map[string]string{"0": "Parameter problem: Pointer indicates the error",
		"1": "Parameter problem: Missing a required option", "2": "Parameter problem: Bad length"}},
	{13, "Timestamp", "Timestamp", map[string]string{"0": "Timestamp"}},
	{14, "Timestamp Reply", "Timestamp Reply", map[string]string{"0": "Timestamp reply"}},
}

func listNetworkProtocols(rq *request) (any, error) {
	var src []networkProtocolView
	switch strings.ToLower(rq.str("option")) {
	case "protocolnumber":
		src = protocolNumbers
	case "icmptype":
		src = icmpTypes
	default:
		return nil, cloud.Invalid("Option %s is not supported. Supported values are [ProtocolNumber, IcmpType]", rq.str("option"))
	}
	all := make([]*networkProtocolView, len(src))
	for i := range src {
		all[i] = &src[i]
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Index < all[j].Index })
	return listView(rq, "networkprotocol", all, func(*networkProtocolView) bool { return true }, func(v *networkProtocolView) networkProtocolView { return *v })
}

// netOfferingJobResult renders the job results of the offering family
// (nil for other kinds).
func netOfferingJobResult(r cloud.Reader, j *cloud.Job) any {
	if j.ResultKind == cloud.KindVPCOffering {
		var o cloud.VPCOffering
		if json.Unmarshal(j.Result, &o) == nil {
			return Object{Key: "vpcoffering", Obj: vpcOfferingOf(&o, vpcOfferingCreated(r, &o))}
		}
	}
	return nil
}

// vpcOfferingCreated is when a VPC offering was made: the cloud's
// creation for the built-in ones.
func vpcOfferingCreated(r cloud.Reader, o *cloud.VPCOffering) string {
	if o.Created.IsZero() {
		return date(r.CreatedAt())
	}
	return date(o.Created)
}
