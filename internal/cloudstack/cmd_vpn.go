package cloudstack

import (
	"encoding/json"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// VPNs: site-to-site (customer gateways, VPN gateways, connections) and
// remote access (VPNs on public addresses, and users). Accepted and
// ignored: projectid (no projects yet), customid, createRemoteAccessVpn's
// openfirewall (no VPN firewall rules are simulated), and the account
// and domainid of resetVpnConnection, updateVpnCustomerGateway and
// createRemoteAccessVpn (the object, or the address, names its owner).

type vpnCustomerGatewayView struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Gateway          string `json:"gateway"`
	IPAddress        string `json:"ipaddress"`
	CIDRList         string `json:"cidrlist"`
	IPsecPSK         string `json:"ipsecpsk"`
	IKEPolicy        string `json:"ikepolicy"`
	ESPPolicy        string `json:"esppolicy"`
	IKELifetime      int64  `json:"ikelifetime"`
	ESPLifetime      int64  `json:"esplifetime"`
	DPD              bool   `json:"dpd"`
	ForceEncap       bool   `json:"forceencap"`
	SplitConnections bool   `json:"splitconnections"`
	IKEVersion       string `json:"ikeversion"`
	ownerView
}

type vpnGatewayView struct {
	ID         string `json:"id"`
	PublicIP   string `json:"publicip"`
	VPCID      string `json:"vpcid"`
	VPCName    string `json:"vpcname"`
	ForDisplay bool   `json:"fordisplay"`
	ownerView
}

type vpnConnectionView struct {
	ID                string `json:"id"`
	GatewayID         string `json:"s2svpngatewayid"`
	PublicIP          string `json:"publicip"`
	CustomerGatewayID string `json:"s2scustomergatewayid"`
	Gateway           string `json:"gateway"`
	CIDRList          string `json:"cidrlist"`
	IPsecPSK          string `json:"ipsecpsk"`
	IKEPolicy         string `json:"ikepolicy"`
	ESPPolicy         string `json:"esppolicy"`
	IKELifetime       int64  `json:"ikelifetime"`
	ESPLifetime       int64  `json:"esplifetime"`
	DPD               bool   `json:"dpd"`
	ForceEncap        bool   `json:"forceencap"`
	SplitConnections  bool   `json:"splitconnections"`
	IKEVersion        string `json:"ikeversion"`
	State             string `json:"state"`
	Passive           bool   `json:"passive"`
	Created           string `json:"created"`
	ForDisplay        bool   `json:"fordisplay"`
	ownerView
}

type remoteAccessVPNView struct {
	ID           string `json:"id"`
	PublicIPID   string `json:"publicipid"`
	PublicIP     string `json:"publicip"`
	IPRange      string `json:"iprange"`
	PresharedKey string `json:"presharedkey"`
	State        string `json:"state"`
	ForDisplay   bool   `json:"fordisplay"`
	ownerView
}

type vpnUserView struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	State    string `json:"state"`
	ownerView
}

var pCustomerGatewayFields = []param{
	p("name:string", "name of this customer gateway"),
	p("gateway*:string", "public ip address id of the customer gateway"),
	p("cidrlist*:string", "guest cidr list of the customer gateway. Multiple entries must be separated by a single comma character (,)."),
	p("ipsecpsk*:string", "IPsec Preshared-Key of the customer gateway. Cannot contain newline or double quotes."),
	p("ikepolicy*:string", "IKE policy of the customer gateway"),
	p("esppolicy*:string", "ESP policy of the customer gateway"),
	p("ikelifetime:long", "Lifetime of phase 1 VPN connection to the customer gateway, in seconds"),
	p("esplifetime:long", "Lifetime of phase 2 VPN connection to the customer gateway, in seconds"),
	p("dpd:boolean", "If DPD is enabled for VPN connection"),
	p("forceencap:boolean", "Force Encapsulation for NAT traversal"),
	p("splitconnections:boolean", "For IKEv2, whether to split multiple right subnet cidrs into multiple connection statements."),
	p("ikeversion:string", "Which IKE Version to use, one of ike (autoselect), ikev1, or ikev2. Connections marked with 'ike' will use 'ikev2' when initiating, but accept any protocol version when responding. Defaults to ike"),
	p("account:string", "the account associated with the gateway. Must be used with the domainId parameter."),
	p("domainid:uuid:Domain", "the domain ID associated with the gateway. If used with the account parameter returns the gateway associated with the account for the specified domain."),
}

