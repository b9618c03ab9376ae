package v2161

import (
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestNetworkFamilyV2161 drives the network family's newer commands with
// the older SDK (GET only): a network offering created and enabled, a VPC
// offering, a VPC on it with a private gateway and a static route (whose
// gateway v2.16.1 requires; it reads the gateway back as gatewayid, a
// 4.18 field 4.22 names vpcgatewayid, which stratus answers).
func TestNetworkFamilyV2161(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	cs.HTTPGETOnly = true
	zones, err := cs.Zone.ListZones(cs.Zone.NewListZonesParams())
	if err != nil {
		t.Fatal(err)
	}
	var zone string
	for _, z := range zones.Zones {
		if z.Networktype == "Advanced" {
			zone = z.Id
		}
	}
	np := cs.NetworkOffering.NewCreateNetworkOfferingParams("old sdk", "Isolated", "old", "Guest")
	np.SetSupportedservices([]string{"Dhcp", "Dns", "SourceNat"})
	off, err := cs.NetworkOffering.CreateNetworkOffering(np)
	if err != nil || off.State != "Disabled" {
		t.Fatalf("createNetworkOffering: %v %+v", err, off)
	}
	up := cs.NetworkOffering.NewUpdateNetworkOfferingParams()
	up.SetId(off.Id)
	up.SetState("Enabled")
	if u, err := cs.NetworkOffering.UpdateNetworkOffering(up); err != nil || u.State != "Enabled" {
		t.Fatalf("updateNetworkOffering: %v %+v", err, u)
	}
	vo, err := cs.VPC.CreateVPCOffering(cs.VPC.NewCreateVPCOfferingParams("old vpc", "oldvpc", []string{"Dhcp", "Dns"}))
	if err != nil || vo.State != "Disabled" {
		t.Fatalf("createVPCOffering: %v %+v", err, vo)
	}
	uv := cs.VPC.NewUpdateVPCOfferingParams(vo.Id)
	uv.SetState("Enabled")
	if _, err := cs.VPC.UpdateVPCOffering(uv); err != nil {
		t.Fatalf("updateVPCOffering: %v", err)
	}
	vpc, err := cs.VPC.CreateVPC(cs.VPC.NewCreateVPCParams("10.80.0.0/16", "old", "old", vo.Id, zone))
	if err != nil {
		t.Fatalf("createVPC: %v", err)
	}
	gp := cs.VPC.NewCreatePrivateGatewayParams("172.30.0.1", "172.30.0.2", "255.255.255.0", vpc.Id)
	gp.SetVlan("700")
	gw, err := cs.VPC.CreatePrivateGateway(gp)
	if err != nil || gw.State != "Ready" {
		t.Fatalf("createPrivateGateway: %v %+v", err, gw)
	}
	rt, err := cs.VPC.CreateStaticRoute(cs.VPC.NewCreateStaticRouteParams("192.168.70.0/24", gw.Id))
	if err != nil || rt.State != "Active" || rt.Vpcid != vpc.Id {
		t.Fatalf("createStaticRoute: %v %+v", err, rt)
	}
}
