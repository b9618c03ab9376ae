package cloudstack

import (
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

func networkCommands() []*command {
	return []*command{
		{Name: "listNetworks", Desc: "Lists all available networks.", Resp: "network", RespOf: networkView{},
			Params: ownedListParams(withID(cloud.KindNetwork, pName, pZoneID, pTags, p("type:string", "the type of the network. Supported values are: isolated, l2, shared and all"),
				p("traffictype:string", "type of the traffic"), p("vpcid:uuid:Vpc", "List networks by VPC"), p("forvpc:boolean", "the network belongs to VPC"),
				p("canusefordeploy:boolean", "list networks available for VM deployment"),
				p("issystem:boolean", "true if network is system, false otherwise"))...), Run: listNetworks},
		{Name: "createNetwork", Desc: "Creates a network", Resp: "network", RespOf: networkView{},
			Params: []param{p("name*:string", "the name of the network"), p("displaytext:string", "the display text of the network"),
				p("networkofferingid*:uuid:NetworkOffering", "the network offering ID"), p("zoneid*:uuid:Zone", "the zone ID for the network"),
				p("gateway:string", "the gateway of the network. Required for shared networks and isolated networks when it belongs to VPC"),
				p("netmask:string", "the netmask of the network. Required for shared networks and isolated networks when it belongs to VPC"),
				p("startip:string", "the beginning IP address in the network IP range"), p("endip:string", "the ending IP address in the network IP range"),
				p("vlan:string", "the ID or VID of the network"), p("vpcid:uuid:Vpc", "the VPC network belongs to"), p("aclid:uuid:NetworkACL", "Network ACL ID associated for the network"),
				pAccount, pDomainID, p("projectid:uuid:Project", "an optional project for the network")},
			Run: createNetwork},
		{Name: "deleteNetwork", Async: true, Desc: "Deletes a network", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:Network", "the ID of the network"), p("forced:boolean", "Force delete a network. Network will be marked as 'Destroy' even when commands to shutdown and cleanup to the backend fails.")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteNetwork(rq.ctx, rq.c, rq.str("id"), rq.boolean("forced", false), rq.className()))
			}},
		{Name: "associateIpAddress", Async: true, Desc: "Acquires and associates a public IP to an account.", Resp: "ipaddress", RespOf: publicIPView{},
			Params: []param{pZoneID, p("networkid:uuid:Network", "The network this IP address should be associated to."),
				p("ipaddress:string", "IP Address to be associated"), p("vpcid:uuid:Vpc", "the VPC you want the IP address to be associated with"), pAccount, pDomainID,
				p("projectid:uuid:Project", "Deploy VM for the project")},
			Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				ip, job, err := rq.h.sim.AssociateIP(rq.ctx, rq.c, rq.str("zoneid"), rq.str("networkid"), rq.str("vpcid"), rq.str("ipaddress"), account, domainID, rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: ip.ID, JobID: job.ID}, nil
			}},
		{Name: "disassociateIpAddress", Async: true, Desc: "Disassociates an IP address from the account.", Resp: "success", RespOf: Success{},
			Params: []param{p("id:uuid:PublicIpAddress", "the ID of the public IP address to disassociate. Mutually exclusive with the ipaddress parameter"),
				p("ipaddress:string", "IP Address to be disassociated. Mutually exclusive with the id parameter")},
			Run: func(rq *request) (any, error) {
				id, err := rq.publicIPID()
				if err != nil {
					return nil, err
				}
				return asyncJob(rq.h.sim.DisassociateIP(rq.ctx, rq.c, id, rq.className()))
			}},
		{Name: "listPublicIpAddresses", Desc: "Lists all public IP addresses", Resp: "publicipaddress", RespOf: publicIPView{},
			Params: ownedListParams(withID(cloud.KindPublicIP, pZoneID, pTags, p("ipaddress:string", "lists the specified IP address"),
				p("associatednetworkid:uuid:Network", "lists all public IP addresses associated to the network specified"),
				p("allocatedonly:boolean", "limits search results to allocated public IP addresses"),
				p("issourcenat:boolean", "list only source NAT IP addresses"), p("isstaticnat:boolean", "list only static NAT IP addresses"),
				p("vpcid:uuid:Vpc", "List IPs belonging to the VPC"), p("forvirtualnetwork:boolean", "the virtual network for the IP address"))...),
			Run: listPublicIPs},
		{Name: "enableStaticNat", Desc: "Enables static NAT for given IP address", Resp: "success", RespOf: Success{},
			Params: []param{p("ipaddressid*:uuid:PublicIpAddress", "the public IP address ID for which static NAT feature is being enabled"),
				p("virtualmachineid*:uuid:UserVm", "the ID of the virtual machine for enabling static NAT feature"),
				p("networkid:uuid:Network", "The network of the VM the static NAT will be enabled for."), p("vmguestip:string", "VM guest NIC secondary IP address for the port forwarding rule")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.SetStaticNAT(rq.ctx, rq.c, rq.str("ipaddressid"), rq.str("virtualmachineid")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "disableStaticNat", Async: true, Desc: "Disables static rule for given IP address", Resp: "success", RespOf: Success{},
			Params: []param{p("ipaddressid*:uuid:PublicIpAddress", "the public IP address ID for which static NAT feature is being disabled")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DisableStaticNAT(rq.ctx, rq.c, rq.str("ipaddressid"), rq.className()))
			}},
	}
}

