package cloudstack_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// vpcWorld is a user's VPC with one tier and an ACL list of its own.
type vpcWorld struct {
	vpc, tier, acl, rule string
}

// buildVPC makes, with cs, a VPC 10.20.0.0/16 with a tier 10.20.1.0/24,
// an ACL list with one rule, and the tier on that list.
func buildVPC(t *testing.T, cs *cloudstack.CloudStackClient, zone string) vpcWorld {
	t.Helper()
	off, n, err := cs.VPC.GetVPCOfferingID("Default VPC offering")
	if err != nil || n != 1 {
		t.Fatalf("GetVPCOfferingID: %v (%d)", err, n)
	}
	vp := cs.VPC.NewCreateVPCParams("10.20.0.0/16", "web vpc", "web", off, zone)
	vpc, err := cs.VPC.CreateVPC(vp)
	if err != nil {
		t.Fatalf("createVPC: %v", err)
	}
	if vpc.Cidr != "10.20.0.0/16" || vpc.State != "Enabled" || vpc.Vpcofferingname != "Default VPC offering" || vpc.Zoneid != zone {
		t.Fatalf("vpc: %+v", vpc)
	}
	lp := cs.NetworkACL.NewCreateNetworkACLListParams("web-acl", vpc.Id)
	lp.SetDescription("web tier")
	acl, err := cs.NetworkACL.CreateNetworkACLList(lp)
	if err != nil || acl.Vpcid != vpc.Id || acl.Name != "web-acl" {
		t.Fatalf("createNetworkACLList: %v %+v", err, acl)
	}
	rp := cs.NetworkACL.NewCreateNetworkACLParams("tcp")
	rp.SetAclid(acl.Id)
	rp.SetStartport(80)
	rp.SetEndport(80)
	rp.SetCidrlist([]string{"0.0.0.0/0"})
	rule, err := cs.NetworkACL.CreateNetworkACL(rp)
	if err != nil || rule.Number != 1 || rule.Startport != "80" || rule.Action != "Allow" || rule.Traffictype != "Ingress" || rule.Aclid != acl.Id {
		t.Fatalf("createNetworkACL: %v %+v", err, rule)
	}
	noff, n, err := cs.NetworkOffering.GetNetworkOfferingID("DefaultIsolatedNetworkOfferingForVpcNetworks")
	if err != nil || n != 1 {
		t.Fatalf("GetNetworkOfferingID: %v (%d)", err, n)
	}
	np := cs.Network.NewCreateNetworkParams("web-tier", noff, zone)
	np.SetVpcid(vpc.Id)
	np.SetAclid(acl.Id)
	np.SetGateway("10.20.1.1")
	np.SetNetmask("255.255.255.0")
	tier, err := cs.Network.CreateNetwork(np)
	if err != nil || tier.Vpcid != vpc.Id || tier.Aclid != acl.Id || tier.Cidr != "10.20.1.0/24" {
		t.Fatalf("createNetwork in vpc: %v %+v", err, tier)
	}
	return vpcWorld{vpc: vpc.Id, tier: tier.Id, acl: acl.Id, rule: rule.Id}
}