var pVPNUserOwner = []param{
	p("account:string", "an optional account for the vpn user. Must be used with domainId."),
	p("domainid:uuid:Domain", "an optional domainId for the vpn user. If the account parameter is used, domainId must also be used."),
}

var pVPNDisplay = p("fordisplay:boolean", "an optional field, whether to the display the vpn to the end user or not")

func vpnCommands() []*command {
	return []*command{
		{Name: "createVpnCustomerGateway", Async: true, Desc: "Creates site to site vpn customer gateway", Resp: "vpncustomergateway", RespOf: vpnCustomerGatewayView{},
			Params: append([]param{p("projectid:uuid", "create site-to-site VPN customer gateway for the project")}, pCustomerGatewayFields...),
			Run: func(rq *request) (any, error) {
				g, job, err := rq.h.sim.CreateVPNCustomerGateway(rq.ctx, rq.c, rq.customerGatewaySpec())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: g.ID, JobID: job.ID}, nil
			}},
		{Name: "listVpnCustomerGateways", Desc: "Lists site to site vpn customer gateways", Resp: "vpncustomergateway", RespOf: vpnCustomerGatewayView{},
			Params: ownedListParams(p("id:uuid:"+string(cloud.KindVPNCustomerGateway), "id of the customer gateway"),
				p("projectid:uuid", "list objects by project; if projectid=-1 lists All VMs")),
			Run: listVPNCustomerGateways},
		{Name: "updateVpnCustomerGateway", Async: true, Desc: "Update site to site vpn customer gateway", Resp: "vpncustomergateway", RespOf: vpnCustomerGatewayView{},
			Params: append([]param{p("id*:uuid:"+string(cloud.KindVPNCustomerGateway), "id of customer gateway")}, pCustomerGatewayFields...),
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateVPNCustomerGateway(rq.ctx, rq.c, rq.str("id"), rq.customerGatewaySpec()))
			}},
		{Name: "deleteVpnCustomerGateway", Async: true, Desc: "Delete site to site vpn customer gateway", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:"+string(cloud.KindVPNCustomerGateway), "id of customer gateway")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteVPNCustomerGateway(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "createVpnGateway", Async: true, Desc: "Creates site to site vpn local gateway", Resp: "vpngateway", RespOf: vpnGatewayView{},
			Params: []param{p("vpcid*:uuid:Vpc", "id of the vpc"), pVPNDisplay,
				p("ipaddressid:uuid:PublicIpAddress", "the public IP address ID for which VPN gateway is being enabled. By default the source NAT IP or router IP will be used.")},
			Run: func(rq *request) (any, error) {
				g, job, err := rq.h.sim.CreateVPNGateway(rq.ctx, rq.c, rq.str("vpcid"), rq.str("ipaddressid"), rq.optBool("fordisplay"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: g.ID, JobID: job.ID}, nil
			}},
		{Name: "listVpnGateways", Desc: "Lists site 2 site vpn gateways", Resp: "vpngateway", RespOf: vpnGatewayView{},
			Params: ownedListParams(p("id:uuid:"+string(cloud.KindVPNGateway), "id of the vpn gateway"), p("vpcid:uuid:Vpc", "id of vpc"), pListDisplay,
				p("projectid:uuid", "list objects by project; if projectid=-1 lists All VMs")),
			Run: listVPNGateways},
		{Name: "deleteVpnGateway", Async: true, Desc: "Delete site to site vpn gateway", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:"+string(cloud.KindVPNGateway), "id of customer gateway")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteVPNGateway(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "createVpnConnection", Async: true, Desc: "Create site to site vpn connection", Resp: "vpnconnection", RespOf: vpnConnectionView{},
			Params: []param{p("s2scustomergatewayid*:uuid:"+string(cloud.KindVPNCustomerGateway), "id of the customer gateway"),
				p("s2svpngatewayid*:uuid:"+string(cloud.KindVPNGateway), "id of the vpn gateway"),
				p("passive:boolean", "connection is passive or not"), pVPNDisplay},
			Run: func(rq *request) (any, error) {
				conn, job, err := rq.h.sim.CreateVPNConnection(rq.ctx, rq.c, rq.str("s2scustomergatewayid"), rq.str("s2svpngatewayid"),
					rq.boolean("passive", false), rq.optBool("fordisplay"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: conn.ID, JobID: job.ID}, nil
			}},
		{Name: "listVpnConnections", Desc: "Lists site to site vpn connection gateways", Resp: "vpnconnection", RespOf: vpnConnectionView{},
			Params: ownedListParams(p("id:uuid:"+string(cloud.KindVPNConnection), "id of the vpn connection"), p("vpcid:uuid:Vpc", "id of vpc"), pListDisplay,
				p("projectid:uuid", "list objects by project; if projectid=-1 lists All VMs")),
			Run: listVPNConnections},
		{Name: "resetVpnConnection", Async: true, Desc: "Reset site to site vpn connection", Resp: "vpnconnection", RespOf: vpnConnectionView{},
			Params: []param{p("id*:uuid:"+string(cloud.KindVPNConnection), "id of vpn connection"),
				p("account:string", "an optional account for connection. Must be used with domainId."),
				p("domainid:uuid:Domain", "an optional domainId for connection. If the account parameter is used, domainId must also be used.")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.ResetVPNConnection(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "updateVpnConnection", Async: true, Desc: "Updates site to site vpn connection", Resp: "vpnconnection", RespOf: vpnConnectionView{},
			Params: []param{p("id*:uuid:"+string(cloud.KindVPNConnection), "id of vpn connection"), pVPNDisplay,
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateVPNConnection(rq.ctx, rq.c, rq.str("id"), rq.optBool("fordisplay"), rq.className()))
			}},
		{Name: "deleteVpnConnection", Async: true, Desc: "Delete site to site vpn connection", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:"+string(cloud.KindVPNConnection), "id of vpn connection")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteVPNConnection(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "createRemoteAccessVpn", Async: true, Desc: "Creates a l2tp/ipsec remote access vpn", Resp: "remoteaccessvpn", RespOf: remoteAccessVPNView{},
			Params: []param{p("publicipid*:uuid:PublicIpAddress", "public ip address id of the vpn server"),
				p("iprange:string", "the range of ip addresses to allocate to vpn clients. The first ip in the range will be taken by the vpn server"),
				p("account:string", "an optional account for the VPN. Must be used with domainId."),
				p("domainid:uuid:Domain", "an optional domainId for the VPN. If the account parameter is used, domainId must also be used."),
				p("openfirewall:boolean", "if true, firewall rule for source/end public port is automatically created; if false - firewall rule has to be created explicitly. Has value true by default"),
				pVPNDisplay},
			Run: func(rq *request) (any, error) {
				v, job, err := rq.h.sim.CreateRemoteAccessVPN(rq.ctx, rq.c, rq.str("publicipid"), rq.str("iprange"), rq.optBool("fordisplay"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: v.ID, JobID: job.ID}, nil
			}},
		{Name: "listRemoteAccessVpns", Desc: "Lists remote access vpns", Resp: "remoteaccessvpn", RespOf: remoteAccessVPNView{},
			Params: ownedListParams(p("id:uuid:"+string(cloud.KindRemoteAccessVPN), "Lists remote access vpn rule with the specified ID"),
				p("publicipid:uuid:PublicIpAddress", "public ip address id of the vpn server"),
				p("networkid:uuid:Network", "list remote access VPNs for certain network"), pListDisplay,
				p("projectid:uuid", "list objects by project; if projectid=-1 lists All VMs")),
			Run: listRemoteAccessVPNs},
		{Name: "updateRemoteAccessVpn", Async: true, Desc: "Updates remote access vpn", Resp: "remoteaccessvpn", RespOf: remoteAccessVPNView{},
			Params: []param{p("id*:uuid:"+string(cloud.KindRemoteAccessVPN), "id of the remote access vpn"), pVPNDisplay,
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateRemoteAccessVPN(rq.ctx, rq.c, rq.str("id"), rq.optBool("fordisplay"), rq.className()))
			}},
		{Name: "deleteRemoteAccessVpn", Async: true, Desc: "Destroys a l2tp/ipsec remote access vpn", Resp: "success", RespOf: Success{},
			Params: []param{p("publicipid*:uuid:PublicIpAddress", "public ip address id of the vpn server")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteRemoteAccessVPN(rq.ctx, rq.c, rq.str("publicipid"), rq.className()))
			}},
		{Name: "addVpnUser", Async: true, Desc: "Adds vpn users", Resp: "vpnuser", RespOf: vpnUserView{},
			Params: append([]param{p("username*:string", "username for the vpn user"), p("password*:string", "password for the username"),
				p("projectid:uuid", "add vpn user to the specific project")}, pVPNUserOwner...),
			Run: func(rq *request) (any, error) {
				u, job, err := rq.h.sim.AddVPNUser(rq.ctx, rq.c, rq.str("username"), rq.str("password"), rq.str("account"), rq.str("domainid"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: u.ID, JobID: job.ID}, nil
			}},
		{Name: "listVpnUsers", Desc: "Lists vpn users", Resp: "vpnuser", RespOf: vpnUserView{},
			Params: ownedListParams(p("id:uuid:"+string(cloud.KindVPNUser), "The uuid of the Vpn user"), p("username:string", "the username of the vpn user."),
				p("projectid:uuid", "list objects by project; if projectid=-1 lists All VMs")),
			Run: listVPNUsers},
		{Name: "removeVpnUser", Async: true, Desc: "Removes vpn user", Resp: "success", RespOf: Success{},
			Params: append([]param{p("username*:string", "username for the vpn user"), p("projectid:uuid", "remove vpn user from the project")}, pVPNUserOwner...),
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RemoveVPNUser(rq.ctx, rq.c, rq.str("username"), rq.str("account"), rq.str("domainid"), rq.className()))
			}},
	}
}

