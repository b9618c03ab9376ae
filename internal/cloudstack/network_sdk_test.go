package cloudstack_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestSDKLoadBalancer drives load balancer rules, members, stickiness and
// health check policies, secondary NIC addresses, port forwarding to them,
// and network restart and update with cloudstack-go, the client a cloud
// controller for LoadBalancer Services would use.
func TestSDKLoadBalancer(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	var vms []*cloudstack.DeployVirtualMachineResponse
	for _, name := range []string{"lb1", "lb2"} {
		dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
		dp.SetName(name)
		vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
		if err != nil {
			t.Fatalf("deploy %s: %v", name, err)
		}
		vms = append(vms, vm)
	}
	netID := vms[0].Nic[0].Networkid
	ap := cs.Address.NewAssociateIpAddressParams()
	ap.SetNetworkid(netID)
	ip, err := cs.Address.AssociateIpAddress(ap)
	if err != nil || ip.Associatednetworkid != netID {
		t.Fatalf("associateIpAddress: %v %+v", err, ip)
	}

	// bad input gets the API's error and creates nothing
	bad := cs.LoadBalancer.NewCreateLoadBalancerRuleParams("fastest", "web", 8080, 80)
	bad.SetPublicipid(ip.Id)
	if _, err := cs.LoadBalancer.CreateLoadBalancerRule(bad); err == nil || !strings.Contains(err.Error(), "431") || !strings.Contains(err.Error(), "Invalid algorithm: fastest") {
		t.Fatalf("bad algorithm: %v", err)
	}
	if l, err := cs.LoadBalancer.ListLoadBalancerRules(cs.LoadBalancer.NewListLoadBalancerRulesParams()); err != nil || l.Count != 0 {
		t.Fatalf("after a bad create: %v %+v", err, l)
	}

	cp := cs.LoadBalancer.NewCreateLoadBalancerRuleParams("roundrobin", "web", 8080, 80)
	cp.SetPublicipid(ip.Id)
	lb, err := cs.LoadBalancer.CreateLoadBalancerRule(cp)
	if err != nil || lb.Name != "web" || lb.Publicip != ip.Ipaddress || lb.Publicport != "80" || lb.Privateport != "8080" ||
		lb.Algorithm != "roundrobin" || lb.Networkid != netID || lb.State != "Active" || lb.Zoneid != e.advZone {
		t.Fatalf("createLoadBalancerRule: %v %+v", err, lb)
	}
	// the same public port again conflicts
	if _, err := cs.LoadBalancer.CreateLoadBalancerRule(cp); err == nil || !strings.Contains(err.Error(), "537") {
		t.Fatalf("conflicting rule: %v", err)
	}
	asg := cs.LoadBalancer.NewAssignToLoadBalancerRuleParams(lb.Id)
	asg.SetVirtualmachineids([]string{vms[0].Id, vms[1].Id})
	if _, err := cs.LoadBalancer.AssignToLoadBalancerRule(asg); err != nil {
		t.Fatalf("assignToLoadBalancerRule: %v", err)
	}
	inst, err := cs.LoadBalancer.ListLoadBalancerRuleInstances(cs.LoadBalancer.NewListLoadBalancerRuleInstancesParams(lb.Id))
	if err != nil || inst.Count != 2 || inst.LoadBalancerRuleInstances[0].Id != vms[0].Id {
		t.Fatalf("listLoadBalancerRuleInstances: %v %+v", err, inst)
	}
	withIPs := cs.LoadBalancer.NewListLoadBalancerRuleInstancesParams(lb.Id)
	withIPs.SetLbvmips(true)
	inst, err = cs.LoadBalancer.ListLoadBalancerRuleInstances(withIPs)
	if err != nil || inst.Count != 2 || len(inst.LBRuleVMIDIPs) != 2 || inst.LBRuleVMIDIPs[1].Lbvmipaddresses[0] != vms[1].Nic[0].Ipaddress {
		t.Fatalf("listLoadBalancerRuleInstances lbvmips: %v %+v", err, inst)
	}
	lp := cs.LoadBalancer.NewListLoadBalancerRulesParams()
	lp.SetVirtualmachineid(vms[1].Id)
	if l, err := cs.LoadBalancer.ListLoadBalancerRules(lp); err != nil || l.Count != 1 || l.LoadBalancerRules[0].Id != lb.Id {
		t.Fatalf("listLoadBalancerRules by VM: %v %+v", err, l)
	}

	sp := cs.LoadBalancer.NewCreateLBStickinessPolicyParams(lb.Id, "LbCookie", "sticky")
	sp.SetParam(map[string]string{"cookie-name": "SRV"})
	st, err := cs.LoadBalancer.CreateLBStickinessPolicy(sp)
	if err != nil || st.Lbruleid != lb.Id || len(st.Stickinesspolicy) != 1 || st.Stickinesspolicy[0].Methodname != "LbCookie" ||
		st.Stickinesspolicy[0].Params["cookie-name"] != "SRV" {
		t.Fatalf("createLBStickinessPolicy: %v %+v", err, st)
	}
	hp := cs.LoadBalancer.NewCreateLBHealthCheckPolicyParams(lb.Id)
	hp.SetPingpath("/healthz")
	hc, err := cs.LoadBalancer.CreateLBHealthCheckPolicy(hp)
	if err != nil || len(hc.Healthcheckpolicy) != 1 || hc.Healthcheckpolicy[0].Pingpath != "/healthz" || hc.Healthcheckpolicy[0].Healthcheckinterval != 5 {
		t.Fatalf("createLBHealthCheckPolicy: %v %+v", err, hc)
	}
	// The real server lists these under stickinesspolicies and
	// healthcheckpolicies; the SDK's list types expect other keys
	// (lbstickinesspolicy, lbhealthcheckpolicy) and decode nothing from a
	// real server either, so the lists are read with its custom request.
	var sticky struct {
		Count    int                              `json:"count"`
		Policies []cloudstack.LBStickinessPolicy  `json:"stickinesspolicies"`
		Health   []cloudstack.LBHealthCheckPolicy `json:"healthcheckpolicies"`
	}
	lsp := &cloudstack.CustomServiceParams{}
	lsp.SetParam("lbruleid", lb.Id)
	if err := cs.Custom.(*cloudstack.CustomService).CustomRequest("listLBStickinessPolicies", lsp, &sticky); err != nil || sticky.Count != 1 || sticky.Policies[0].Stickinesspolicy[0].Name != "sticky" {
		t.Fatalf("listLBStickinessPolicies: %v %+v", err, sticky)
	}
	if err := cs.Custom.(*cloudstack.CustomService).CustomRequest("listLBHealthCheckPolicies", lsp, &sticky); err != nil || sticky.Count != 1 || sticky.Health[0].Healthcheckpolicy[0].Pingpath != "/healthz" {
		t.Fatalf("listLBHealthCheckPolicies: %v %+v", err, sticky)
	}
	if _, err := cs.LoadBalancer.DeleteLBStickinessPolicy(cs.LoadBalancer.NewDeleteLBStickinessPolicyParams(st.Stickinesspolicy[0].Id)); err != nil {
		t.Fatalf("deleteLBStickinessPolicy: %v", err)
	}
	if _, err := cs.LoadBalancer.DeleteLBHealthCheckPolicy(cs.LoadBalancer.NewDeleteLBHealthCheckPolicyParams(hc.Healthcheckpolicy[0].Id)); err != nil {
		t.Fatalf("deleteLBHealthCheckPolicy: %v", err)
	}
	sticky.Policies = nil
	if err := cs.Custom.(*cloudstack.CustomService).CustomRequest("listLBStickinessPolicies", lsp, &sticky); err != nil || len(sticky.Policies[0].Stickinesspolicy) != 0 {
		t.Fatalf("stickiness after delete: %v %+v", err, sticky)
	}

	up := cs.LoadBalancer.NewUpdateLoadBalancerRuleParams(lb.Id)
	up.SetAlgorithm("source")
	if u, err := cs.LoadBalancer.UpdateLoadBalancerRule(up); err != nil || u.Algorithm != "source" {
		t.Fatalf("updateLoadBalancerRule: %v %+v", err, u)
	}
	rm := cs.LoadBalancer.NewRemoveFromLoadBalancerRuleParams(lb.Id)
	rm.SetVirtualmachineids([]string{vms[1].Id})
	if _, err := cs.LoadBalancer.RemoveFromLoadBalancerRule(rm); err != nil {
		t.Fatalf("removeFromLoadBalancerRule: %v", err)
	}
	if _, err := cs.LoadBalancer.RemoveFromLoadBalancerRule(rm); err == nil || !strings.Contains(err.Error(), "not assigned") {
		t.Fatalf("removing twice: %v", err)
	}

	// a secondary address, and a port forwarding rule to it
	nic, err := cs.Nic.AddIpToNic(cs.Nic.NewAddIpToNicParams(vms[0].Nic[0].Id))
	if err != nil || nic.Ipaddress == "" || nic.Nicid != vms[0].Nic[0].Id {
		t.Fatalf("addIpToNic: %v %+v", err, nic)
	}
	nics, err := cs.Nic.ListNics(cs.Nic.NewListNicsParams(vms[0].Id))
	if err != nil || nics.Count != 1 || len(nics.Nics[0].Secondaryip) != 1 || nics.Nics[0].Secondaryip[0].Ipaddress != nic.Ipaddress {
		t.Fatalf("listNics: %v %+v", err, nics)
	}
	pf := cs.Firewall.NewCreatePortForwardingRuleParams(ip.Id, 22, "tcp", 2222, vms[0].Id)
	pf.SetVmguestip(nic.Ipaddress)
	rule, err := cs.Firewall.CreatePortForwardingRule(pf)
	if err != nil || rule.Vmguestip != nic.Ipaddress || rule.Publicport != "2222" || rule.Privateendport != "22" {
		t.Fatalf("createPortForwardingRule to the secondary address: %v %+v", err, rule)
	}
	if _, err := cs.Nic.RemoveIpFromNic(cs.Nic.NewRemoveIpFromNicParams(nic.Id)); err == nil {
		t.Fatal("removed a secondary address a rule forwards to")
	}

	// restart and update the network
	if _, err := cs.Network.RestartNetwork(cs.Network.NewRestartNetworkParams(netID)); err != nil {
		t.Fatalf("restartNetwork: %v", err)
	}
	unp := cs.Network.NewUpdateNetworkParams(netID)
	unp.SetDisplaytext("frontends")
	if n, err := cs.Network.UpdateNetwork(unp); err != nil || n.Displaytext != "frontends" {
		t.Fatalf("updateNetwork: %v %+v", err, n)
	}

	// expunging the VM takes its rules and memberships with it
	xp := cs.VirtualMachine.NewDestroyVirtualMachineParams(vms[0].Id)
	xp.SetExpunge(true)
	if _, err := cs.VirtualMachine.DestroyVirtualMachine(xp); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if l, err := cs.Firewall.ListPortForwardingRules(cs.Firewall.NewListPortForwardingRulesParams()); err != nil || l.Count != 0 {
		t.Fatalf("port forwarding rules after expunge: %v %+v", err, l)
	}
	inst, err = cs.LoadBalancer.ListLoadBalancerRuleInstances(cs.LoadBalancer.NewListLoadBalancerRuleInstancesParams(lb.Id))
	if err != nil || inst.Count != 0 {
		t.Fatalf("members after expunge: %v %+v", err, inst)
	}
	if _, err := cs.LoadBalancer.DeleteLoadBalancerRule(cs.LoadBalancer.NewDeleteLoadBalancerRuleParams(lb.Id)); err != nil {
		t.Fatalf("deleteLoadBalancerRule: %v", err)
	}
	if l, err := cs.Firewall.ListFirewallRules(cs.Firewall.NewListFirewallRulesParams()); err != nil || l.Count != 0 {
		t.Fatalf("firewall rules opened for the load balancer remain: %v %+v", err, l)
	}
}

