package cloudstack

import (
	"encoding/json"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Private gateways and static routes of VPCs. Accepted and ignored: the
// physical network, network offering and bypassvlanoverlapcheck of
// createPrivateGateway (one physical network, one offering for the
// gateway's network).

type privateGatewayView struct {
	ID                  string `json:"id"`
	Gateway             string `json:"gateway"`
	IPAddress           string `json:"ipaddress"`
	Netmask             string `json:"netmask"`
	VLAN                string `json:"vlan,omitempty"`
	VPCID               string `json:"vpcid"`
	VPCName             string `json:"vpcname"`
	ZoneID              string `json:"zoneid"`
	ZoneName            string `json:"zonename"`
	PhysicalNetworkID   string `json:"physicalnetworkid,omitempty"`
	AssociatedNetworkID string `json:"associatednetworkid,omitempty"`
	AssociatedNetwork   string `json:"associatednetwork,omitempty"`
	ACLID               string `json:"aclid"`
	ACLName             string `json:"aclname"`
	SourceNATSupported  bool   `json:"sourcenatsupported"`
	State               string `json:"state"`
	HasAnnotations      bool   `json:"hasannotations"`
	ownerView
}

type staticRouteView struct {
	ID           string    `json:"id"`
	CIDR         string    `json:"cidr"`
	NextHop      string    `json:"nexthop,omitempty"`
	State        string    `json:"state"`
	VPCID        string    `json:"vpcid"`
	VPCGatewayID string    `json:"vpcgatewayid,omitempty"`
	VPCGatewayIP string    `json:"vpcgatewayip,omitempty"`
	Tags         []tagView `json:"tags"`
	ownerView
}

func privateGatewayCommands() []*command {
	return []*command{
		{Name: "createPrivateGateway", Async: true, Desc: "Creates a private gateway", Resp: "privategateway", RespOf: privateGatewayView{},
			Params: []param{p("vpcid*:uuid:Vpc", "the VPC network belongs to"),
				p("ipaddress*:string", "the IP address of the Private gateaway"), p("gateway*:string", "the gateway of the Private gateway"),
				p("netmask*:string", "the netmask of the Private gateway"), p("vlan:string", "the network implementation uri for the private gateway"),
				p("associatednetworkid:uuid:Network", "The isolated network this private gateway is associated to."),
				p("aclid:uuid:NetworkACL", "the ID of the network ACL"),
				p("sourcenatsupported:boolean", "source NAT supported value. Default value false. If 'true' source NAT is enabled on the private gateway 'false': sourcenat is not supported"),
				p("physicalnetworkid:uuid", "accepted and ignored by stratus (one physical network)"),
				p("networkofferingid:uuid", "accepted and ignored by stratus"),
				p("bypassvlanoverlapcheck:boolean", "accepted and ignored by stratus")},
			Run: func(rq *request) (any, error) {
				g, job, err := rq.h.sim.CreatePrivateGateway(rq.ctx, rq.c, cloud.PrivateGatewaySpec{VPCID: rq.str("vpcid"), IPAddress: rq.str("ipaddress"),
					Gateway: rq.str("gateway"), Netmask: rq.str("netmask"), VLAN: rq.str("vlan"), AssociatedNetworkID: rq.str("associatednetworkid"),
					ACLID: rq.str("aclid"), SourceNAT: rq.boolean("sourcenatsupported", false), Cmd: rq.className()})
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: g.ID, JobID: job.ID}, nil
			}},
		{Name: "listPrivateGateways", Desc: "List private gateways", Resp: "privategateway", RespOf: privateGatewayView{},
			Params: ownedListParams(p("id:uuid:"+string(cloud.KindPrivateGateway), "list private gateway by id"),
				p("ipaddress:string", "list gateways by ip address"), p("vlan:string", "list gateways by vlan"),
				p("vpcid:uuid:Vpc", "list gateways by vpc"), p("state:string", "list gateways by state"),
				p("projectid:uuid", "list objects by project; if projectid=-1 lists All VMs")),
			Run: listPrivateGateways},
		{Name: "deletePrivateGateway", Async: true, Desc: "Deletes a Private gateway", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:"+string(cloud.KindPrivateGateway), "the ID of the private gateway")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeletePrivateGateway(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "createStaticRoute", Async: true, Desc: "Creates a static route", Resp: "staticroute", RespOf: staticRouteView{},
			Params: []param{p("cidr*:string", "static route cidr"),
				p("gatewayid:uuid:"+string(cloud.KindPrivateGateway), "the gateway id we are creating static route for. Mutually exclusive with the nexthop parameter"),
				p("nexthop:string", "the next hop of static route. Mutually exclusive with the gatewayid parameter"),
				p("vpcid:uuid:Vpc", "the vpc id for which the static route is created. This is required for nexthop parameter")},
			Run: func(rq *request) (any, error) {
				r, job, err := rq.h.sim.CreateStaticRoute(rq.ctx, rq.c, rq.str("gatewayid"), rq.str("nexthop"), rq.str("vpcid"), rq.str("cidr"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: r.ID, JobID: job.ID}, nil
			}},
		{Name: "listStaticRoutes", Desc: "Lists all static routes", Resp: "staticroute", RespOf: staticRouteView{},
			Params: ownedListParams(p("id:uuid:"+string(cloud.KindStaticRoute), "list static route by id"),
				p("gatewayid:uuid:"+string(cloud.KindPrivateGateway), "list static routes by gateway id"),
				p("vpcid:uuid:Vpc", "list static routes by vpc id"), p("state:string", "list static routes by state"), pTags,
				p("projectid:uuid", "list objects by project; if projectid=-1 lists All VMs")),
			Run: listStaticRoutes},
		{Name: "deleteStaticRoute", Async: true, Desc: "Deletes a static route", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:"+string(cloud.KindStaticRoute), "the ID of the static route")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteStaticRoute(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
	}
}

func listPrivateGateways(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "privategateway", r.PrivateGateways(), func(g *cloud.PrivateGateway) bool {
			return keep(g.Owner) && rq.match("id", g.ID) && rq.match("vpcid", g.VPCID) && rq.match("ipaddress", g.IPAddress) &&
				rq.match("vlan", g.VLAN) && strings.EqualFold(orAll(rq.str("state"), g.State), g.State) && rq.keyword(g.IPAddress, g.Gateway)
		}, func(g *cloud.PrivateGateway) privateGatewayView { return privateGatewayOf(r, g) })
	})
}

