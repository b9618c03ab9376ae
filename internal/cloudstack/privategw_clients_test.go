package cloudstack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKPrivateGateways drives a VPC's private gateways and static routes
// with cloudstack-go: a gateway on a VLAN with default_deny, routes
// through it and to a next hop, CloudStack's refusals (a route inside the
// VPC, link local, a gateway off its subnet, a gateway with routes
// deleted), another account's view, and the VPC's deletion taking both.
func TestSDKPrivateGateways(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	off, _, err := cs.VPC.GetVPCOfferingByName("Default VPC offering")
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := cs.VPC.CreateVPC(cs.VPC.NewCreateVPCParams("10.50.0.0/16", "gw", "gw", off.Id, e.advZone))
	if err != nil {
		t.Fatal(err)
	}
	gp := cs.VPC.NewCreatePrivateGatewayParams("172.16.0.1", "172.16.0.10", "255.255.255.0", vpc.Id)
	gp.SetVlan("100")
	gw, err := cs.VPC.CreatePrivateGateway(gp)
	if err != nil || gw.State != "Ready" || gw.Aclname != "default_deny" || gw.Vlan != "vlan://100" || gw.Vpcname != "gw" || gw.Zoneid != e.advZone {
		t.Fatalf("createPrivateGateway: %v %+v", err, gw)
	}
	for _, tc := range []struct{ name, gateway, ip, mask, vlan, want string }{
		{"ip off the subnet", "172.17.0.1", "172.18.0.10", "255.255.255.0", "101", "should belong to the same subnet"},
		{"no vlan nor network", "172.17.0.1", "172.17.0.10", "255.255.255.0", "", "One of vlan and associatednetworkid must be specified"},
		{"a bad netmask", "172.17.0.1", "172.17.0.10", "255.0.255.0", "101", "Invalid netmask"},
		{"the same address", "172.16.0.1", "172.16.0.10", "255.255.255.0", "102", "already used for private gateway"},
		{"inside the VPC", "10.50.9.1", "10.50.9.10", "255.255.255.0", "103", "overlaps the VPC's CIDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := cs.VPC.NewCreatePrivateGatewayParams(tc.gateway, tc.ip, tc.mask, vpc.Id)
			if tc.vlan != "" {
				p.SetVlan(tc.vlan)
			}
			if _, err := cs.VPC.CreatePrivateGateway(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
	if l, err := cs.VPC.ListPrivateGateways(cs.VPC.NewListPrivateGatewaysParams()); err != nil || l.Count != 1 || l.PrivateGateways[0].Id != gw.Id {
		t.Fatalf("listPrivateGateways after refusals: %v %+v", err, l)
	}

	rp := cs.VPC.NewCreateStaticRouteParams("192.168.10.0/24")
	rp.SetGatewayid(gw.Id)
	rt, err := cs.VPC.CreateStaticRoute(rp)
	if err != nil || rt.State != "Active" || rt.Vpcgatewayid != gw.Id || rt.Vpcgatewayip != "172.16.0.10" || rt.Vpcid != vpc.Id {
		t.Fatalf("createStaticRoute: %v %+v", err, rt)
	}
	hop := cs.VPC.NewCreateStaticRouteParams("192.168.20.0/24")
	hop.SetNexthop("10.50.1.254")
	hop.SetVpcid(vpc.Id)
	rt2, err := cs.VPC.CreateStaticRoute(hop)
	if err != nil || rt2.Nexthop != "10.50.1.254" {
		t.Fatalf("a next hop route: %v %+v", err, rt2)
	}
	for _, tc := range []struct{ name, cidr, want string }{
		{"inside the VPC", "10.50.3.0/24", "CIDR should be outside of VPC cidr 10.50.0.0/16"},
		{"link local", "169.254.0.0/24", "blacklisted routes"},
		{"not a cidr", "192.168.30.1/33", "Invalid format for cidr"},
		{"the same route", "192.168.10.0/24", "overlaps with one of the static routes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := cs.VPC.NewCreateStaticRouteParams(tc.cidr)
			p.SetGatewayid(gw.Id)
			if _, err := cs.VPC.CreateStaticRoute(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
	lp := cs.VPC.NewListStaticRoutesParams()
	lp.SetGatewayid(gw.Id)
	if l, err := cs.VPC.ListStaticRoutes(lp); err != nil || l.Count != 1 || l.StaticRoutes[0].Id != rt.Id {
		t.Fatalf("listStaticRoutes gatewayid: %v %+v", err, l)
	}
	if _, err := cs.VPC.DeletePrivateGateway(cs.VPC.NewDeletePrivateGatewayParams(gw.Id)); err == nil || !strings.Contains(err.Error(), "as it has static routes applied") {
		t.Fatalf("delete a gateway with routes: %v", err)
	}

	other, _ := newUserClient(t, srv, cs, "outsider")
	if l, err := other.VPC.ListStaticRoutes(other.VPC.NewListStaticRoutesParams()); err != nil || l.Count != 0 {
		t.Fatalf("another account's routes: %v %+v", err, l)
	}
	if _, err := other.VPC.DeleteStaticRoute(other.VPC.NewDeleteStaticRouteParams(rt.Id)); err == nil {
		t.Fatal("another account deleted the route")
	}

	if _, err := cs.VPC.DeleteStaticRoute(cs.VPC.NewDeleteStaticRouteParams(rt.Id)); err != nil {
		t.Fatalf("deleteStaticRoute: %v", err)
	}
	if _, err := cs.VPC.DeletePrivateGateway(cs.VPC.NewDeletePrivateGatewayParams(gw.Id)); err != nil {
		t.Fatalf("deletePrivateGateway: %v", err)
	}
	// the VPC's deletion takes what is left with it
	if _, err := cs.VPC.CreatePrivateGateway(gp); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.VPC.DeleteVPC(cs.VPC.NewDeleteVPCParams(vpc.Id)); err != nil {
		t.Fatalf("deleteVPC: %v", err)
	}
	if l, err := cs.VPC.ListStaticRoutes(cs.VPC.NewListStaticRoutesParams()); err != nil || l.Count != 0 {
		t.Fatalf("routes after the VPC: %v %+v", err, l)
	}
	if l, err := cs.VPC.ListPrivateGateways(cs.VPC.NewListPrivateGatewaysParams()); err != nil || l.Count != 0 {
		t.Fatalf("gateways after the VPC: %v %+v", err, l)
	}
}

// TestCloudstackCLIPrivateGateway creates a private gateway and a static
// route with the Debian cloudstack CLI (it waits for the async jobs).
func TestCloudstackCLIPrivateGateway(t *testing.T) {
	bin := testenv.LookPath(t, "cloudstack", "apt-get install cs")
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := runClient(t, srv, time.Minute, bin, args...)
		if err != nil {
			t.Fatalf("cloudstack %v: %v\n%s", args, err, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("cloudstack %v: %v\n%s", args, err, out)
		}
		return m
	}
	off := run("listVPCOfferings", "name=Default VPC offering")["vpcoffering"].([]any)[0].(map[string]any)["id"].(string)
	vpc := run("createVPC", "name=cli", "cidr=10.60.0.0/16", "vpcofferingid="+off, "zoneid="+e.advZone)["vpc"].(map[string]any)
	gw := run("createPrivateGateway", "vpcid="+vpc["id"].(string), "ipaddress=172.20.0.5", "gateway=172.20.0.1", "netmask=255.255.255.0",
		"vlan=300")["privategateway"].(map[string]any)
	if gw["state"] != "Ready" || gw["ipaddress"] != "172.20.0.5" || gw["vpcid"] != vpc["id"] {
		t.Fatalf("private gateway: %v", gw)
	}
	rt := run("createStaticRoute", "gatewayid="+gw["id"].(string), "cidr=192.168.50.0/24")["staticroute"].(map[string]any)
	if rt["cidr"] != "192.168.50.0/24" || rt["state"] != "Active" || rt["vpcgatewayip"] != "172.20.0.5" {
		t.Fatalf("static route: %v", rt)
	}
	if l := run("listStaticRoutes", "vpcid="+vpc["id"].(string)); l["count"] != float64(1) {
		t.Fatalf("listStaticRoutes: %v", l)
	}
	out, err := runClient(t, srv, time.Minute, bin, "createStaticRoute", "gatewayid="+gw["id"].(string), "cidr=10.60.1.0/24")
	if err == nil || !strings.Contains(out, "HTTP 431") || !strings.Contains(out, "CIDR should be outside of VPC cidr") {
		t.Fatalf("a route inside the VPC: %v %s", err, out)
	}
}