// customerGatewaySpec reads the fields createVpnCustomerGateway and
// updateVpnCustomerGateway share.
func (rq *request) customerGatewaySpec() cloud.CustomerGatewaySpec {
	long := func(name string) *int64 {
		if _, ok := rq.p[name]; !ok {
			return nil
		}
		n := rq.integer(name, 0)
		return &n
	}
	return cloud.CustomerGatewaySpec{Name: rq.str("name"), Gateway: rq.str("gateway"), CIDRList: rq.str("cidrlist"), IPsecPSK: rq.str("ipsecpsk"),
		IKEPolicy: rq.str("ikepolicy"), ESPPolicy: rq.str("esppolicy"), IKEVersion: rq.str("ikeversion"),
		IKELifetime: long("ikelifetime"), ESPLifetime: long("esplifetime"),
		DPD: rq.optBool("dpd"), ForceEncap: rq.optBool("forceencap"), SplitConnections: rq.optBool("splitconnections"),
		Account: rq.str("account"), DomainID: rq.str("domainid"), Cmd: rq.className()}
}

// displayMatch reports whether a fordisplay filter keeps an object.
func (rq *request) displayMatch(display bool) bool {
	v, ok := rq.p["fordisplay"]
	return !ok || v == "" || parseBool(v) == display
}