func privateGatewayOf(r cloud.Reader, g *cloud.PrivateGateway) privateGatewayView {
	v := privateGatewayView{ID: g.ID, Gateway: g.Gateway, IPAddress: g.IPAddress, Netmask: g.Netmask, VLAN: g.VLAN, VPCID: g.VPCID,
		ZoneID: g.ZoneID, AssociatedNetworkID: g.AssociatedNetworkID, ACLID: g.ACLID, SourceNATSupported: g.SourceNAT, State: g.State,
		ownerView: owner(r, g.Owner)}
	if vpc, ok := r.VPC(g.VPCID); ok {
		v.VPCName = vpc.Name
	}
	if z, ok := r.Zone(g.ZoneID); ok {
		v.ZoneName = z.Name
	}
	if n, ok := r.Network(g.AssociatedNetworkID); ok {
		v.AssociatedNetwork = n.Name
	}
	if l, ok := r.NetworkACLList(g.ACLID); ok {
		v.ACLName = l.Name
	}
	if v.VLAN != "" && !strings.Contains(v.VLAN, "://") {
		v.VLAN = "vlan://" + v.VLAN
	}
	return v
}

func listStaticRoutes(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "staticroute", r.StaticRoutes(), func(x *cloud.StaticRoute) bool {
			return keep(x.Owner) && rq.match("id", x.ID) && rq.match("vpcid", x.VPCID) && rq.match("gatewayid", x.GatewayID) &&
				strings.EqualFold(orAll(rq.str("state"), x.State), x.State) && rq.tagsMatch(r, x.ID) && rq.keyword(x.CIDR)
		}, func(x *cloud.StaticRoute) staticRouteView { return staticRouteOf(r, x) })
	})
}

func staticRouteOf(r cloud.Reader, x *cloud.StaticRoute) staticRouteView {
	v := staticRouteView{ID: x.ID, CIDR: x.CIDR, NextHop: x.NextHop, State: x.State, VPCID: x.VPCID, VPCGatewayID: x.GatewayID,
		Tags: tagsOf(r, x.ID), ownerView: owner(r, x.Owner)}
	if g, ok := r.PrivateGateway(x.GatewayID); ok {
		v.VPCGatewayIP = g.IPAddress
	}
	return v
}

// privateGatewayJobResult renders the job results of private gateways and
// static routes (nil for other kinds).
func privateGatewayJobResult(r cloud.Reader, j *cloud.Job) any {
	switch j.ResultKind {
	case cloud.KindPrivateGateway:
		var g cloud.PrivateGateway
		if json.Unmarshal(j.Result, &g) == nil {
			return Object{Key: "privategateway", Obj: privateGatewayOf(r, &g)}
		}
	case cloud.KindStaticRoute:
		var x cloud.StaticRoute
		if json.Unmarshal(j.Result, &x) == nil {
			return Object{Key: "staticroute", Obj: staticRouteOf(r, &x)}
		}
	}
	return nil
}
