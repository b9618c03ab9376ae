package cloudstack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestSDKNetworkOfferings drives network offerings with cloudstack-go: a
// new offering is Disabled and createNetwork refuses it until it is
// enabled; one in use cannot be deleted, nor a default one; bad input is
// refused with CloudStack's texts and changes nothing; a user may not
// create one.
func TestSDKNetworkOfferings(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	np := cs.NetworkOffering.NewCreateNetworkOfferingParams("isolated web", "Isolated", "web", "Guest")
	np.SetSupportedservices([]string{"Dhcp", "dns", "SourceNat", "Firewall", "PortForwarding"})
	np.SetNetworkrate(100)
	np.SetTags("fast")
	off, err := cs.NetworkOffering.CreateNetworkOffering(np)
	if err != nil || off.State != "Disabled" || off.Guestiptype != "Isolated" || off.Availability != "Optional" || off.Networkrate != 100 ||
		off.Tags != "fast" || off.Traffictype != "Guest" || !off.Conservemode || !off.Egressdefaultpolicy {
		t.Fatalf("createNetworkOffering: %v %+v", err, off)
	}
	var names []string
	for _, s := range off.Service {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "Dhcp,Dns,SourceNat,Firewall,PortForwarding,Gateway" {
		t.Fatalf("services %v", names)
	}

	netp := cs.Network.NewCreateNetworkParams("web-net", off.Id, e.advZone)
	netp.SetDisplaytext("web-net")
	if _, err := cs.Network.CreateNetwork(netp); err == nil || !strings.Contains(err.Error(), "Can't use specified network offering id as its state is not Enabled") {
		t.Fatalf("a network on a disabled offering: %v", err)
	}
	up := cs.NetworkOffering.NewUpdateNetworkOfferingParams()
	up.SetId(off.Id)
	up.SetState("Broken")
	if _, err := cs.NetworkOffering.UpdateNetworkOffering(up); err == nil || !strings.Contains(err.Error(), "Incorrect state value: Broken") {
		t.Fatalf("state Broken: %v", err)
	}
	up.SetState("Enabled")
	up.SetDisplaytext("the web offering")
	if u, err := cs.NetworkOffering.UpdateNetworkOffering(up); err != nil || u.State != "Enabled" || u.Displaytext != "the web offering" {
		t.Fatalf("enable: %v %+v", err, u)
	}
	net, err := cs.Network.CreateNetwork(netp)
	if err != nil || net.Networkofferingid != off.Id {
		t.Fatalf("a network on the enabled offering: %v %+v", err, net)
	}
	if _, err := cs.NetworkOffering.DeleteNetworkOffering(cs.NetworkOffering.NewDeleteNetworkOfferingParams(off.Id)); err == nil ||
		!strings.Contains(err.Error(), "as its used by 1 networks. To make the network offering unavailable, disable it") {
		t.Fatalf("delete in use: %v", err)
	}
	if _, err := cs.Network.DeleteNetwork(cs.Network.NewDeleteNetworkParams(net.Id)); err != nil {
		t.Fatalf("deleteNetwork: %v", err)
	}
	if _, err := cs.NetworkOffering.DeleteNetworkOffering(cs.NetworkOffering.NewDeleteNetworkOfferingParams(off.Id)); err != nil {
		t.Fatalf("deleteNetworkOffering: %v", err)
	}
	if _, n, err := cs.NetworkOffering.GetNetworkOfferingByID(off.Id); err == nil || n != 0 {
		t.Fatalf("a deleted offering is listed: %v %d", err, n)
	}

	before, err := cs.NetworkOffering.ListNetworkOfferings(cs.NetworkOffering.NewListNetworkOfferingsParams())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                   string
		guest, traffic, errTxt string
		services               []string
	}{
		{"public traffic", "Isolated", "Public", "Only traffic type Guest is supported in the current release", nil},
		{"unknown traffic", "Isolated", "Sideways", "Invalid value for traffictype", nil},
		{"unknown guest type", "Bridged", "Guest", `Invalid "type" parameter is given; can have Shared and Isolated values`, nil},
		{"gateway asked for", "Isolated", "Guest", "Invalid service Gateway", []string{"Gateway"}},
		{"unknown service", "Isolated", "Guest", "Invalid service Teleport", []string{"Dhcp", "Teleport"}},
		{"security groups on isolated", "Isolated", "Guest", "Security group service is supported for network offerings with guest ip type Shared", []string{"SecurityGroup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bp := cs.NetworkOffering.NewCreateNetworkOfferingParams("bad", tc.guest, "bad", tc.traffic)
			if tc.services != nil {
				bp.SetSupportedservices(tc.services)
			}
			if _, err := cs.NetworkOffering.CreateNetworkOffering(bp); err == nil || !strings.Contains(err.Error(), tc.errTxt) {
				t.Fatalf("want %q, got %v", tc.errTxt, err)
			}
		})
	}
	after, err := cs.NetworkOffering.ListNetworkOfferings(cs.NetworkOffering.NewListNetworkOfferingsParams())
	if err != nil || after.Count != before.Count {
		t.Fatalf("refused creates changed the offerings: %v %d → %d", err, before.Count, after.Count)
	}
	for _, o := range after.NetworkOfferings {
		if o.Isdefault {
			if _, err := cs.NetworkOffering.DeleteNetworkOffering(cs.NetworkOffering.NewDeleteNetworkOfferingParams(o.Id)); err == nil ||
				!strings.Contains(err.Error(), "Default network offering can't be deleted") {
				t.Fatalf("delete the default %s: %v", o.Name, err)
			}
			break
		}
	}
	user, _ := newUserClient(t, srv, cs, "netuser")
	if _, err := user.NetworkOffering.CreateNetworkOffering(cs.NetworkOffering.NewCreateNetworkOfferingParams("mine", "Isolated", "mine", "Guest")); err == nil {
		t.Fatal("a user created a network offering")
	}
}