func listVPNCustomerGateways(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "vpncustomergateway", r.VPNCustomerGateways(), func(g *cloud.VPNCustomerGateway) bool {
			return keep(g.Owner) && rq.match("id", g.ID) && rq.keyword(g.Name)
		}, func(g *cloud.VPNCustomerGateway) vpnCustomerGatewayView { return vpnCustomerGatewayOf(r, g) })
	})
}

func vpnCustomerGatewayOf(r cloud.Reader, g *cloud.VPNCustomerGateway) vpnCustomerGatewayView {
	return vpnCustomerGatewayView{ID: g.ID, Name: g.Name, Gateway: g.Gateway, IPAddress: g.Gateway, CIDRList: g.CIDRList, IPsecPSK: g.IPsecPSK,
		IKEPolicy: g.IKEPolicy, ESPPolicy: g.ESPPolicy, IKELifetime: g.IKELifetime, ESPLifetime: g.ESPLifetime, DPD: g.DPD,
		ForceEncap: g.ForceEncap, SplitConnections: g.SplitConnections, IKEVersion: g.IKEVersion, ownerView: owner(r, g.Owner)}
}

func listVPNGateways(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "vpngateway", r.VPNGateways(), func(g *cloud.VPNGateway) bool {
			return keep(g.Owner) && rq.match("id", g.ID) && rq.match("vpcid", g.VPCID) && rq.displayMatch(g.Display)
		}, func(g *cloud.VPNGateway) vpnGatewayView { return vpnGatewayOf(r, g) })
	})
}

func vpnGatewayOf(r cloud.Reader, g *cloud.VPNGateway) vpnGatewayView {
	v := vpnGatewayView{ID: g.ID, VPCID: g.VPCID, ForDisplay: g.Display, ownerView: owner(r, g.Owner)}
	if ip, ok := r.PublicIP(g.PublicIPID); ok {
		v.PublicIP = ip.Address
	}
	if vpc, ok := r.VPC(g.VPCID); ok {
		v.VPCName = vpc.Name
	}
	return v
}