// TestSDKSilentAnswers checks the answers that used to be silently wrong:
// an unknown affinity group name, a disk offering at deploy, the id of an
// expunged VM, and a static NAT VM's publicip.
func TestSDKSilentAnswers(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	count := func() int {
		t.Helper()
		l, err := cs.VirtualMachine.ListVirtualMachines(cs.VirtualMachine.NewListVirtualMachinesParams())
		if err != nil {
			t.Fatal(err)
		}
		return l.Count
	}

	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetAffinitygroupnames([]string{"doesnotexist"})
	if _, err := cs.VirtualMachine.DeployVirtualMachine(dp); err == nil || !strings.Contains(err.Error(), "431") ||
		!strings.Contains(err.Error(), "Unable to find affinity group by name doesnotexist") {
		t.Fatalf("unknown affinity group: %v", err)
	}
	dp = cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetAffinitygroupids([]string{"5b6ae7b3-0000-4000-8000-000000000000"})
	if _, err := cs.VirtualMachine.DeployVirtualMachine(dp); err == nil || !strings.Contains(err.Error(), "affinitygroupids") {
		t.Fatalf("unknown affinity group id: %v", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("refused deploys left %d VMs", n)
	}

	offs, err := cs.DiskOffering.ListDiskOfferings(cs.DiskOffering.NewListDiskOfferingsParams())
	if err != nil || offs.Count == 0 {
		t.Fatalf("listDiskOfferings: %v %+v", err, offs)
	}
	var off *cloudstack.DiskOffering
	for _, o := range offs.DiskOfferings {
		if !o.Iscustomized {
			off = o
			break
		}
	}
	dp = cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetDiskofferingid(off.Id)
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatalf("deploy with a disk offering: %v", err)
	}
	vp := cs.Volume.NewListVolumesParams()
	vp.SetVirtualmachineid(vm.Id)
	vols, err := cs.Volume.ListVolumes(vp)
	if err != nil || vols.Count != 2 || vols.Volumes[1].Type != "DATADISK" || vols.Volumes[1].Size != off.Disksize<<30 || vols.Volumes[1].Deviceid != 1 {
		t.Fatalf("volumes of a VM deployed with a disk offering: %v %+v", err, vols)
	}

	ap := cs.Address.NewAssociateIpAddressParams()
	ap.SetNetworkid(vm.Nic[0].Networkid)
	ip, err := cs.Address.AssociateIpAddress(ap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.NAT.EnableStaticNat(cs.NAT.NewEnableStaticNatParams(ip.Id, vm.Id)); err != nil {
		t.Fatalf("enableStaticNat: %v", err)
	}
	got, _, err := cs.VirtualMachine.GetVirtualMachineByID(vm.Id)
	if err != nil || got.Publicip != ip.Ipaddress || got.Publicipid != ip.Id {
		t.Fatalf("static NAT VM: %v publicip=%q publicipid=%q", err, got.Publicip, got.Publicipid)
	}

	xp := cs.VirtualMachine.NewDestroyVirtualMachineParams(vm.Id)
	xp.SetExpunge(true)
	if _, err := cs.VirtualMachine.DestroyVirtualMachine(xp); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	lp := cs.VirtualMachine.NewListVirtualMachinesParams()
	lp.SetId(vm.Id)
	if l, err := cs.VirtualMachine.ListVirtualMachines(lp); err != nil || l.Count != 0 {
		t.Fatalf("listVirtualMachines id=<expunged>: %v %+v", err, l)
	}
	lp.SetId("5b6ae7b3-0000-4000-8000-000000000000")
	if _, err := cs.VirtualMachine.ListVirtualMachines(lp); err == nil || !strings.Contains(err.Error(), "431") {
		t.Fatalf("listVirtualMachines id=<never a VM>: %v", err)
	}
	// the data disk stays, detached; the address loses its static NAT
	vols, err = cs.Volume.ListVolumes(cs.Volume.NewListVolumesParams())
	if err != nil || vols.Count != 1 || vols.Volumes[0].Type != "DATADISK" || vols.Volumes[0].Virtualmachineid != "" {
		t.Fatalf("volumes after expunge: %v %+v", err, vols)
	}
	if a, _, err := cs.Address.GetPublicIpAddressByID(ip.Id); err != nil || a.Isstaticnat || a.Virtualmachineid != "" {
		t.Fatalf("address after expunge: %v %+v", err, a)
	}
}

// TestTwoServersShareRules: rules made through one server are seen, and
// changed, through another on the same store, with the derived lookups
// (rules by address and VM, a VM's static NAT address) in step.
func TestTwoServersShareRules(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			var srvs [2]*cstest.Server
			for i := range srvs {
				srvs[i] = cstest.Start(t, cstest.Options{Store: st, ID: fmt.Sprintf("server-%d", i)})
			}
			ea := setup(t, srvs[0])
			a := ea.cs
			b := cloudstack.NewAsyncClient(srvs[1].URL, srvs[1].APIKey, srvs[1].SecretKey, false)
			vm, err := a.VirtualMachine.DeployVirtualMachine(a.VirtualMachine.NewDeployVirtualMachineParams(ea.micro, ea.template, ea.advZone))
			if err != nil {
				t.Fatal(err)
			}
			ips := make([]*cloudstack.AssociateIpAddressResponse, 2)
			for i := range ips {
				ap := a.Address.NewAssociateIpAddressParams()
				ap.SetNetworkid(vm.Nic[0].Networkid)
				if ips[i], err = a.Address.AssociateIpAddress(ap); err != nil {
					t.Fatal(err)
				}
			}
			pf, err := a.Firewall.CreatePortForwardingRule(a.Firewall.NewCreatePortForwardingRuleParams(ips[0].Id, 22, "tcp", 2222, vm.Id))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.NAT.EnableStaticNat(a.NAT.NewEnableStaticNatParams(ips[1].Id, vm.Id)); err != nil {
				t.Fatal(err)
			}
			lp := b.Firewall.NewListPortForwardingRulesParams()
			lp.SetIpaddressid(ips[0].Id)
			if l, err := b.Firewall.ListPortForwardingRules(lp); err != nil || l.Count != 1 || l.PortForwardingRules[0].Id != pf.Id {
				t.Fatalf("B's port forwarding rules: %v %+v", err, l)
			}
			if got, _, err := b.VirtualMachine.GetVirtualMachineByID(vm.Id); err != nil || got.Publicip != ips[1].Ipaddress {
				t.Fatalf("B's view of the static NAT VM: %v %+v", err, got)
			}
			// the same public port through B conflicts with A's rule
			if _, err := b.Firewall.CreatePortForwardingRule(b.Firewall.NewCreatePortForwardingRuleParams(ips[0].Id, 80, "tcp", 2222, vm.Id)); err == nil || !strings.Contains(err.Error(), "537") {
				t.Fatalf("conflict across servers: %v", err)
			}
			if _, err := b.Firewall.DeletePortForwardingRule(b.Firewall.NewDeletePortForwardingRuleParams(pf.Id)); err != nil {
				t.Fatal(err)
			}
			if l, err := a.Firewall.ListPortForwardingRules(a.Firewall.NewListPortForwardingRulesParams()); err != nil || l.Count != 0 {
				t.Fatalf("A's rules after B deleted them: %v %+v", err, l)
			}
			if l, err := a.Firewall.ListFirewallRules(a.Firewall.NewListFirewallRulesParams()); err != nil || l.Count != 0 {
				t.Fatalf("A's firewall rules after B deleted the rule that opened them: %v %+v", err, l)
			}
		})
	}
}