func (rq *request) publicIPID() (string, error) {
	if id := rq.str("id"); id != "" {
		return id, nil
	}
	addr := rq.str("ipaddress")
	if addr == "" {
		return "", cloud.Invalid("Unable to execute API command disassociateipaddress due to missing parameter id")
	}
	var id string
	rq.h.sim.Read(func(r cloud.Reader) {
		for _, ip := range r.PublicIPs() {
			if ip.Address == addr && r.CanAccess(rq.c, ip.Owner) {
				id = ip.ID
			}
		}
	})
	if id == "" {
		return "", cloud.Invalid("Unable to find IP address %s", addr)
	}
	return id, nil
}

func listNetworks(rq *request) (any, error) {
	typ := strings.ToLower(rq.str("type"))
	isDef, hasDef := rq.p["isdefault"]
	forVPC, hasForVPC := rq.p["forvpc"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "network", r.Networks(), func(n *cloud.Network) bool {
			if n.System && !rq.boolean("issystem", false) {
				return false
			}
			// shared networks are everyone's, but not a project's view
			if !(keep(n.Owner) || n.Shared && rq.str("account") == "" && rq.str("projectid") == "") {
				return false
			}
			if typ != "" && typ != "all" && typ != strings.ToLower(n.Type) {
				return false
			}
			if hasDef && parseBool(isDef) != n.Shared {
				return false
			}
			return rq.match("id", n.ID) && rq.match("name", n.Name) && rq.match("zoneid", n.ZoneID) &&
				strings.EqualFold(orAll(rq.str("traffictype"), n.TrafficType), n.TrafficType) && rq.match("vpcid", n.VPCID) &&
				(!hasForVPC || parseBool(forVPC) == (n.VPCID != "")) &&
				rq.keyword(n.Name, n.DisplayText) && rq.tagsMatch(r, n.ID)
		}, func(n *cloud.Network) networkView { return networkOf(r, n) })
	})
}

func createNetwork(rq *request) (any, error) {
	account, domainID, err := rq.owner()
	if err != nil {
		return nil, err
	}
	n, err := rq.h.sim.CreateNetwork(rq.ctx, rq.c, cloud.CreateNetworkRequest{Name: rq.str("name"), DisplayText: rq.str("displaytext"),
		OfferingID: rq.str("networkofferingid"), ZoneID: rq.str("zoneid"), Gateway: rq.str("gateway"), Netmask: rq.str("netmask"),
		Account: account, DomainID: domainID, VPCID: rq.str("vpcid"), ACLID: rq.str("aclid")})
	if err != nil {
		return nil, err
	}
	return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "network", Obj: networkOf(r, n)}, nil })
}

func listPublicIPs(rq *request) (any, error) {
	ids := rq.idFilter()
	srcNAT, hasSrc := rq.p["issourcenat"]
	stNAT, hasSt := rq.p["isstaticnat"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "publicipaddress", r.PublicIPs(), func(ip *cloud.PublicIP) bool {
			return keep(ip.Owner) && ids(ip.ID) && rq.match("ipaddress", ip.Address) && rq.match("zoneid", ip.ZoneID) &&
				rq.match("associatednetworkid", ip.NetworkID) && (!hasSrc || parseBool(srcNAT) == ip.SourceNAT) &&
				(!hasSt || parseBool(stNAT) == ip.StaticNAT) && rq.match("vpcid", ip.VPCID) && rq.keyword(ip.Address) && rq.tagsMatch(r, ip.ID)
		}, func(ip *cloud.PublicIP) publicIPView { return publicIPOf(r, ip) })
	})
}