// TestSDKVPC drives VPCs with cloudstack-go: offerings, a VPC with its
// source NAT address, a tier with an ACL list and rule, a VM in the tier
// with an address from its CIDR, updates, the built-in lists, refused
// bad input that changes nothing, and the tear-down in order.
func TestSDKVPC(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs

	offs, err := cs.VPC.ListVPCOfferings(cs.VPC.NewListVPCOfferingsParams())
	if err != nil || offs.Count < 3 {
		t.Fatalf("listVPCOfferings: %v %+v", err, offs)
	}
	dp := cs.VPC.NewListVPCOfferingsParams()
	dp.SetIsdefault(true)
	defs, err := cs.VPC.ListVPCOfferings(dp)
	if err != nil || defs.Count != 2 || defs.VPCOfferings[0].Name != "Default VPC offering" || len(defs.VPCOfferings[0].Service) == 0 {
		t.Fatalf("default VPC offerings: %v %+v", err, defs)
	}

	w := buildVPC(t, cs, e.advZone)

	ipp := cs.Address.NewListPublicIpAddressesParams()
	ipp.SetVpcid(w.vpc)
	ips, err := cs.Address.ListPublicIpAddresses(ipp)
	if err != nil || ips.Count != 1 || !ips.PublicIpAddresses[0].Issourcenat || ips.PublicIpAddresses[0].Vpcid != w.vpc {
		t.Fatalf("VPC source NAT address: %v %+v", err, ips)
	}
	ap := cs.Address.NewAssociateIpAddressParams()
	ap.SetVpcid(w.vpc)
	extra, err := cs.Address.AssociateIpAddress(ap)
	if err != nil || extra.Vpcid != w.vpc || extra.Issourcenat {
		t.Fatalf("associateIpAddress vpcid: %v %+v", err, extra)
	}

	vmp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	vmp.SetNetworkids([]string{w.tier})
	vm, err := cs.VirtualMachine.DeployVirtualMachine(vmp)
	if err != nil {
		t.Fatalf("deploy into tier: %v", err)
	}
	addr, err := netip.ParseAddr(vm.Nic[0].Ipaddress)
	if err != nil || !netip.MustParsePrefix("10.20.1.0/24").Contains(addr) || vm.Nic[0].Networkid != w.tier || vm.Nic[0].Gateway != "10.20.1.1" {
		t.Fatalf("VM NIC in tier: %v %+v", err, vm.Nic)
	}

	lvp := cs.VPC.NewListVPCsParams()
	lvp.SetId(w.vpc)
	vpcs, err := cs.VPC.ListVPCs(lvp)
	if err != nil || vpcs.Count != 1 || len(vpcs.VPCs[0].Network) != 1 || vpcs.VPCs[0].Network[0].Id != w.tier {
		t.Fatalf("listVPCs: %v %+v", err, vpcs)
	}
	np := cs.Network.NewListNetworksParams()
	np.SetVpcid(w.vpc)
	nets, err := cs.Network.ListNetworks(np)
	if err != nil || nets.Count != 1 || nets.Networks[0].Aclname != "web-acl" {
		t.Fatalf("listNetworks vpcid: %v %+v", err, nets)
	}

	up := cs.VPC.NewUpdateVPCParams(w.vpc)
	up.SetDisplaytext("the web vpc")
	if u, err := cs.VPC.UpdateVPC(up); err != nil || u.Displaytext != "the web vpc" {
		t.Fatalf("updateVPC: %v %+v", err, u)
	}
	if _, err := cs.VPC.RestartVPC(cs.VPC.NewRestartVPCParams(w.vpc)); err != nil {
		t.Fatalf("restartVPC: %v", err)
	}
	ui := cs.NetworkACL.NewUpdateNetworkACLItemParams(w.rule)
	ui.SetAction("deny")
	ui.SetStartport(8080)
	ui.SetEndport(8081)
	if r, err := cs.NetworkACL.UpdateNetworkACLItem(ui); err != nil || r.Action != "Deny" || r.Startport != "8080" || r.Endport != "8081" || r.Protocol != "tcp" {
		t.Fatalf("updateNetworkACLItem: %v %+v", err, r)
	}
	ul := cs.NetworkACL.NewUpdateNetworkACLListParams(w.acl)
	ul.SetDescription("web tier, updated")
	if _, err := cs.NetworkACL.UpdateNetworkACLList(ul); err != nil {
		t.Fatalf("updateNetworkACLList: %v", err)
	}

	// The built-in lists, seen from the VPC, with their rules.
	llp := cs.NetworkACL.NewListNetworkACLListsParams()
	llp.SetVpcid(w.vpc)
	lists, err := cs.NetworkACL.ListNetworkACLLists(llp)
	if err != nil || lists.Count != 3 {
		t.Fatalf("listNetworkACLLists vpcid: %v %+v", err, lists)
	}
	var allow string
	for _, l := range lists.NetworkACLLists {
		if l.Name == "default_allow" {
			allow = l.Id
		}
	}
	rlp := cs.NetworkACL.NewListNetworkACLsParams()
	rlp.SetAclid(allow)
	rules, err := cs.NetworkACL.ListNetworkACLs(rlp)
	if err != nil || rules.Count != 2 || rules.NetworkACLs[0].Action != "Allow" || rules.NetworkACLs[0].Protocol != "all" {
		t.Fatalf("default_allow rules: %v %+v", err, rules)
	}

	// Bad input is refused with CloudStack's texts and changes nothing.
	bad := func(what string, err error, code, text string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "API error "+code) || !strings.Contains(err.Error(), text) {
			t.Fatalf("%s: want %s %q, got %v", what, code, text, err)
		}
	}
	noff, _, _ := cs.NetworkOffering.GetNetworkOfferingID("DefaultIsolatedNetworkOfferingForVpcNetworks")
	outside := cs.Network.NewCreateNetworkParams("outside", noff, e.advZone)
	outside.SetVpcid(w.vpc)
	outside.SetGateway("10.30.1.1")
	outside.SetNetmask("255.255.255.0")
	_, err = cs.Network.CreateNetwork(outside)
	bad("tier outside the VPC", err, "431", "is not within vpc")
	overlap := cs.Network.NewCreateNetworkParams("overlap", noff, e.advZone)
	overlap.SetVpcid(w.vpc)
	overlap.SetGateway("10.20.1.129")
	overlap.SetNetmask("255.255.255.128")
	_, err = cs.Network.CreateNetwork(overlap)
	bad("overlapping tier", err, "431", "crosses other network cidr")
	dup := cs.NetworkACL.NewCreateNetworkACLParams("udp")
	dup.SetAclid(w.acl)
	dup.SetNumber(1)
	_, err = cs.NetworkACL.CreateNetworkACL(dup)
	bad("duplicate rule number", err, "431", "ACL item with number 1 already exists")
	proto := cs.NetworkACL.NewCreateNetworkACLParams("gre")
	proto.SetAclid(w.acl)
	_, err = cs.NetworkACL.CreateNetworkACL(proto)
	bad("bad protocol", err, "431", "Invalid protocol [gre]")
	onDefault := cs.NetworkACL.NewCreateNetworkACLParams("tcp")
	onDefault.SetAclid(allow)
	_, err = cs.NetworkACL.CreateNetworkACL(onDefault)
	bad("rule on default_allow", err, "431", "Default ACL cannot be modified")
	_, err = cs.NetworkACL.DeleteNetworkACLList(cs.NetworkACL.NewDeleteNetworkACLListParams(allow))
	bad("delete default_allow", err, "431", "Default ACL cannot be removed")
	_, err = cs.NetworkACL.DeleteNetworkACLList(cs.NetworkACL.NewDeleteNetworkACLListParams(w.acl))
	bad("delete a list in use", err, "530", "ACL is still associated with 1 tier(s)")
	_, err = cs.VPC.DeleteVPC(cs.VPC.NewDeleteVPCParams(w.vpc))
	bad("delete a VPC with tiers", err, "431", "as it is used by 1 networks")
	badCIDR := cs.VPC.NewCreateVPCParams("10.0.0.1/33", "x", "x", defs.VPCOfferings[0].Id, e.advZone)
	_, err = cs.VPC.CreateVPC(badCIDR)
	bad("bad VPC cidr", err, "431", "Invalid CIDR specified")
	all, err := cs.VPC.ListVPCs(cs.VPC.NewListVPCsParams())
	if err != nil || all.Count != 1 {
		t.Fatalf("after refused input: %v %+v", err, all)
	}
	rules, err = cs.NetworkACL.ListNetworkACLs(cs.NetworkACL.NewListNetworkACLsParams())
	if err != nil || rules.Count != 1 {
		t.Fatalf("rules after refused input: %v %+v", err, rules)
	}

	// Moving the tier to default_allow frees the list; tear down in order.
	rp := cs.NetworkACL.NewReplaceNetworkACLListParams(allow)
	rp.SetNetworkid(w.tier)
	if _, err := cs.NetworkACL.ReplaceNetworkACLList(rp); err != nil {
		t.Fatalf("replaceNetworkACLList: %v", err)
	}
	if _, err := cs.NetworkACL.DeleteNetworkACL(cs.NetworkACL.NewDeleteNetworkACLParams(w.rule)); err != nil {
		t.Fatalf("deleteNetworkACL: %v", err)
	}
	if _, err := cs.NetworkACL.DeleteNetworkACLList(cs.NetworkACL.NewDeleteNetworkACLListParams(w.acl)); err != nil {
		t.Fatalf("deleteNetworkACLList: %v", err)
	}
	if _, err := cs.VirtualMachine.DestroyVirtualMachine(withExpunge(cs.VirtualMachine.NewDestroyVirtualMachineParams(vm.Id))); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, err := cs.Network.DeleteNetwork(cs.Network.NewDeleteNetworkParams(w.tier)); err != nil {
		t.Fatalf("deleteNetwork tier: %v", err)
	}
	if _, err := cs.VPC.DeleteVPC(cs.VPC.NewDeleteVPCParams(w.vpc)); err != nil {
		t.Fatalf("deleteVPC: %v", err)
	}
	ips, err = cs.Address.ListPublicIpAddresses(cs.Address.NewListPublicIpAddressesParams())
	if err != nil {
		t.Fatalf("listPublicIpAddresses: %v", err)
	}
	for _, ip := range ips.PublicIpAddresses {
		if ip.Vpcid != "" {
			t.Fatalf("the VPC's address outlives it: %+v", ip)
		}
	}
}