func listVPNConnections(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		vpc := rq.str("vpcid")
		return listView(rq, "vpnconnection", r.VPNConnections(), func(c *cloud.VPNConnection) bool {
			if vpc != "" {
				if g, ok := r.VPNGateway(c.GatewayID); !ok || g.VPCID != vpc {
					return false
				}
			}
			return keep(c.Owner) && rq.match("id", c.ID) && rq.displayMatch(c.Display)
		}, func(c *cloud.VPNConnection) vpnConnectionView { return vpnConnectionOf(r, c) })
	})
}

func vpnConnectionOf(r cloud.Reader, c *cloud.VPNConnection) vpnConnectionView {
	v := vpnConnectionView{ID: c.ID, GatewayID: c.GatewayID, CustomerGatewayID: c.CustomerGatewayID, State: c.State, Passive: c.Passive,
		Created: date(c.Created), ForDisplay: c.Display, ownerView: owner(r, c.Owner)}
	if g, ok := r.VPNGateway(c.GatewayID); ok {
		if ip, ok := r.PublicIP(g.PublicIPID); ok {
			v.PublicIP = ip.Address
		}
	}
	if g, ok := r.VPNCustomerGateway(c.CustomerGatewayID); ok {
		v.Gateway, v.CIDRList, v.IPsecPSK, v.IKEPolicy, v.ESPPolicy = g.Gateway, g.CIDRList, g.IPsecPSK, g.IKEPolicy, g.ESPPolicy
		v.IKELifetime, v.ESPLifetime, v.DPD, v.ForceEncap = g.IKELifetime, g.ESPLifetime, g.DPD, g.ForceEncap
		v.SplitConnections, v.IKEVersion = g.SplitConnections, g.IKEVersion
	}
	return v
}

func listRemoteAccessVPNs(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "remoteaccessvpn", r.RemoteAccessVPNs(), func(v *cloud.RemoteAccessVPN) bool {
			return keep(v.Owner) && rq.match("id", v.ID) && rq.match("publicipid", v.PublicIPID) && rq.match("networkid", v.NetworkID) &&
				rq.displayMatch(v.Display)
		}, func(v *cloud.RemoteAccessVPN) remoteAccessVPNView { return remoteAccessVPNOf(r, v) })
	})
}

func remoteAccessVPNOf(r cloud.Reader, v *cloud.RemoteAccessVPN) remoteAccessVPNView {
	out := remoteAccessVPNView{ID: v.ID, PublicIPID: v.PublicIPID, IPRange: v.IPRange, PresharedKey: v.PresharedKey, State: v.State,
		ForDisplay: v.Display, ownerView: owner(r, v.Owner)}
	if ip, ok := r.PublicIP(v.PublicIPID); ok {
		out.PublicIP = ip.Address
	}
	return out
}

func listVPNUsers(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "vpnuser", r.VPNUsers(), func(u *cloud.VPNUser) bool {
			return keep(u.Owner) && rq.match("id", u.ID) && rq.match("username", u.Username) && rq.keyword(u.Username)
		}, func(u *cloud.VPNUser) vpnUserView {
			return vpnUserView{ID: u.ID, Username: u.Username, State: u.State, ownerView: owner(r, u.Owner)}
		})
	})
}

// vpnJobResult renders the job results of the VPN family (nil for other
// kinds).
func vpnJobResult(r cloud.Reader, j *cloud.Job) any {
	switch j.ResultKind {
	case cloud.KindVPNCustomerGateway:
		var g cloud.VPNCustomerGateway
		if json.Unmarshal(j.Result, &g) == nil {
			return Object{Key: "vpncustomergateway", Obj: vpnCustomerGatewayOf(r, &g)}
		}
	case cloud.KindVPNGateway:
		var g cloud.VPNGateway
		if json.Unmarshal(j.Result, &g) == nil {
			return Object{Key: "vpngateway", Obj: vpnGatewayOf(r, &g)}
		}
	case cloud.KindVPNConnection:
		var c cloud.VPNConnection
		if json.Unmarshal(j.Result, &c) == nil {
			return Object{Key: "vpnconnection", Obj: vpnConnectionOf(r, &c)}
		}
	case cloud.KindRemoteAccessVPN:
		var v cloud.RemoteAccessVPN
		if json.Unmarshal(j.Result, &v) == nil {
			return Object{Key: "remoteaccessvpn", Obj: remoteAccessVPNOf(r, &v)}
		}
	case cloud.KindVPNUser:
		var u cloud.VPNUser
		if json.Unmarshal(j.Result, &u) == nil {
			return Object{Key: "vpnuser", Obj: vpnUserView{ID: u.ID, Username: u.Username, State: u.State, ownerView: owner(r, u.Owner)}}
		}
	}
	return nil
}