// TestSDKVPCOfferings drives VPC offerings with cloudstack-go: created
// Disabled with SourceNat, NetworkACL and Gateway added; createVPC takes
// it once enabled; in use it cannot be deleted, nor a default one; a
// built-in one can be disabled and enabled again.
func TestSDKVPCOfferings(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	cp := cs.VPC.NewCreateVPCOfferingParams("small vpc", "small")
	cp.SetSupportedservices([]string{"Dhcp", "Dns", "Lb", "UserData"})
	off, err := cs.VPC.CreateVPCOffering(cp)
	if err != nil || off.State != "Disabled" || off.Name != "small" || off.Created == "" {
		t.Fatalf("createVPCOffering: %v %+v", err, off)
	}
	var names []string
	for _, s := range off.Service {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "Dhcp,Dns,Lb,UserData,SourceNat,NetworkACL,Gateway" {
		t.Fatalf("services %v", names)
	}
	vp := cs.VPC.NewCreateVPCParams("10.20.0.0/16", "v1", "v1", off.Id, e.advZone)
	if _, err := cs.VPC.CreateVPC(vp); err == nil || !strings.Contains(err.Error(), "Unable to find vpc offering in Enabled state by specified id") {
		t.Fatalf("a VPC on a disabled offering: %v", err)
	}
	up := cs.VPC.NewUpdateVPCOfferingParams(off.Id)
	up.SetState("Enabled")
	up.SetDisplaytext("a small vpc")
	if u, err := cs.VPC.UpdateVPCOffering(up); err != nil || u.State != "Enabled" || u.Displaytext != "a small vpc" {
		t.Fatalf("enable: %v %+v", err, u)
	}
	vpc, err := cs.VPC.CreateVPC(vp)
	if err != nil || vpc.Vpcofferingid != off.Id || vpc.Vpcofferingname != "small" {
		t.Fatalf("createVPC: %v %+v", err, vpc)
	}
	if _, err := cs.VPC.DeleteVPCOffering(cs.VPC.NewDeleteVPCOfferingParams(off.Id)); err == nil || !strings.Contains(err.Error(), "as its used by 1 vpcs") {
		t.Fatalf("delete in use: %v", err)
	}
	if _, err := cs.VPC.DeleteVPC(cs.VPC.NewDeleteVPCParams(vpc.Id)); err != nil {
		t.Fatalf("deleteVPC: %v", err)
	}
	if _, err := cs.VPC.DeleteVPCOffering(cs.VPC.NewDeleteVPCOfferingParams(off.Id)); err != nil {
		t.Fatalf("deleteVPCOffering: %v", err)
	}
	if _, n, err := cs.VPC.GetVPCOfferingByID(off.Id); err == nil || n != 0 {
		t.Fatalf("a deleted VPC offering is listed: %v %d", err, n)
	}
	bad := cs.VPC.NewCreateVPCOfferingParams("sg", "sg")
	bad.SetSupportedservices([]string{"SecurityGroup"})
	if _, err := cs.VPC.CreateVPCOffering(bad); err == nil || !strings.Contains(err.Error(), "Service SecurityGroup is not supported in VPC") {
		t.Fatalf("security groups in a VPC offering: %v", err)
	}

	def, _, err := cs.VPC.GetVPCOfferingByName("Default VPC offering")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.VPC.DeleteVPCOffering(cs.VPC.NewDeleteVPCOfferingParams(def.Id)); err == nil || !strings.Contains(err.Error(), "Default network offering can't be deleted") {
		t.Fatalf("delete the default: %v", err)
	}
	dis := cs.VPC.NewUpdateVPCOfferingParams(def.Id)
	dis.SetState("Disabled")
	if u, err := cs.VPC.UpdateVPCOffering(dis); err != nil || u.State != "Disabled" {
		t.Fatalf("disable the default: %v %+v", err, u)
	}
	lp := cs.VPC.NewListVPCOfferingsParams()
	lp.SetState("Disabled")
	if l, err := cs.VPC.ListVPCOfferings(lp); err != nil || l.Count != 1 || l.VPCOfferings[0].Id != def.Id {
		t.Fatalf("list disabled: %v %+v", err, l)
	}
	if _, err := cs.VPC.CreateVPC(cs.VPC.NewCreateVPCParams("10.30.0.0/16", "v2", "v2", def.Id, e.advZone)); err == nil {
		t.Fatal("a VPC on the disabled default offering")
	}
	dis.SetState("Enabled")
	if _, err := cs.VPC.UpdateVPCOffering(dis); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.VPC.CreateVPC(cs.VPC.NewCreateVPCParams("10.30.0.0/16", "v2", "v2", def.Id, e.advZone)); err != nil {
		t.Fatalf("a VPC on the default offering enabled again: %v", err)
	}
}

// TestSDKNetworkCatalogues reads listNetworkProtocols with cloudstack-go
// and listSupportedNetworkServices (whose list key cloudstack-go's
// generated type misnames) through its custom request.
func TestSDKNetworkCatalogues(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	icmp, err := cs.Network.ListNetworkProtocols(cs.Network.NewListNetworkProtocolsParams("icmptype"))
	if err != nil || icmp.Count == 0 {
		t.Fatalf("icmptype: %v %+v", err, icmp)
	}
	found := false
	for _, p := range icmp.NetworkProtocols {
		found = found || (p.Index == 3 && p.Details["3"] == "Port unreachable")
	}
	if !found {
		t.Fatalf("no ICMP type 3 code 3 in %+v", icmp.NetworkProtocols)
	}
	nums, err := cs.Network.ListNetworkProtocols(cs.Network.NewListNetworkProtocolsParams("protocolnumber"))
	if err != nil || nums.Count == 0 || nums.NetworkProtocols[0].Index != 0 {
		t.Fatalf("protocolnumber: %v %+v", err, nums)
	}
	if _, err := cs.Network.ListNetworkProtocols(cs.Network.NewListNetworkProtocolsParams("colour")); err == nil || !strings.Contains(err.Error(), "Option colour is not supported") {
		t.Fatalf("option colour: %v", err)
	}

	var svcs struct {
		Count    int `json:"count"`
		Services []struct {
			Name     string `json:"name"`
			Provider []struct {
				Name string `json:"name"`
			} `json:"provider"`
		} `json:"networkservice"`
	}
	p := &cloudstack.CustomServiceParams{}
	p.SetParam("service", "lb")
	if err := custom(cs).CustomRequest("listSupportedNetworkServices", p, &svcs); err != nil || svcs.Count != 1 || svcs.Services[0].Name != "Lb" {
		t.Fatalf("service lb: %v %+v", err, svcs)
	}
	p = &cloudstack.CustomServiceParams{}
	p.SetParam("provider", "SecurityGroupProvider")
	if err := custom(cs).CustomRequest("listSupportedNetworkServices", p, &svcs); err != nil || svcs.Count != 1 || svcs.Services[0].Name != "SecurityGroup" {
		t.Fatalf("provider SecurityGroupProvider: %v %+v", err, svcs)
	}
	if err := custom(cs).CustomRequest("listSupportedNetworkServices", withParam("service", "Teleport"), &svcs); err == nil || !strings.Contains(err.Error(), "Invalid Network Service=Teleport") {
		t.Fatalf("service Teleport: %v", err)
	}
}

// TestAnsibleNetOfferings runs Ansible's cs_network_offering and
// cs_vpc_offering (Debian ansible: ngine_io.cloudstack): create, enable,
// a rerun that changes nothing, a network and a VPC on them, removal.
func TestAnsibleNetOfferings(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_network_offering.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/netofferings.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook netofferings: %v\n%s", err, out)
	}
}