func withExpunge(p *cloudstack.DestroyVirtualMachineParams) *cloudstack.DestroyVirtualMachineParams {
	p.SetExpunge(true)
	return p
}

// TestSDKVPCIsolation checks that a user sees and touches none of another
// account's VPCs, tiers, lists and rules, and that the built-in lists are
// everyone's.
func TestSDKVPCIsolation(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	alice, aliceID := newUserClient(t, srv, e.cs, "alice")
	bob, _ := newUserClient(t, srv, e.cs, "bob")
	w := buildVPC(t, alice, e.advZone)

	if l, err := bob.VPC.ListVPCs(bob.VPC.NewListVPCsParams()); err != nil || l.Count != 0 {
		t.Fatalf("bob lists alice's VPCs: %v %+v", err, l)
	}
	lp := bob.VPC.NewListVPCsParams()
	lp.SetId(w.vpc)
	if l, err := bob.VPC.ListVPCs(lp); err != nil || l.Count != 0 {
		t.Fatalf("bob lists alice's VPC by id: %v %+v", err, l)
	}
	lists, err := bob.NetworkACL.ListNetworkACLLists(bob.NetworkACL.NewListNetworkACLListsParams())
	if err != nil || lists.Count != 2 {
		t.Fatalf("bob's ACL lists (the two built-in ones): %v %+v", err, lists)
	}
	if r, err := bob.NetworkACL.ListNetworkACLs(bob.NetworkACL.NewListNetworkACLsParams()); err != nil || r.Count != 0 {
		t.Fatalf("bob lists alice's rules: %v %+v", err, r)
	}
	rp := bob.NetworkACL.NewListNetworkACLsParams()
	rp.SetAclid(w.acl)
	if r, err := bob.NetworkACL.ListNetworkACLs(rp); err != nil || r.Count != 0 {
		t.Fatalf("bob lists alice's list's rules: %v %+v", err, r)
	}
	llp := bob.NetworkACL.NewListNetworkACLListsParams()
	llp.SetVpcid(w.vpc)
	if _, err := bob.NetworkACL.ListNetworkACLLists(llp); err == nil {
		t.Fatal("bob lists the ACL lists of alice's VPC")
	}
	np := bob.Network.NewListNetworksParams()
	np.SetVpcid(w.vpc)
	if l, err := bob.Network.ListNetworks(np); err != nil || l.Count != 0 {
		t.Fatalf("bob lists alice's tiers: %v %+v", err, l)
	}
	if _, err := bob.VPC.DeleteVPC(bob.VPC.NewDeleteVPCParams(w.vpc)); err == nil {
		t.Fatal("bob deletes alice's VPC")
	}
	if _, err := bob.NetworkACL.DeleteNetworkACL(bob.NetworkACL.NewDeleteNetworkACLParams(w.rule)); err == nil {
		t.Fatal("bob deletes alice's rule")
	}
	if _, err := bob.NetworkACL.DeleteNetworkACLList(bob.NetworkACL.NewDeleteNetworkACLListParams(w.acl)); err == nil {
		t.Fatal("bob deletes alice's list")
	}
	up := bob.VPC.NewUpdateVPCParams(w.vpc)
	up.SetDisplaytext("mine")
	if _, err := bob.VPC.UpdateVPC(up); err == nil {
		t.Fatal("bob updates alice's VPC")
	}
	cl := bob.NetworkACL.NewCreateNetworkACLListParams("sneaky", w.vpc)
	if _, err := bob.NetworkACL.CreateNetworkACLList(cl); err == nil {
		t.Fatal("bob makes a list in alice's VPC")
	}
	noff, _, _ := bob.NetworkOffering.GetNetworkOfferingID("DefaultIsolatedNetworkOfferingForVpcNetworks")
	tp := bob.Network.NewCreateNetworkParams("sneaky", noff, e.advZone)
	tp.SetVpcid(w.vpc)
	tp.SetGateway("10.20.9.1")
	tp.SetNetmask("255.255.255.0")
	if _, err := bob.Network.CreateNetwork(tp); err == nil {
		t.Fatal("bob makes a tier in alice's VPC")
	}
	ap := bob.Address.NewAssociateIpAddressParams()
	ap.SetVpcid(w.vpc)
	if _, err := bob.Address.AssociateIpAddress(ap); err == nil {
		t.Fatal("bob takes an address in alice's VPC")
	}
	dp := bob.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetNetworkids([]string{w.tier})
	if _, err := bob.VirtualMachine.DeployVirtualMachine(dp); err == nil {
		t.Fatal("bob deploys into alice's tier")
	}
	// Alice still has everything, unchanged.
	vpcs, err := alice.VPC.ListVPCs(alice.VPC.NewListVPCsParams())
	if err != nil || vpcs.Count != 1 || vpcs.VPCs[0].Displaytext != "web vpc" || len(vpcs.VPCs[0].Network) != 1 {
		t.Fatalf("alice's VPC: %v %+v", err, vpcs)
	}
	if r, err := alice.NetworkACL.ListNetworkACLs(alice.NetworkACL.NewListNetworkACLsParams()); err != nil || r.Count != 1 {
		t.Fatalf("alice's rules: %v %+v", err, r)
	}
	// The admin sees them with listall.
	al := e.cs.VPC.NewListVPCsParams()
	al.SetListall(true)
	if l, err := e.cs.VPC.ListVPCs(al); err != nil || l.Count != 1 {
		t.Fatalf("admin listall: %v %+v", err, l)
	}
	// Deleting alice's account takes her VPC, tier, list and rule with it.
	if _, err := e.cs.Account.DeleteAccount(e.cs.Account.NewDeleteAccountParams(aliceID)); err != nil {
		t.Fatalf("deleteAccount: %v", err)
	}
	if l, err := e.cs.VPC.ListVPCs(al); err != nil || l.Count != 0 {
		t.Fatalf("VPCs after the account: %v %+v", err, l)
	}
	rl := e.cs.NetworkACL.NewListNetworkACLListsParams()
	rl.SetListall(true)
	if l, err := e.cs.NetworkACL.ListNetworkACLLists(rl); err != nil || l.Count != 2 {
		t.Fatalf("ACL lists after the account: %v %+v", err, l)
	}
}

// TestAnsibleVPC runs Ansible's VPC modules (Debian ansible:
// ngine_io.cloudstack): cs_vpc_offering (read only), cs_vpc,
// cs_network_acl, cs_network_acl_rule and cs_network with a VPC, each run
// twice to see the second change nothing (testdata/ansible/vpc.yml).
func TestAnsibleVPC(t *testing.T) {
	bin := testenv.LookPath(t, "ansible-playbook", "apt-get install ansible")
	python(t, "cs", "cs")
	_, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack/plugins/modules/cs_vpc.py")
	testenv.Need(t, err == nil, "ansible's ngine_io.cloudstack collection missing (install: apt-get install ansible)")
	srv := cstest.Start(t, cstest.Options{})
	out, err := runClient(t, srv, 3*time.Minute, bin, "-i", "localhost,", "-e", "ansible_python_interpreter=/usr/bin/python3",
		"testdata/ansible/vpc.yml")
	if err != nil || !strings.Contains(out, "failed=0") {
		t.Fatalf("ansible-playbook vpc: %v\n%s", err, out)
	}
}

// TestCloudstackCLIVPC drives VPCs with the Debian `cloudstack` CLI
// (python cs), which waits for the jobs: a VPC, a list and a rule shown
// as the job left them, and a refused rule answered with the API's 431.
func TestCloudstackCLIVPC(t *testing.T) {
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
	offs := run("listVPCOfferings", "name=Default VPC offering")["vpcoffering"].([]any)
	off := offs[0].(map[string]any)["id"].(string)
	vpc := run("createVPC", "name=cli", "cidr=10.40.0.0/16", "vpcofferingid="+off, "zoneid="+e.advZone)["vpc"].(map[string]any)
	if vpc["cidr"] != "10.40.0.0/16" || vpc["name"] != "cli" || vpc["state"] != "Enabled" {
		t.Fatalf("vpc: %v", vpc)
	}
	acl := run("createNetworkACLList", "name=cli-acl", "vpcid="+vpc["id"].(string))["networkacllist"].(map[string]any)
	rule := run("createNetworkACL", "aclid="+acl["id"].(string), "protocol=udp", "startport=53", "endport=53", "traffictype=egress")["networkacl"].(map[string]any)
	if rule["startport"] != "53" || rule["traffictype"] != "Egress" || rule["number"] != float64(1) || rule["aclname"] != "cli-acl" {
		t.Fatalf("rule: %v", rule)
	}
	if l := run("listVPCs"); l["count"] != float64(1) {
		t.Fatalf("listVPCs: %v", l)
	}
	out, err := runClient(t, srv, time.Minute, bin, "createNetworkACL", "aclid="+acl["id"].(string), "protocol=tcp", "startport=90", "endport=80")
	if err == nil || !strings.Contains(out, "HTTP 431") || !strings.Contains(out, "Start port can't be bigger than end port") {
		t.Fatalf("bad port range: %v %s", err, out)
	}
}
