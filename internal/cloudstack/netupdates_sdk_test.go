package cloudstack_test

import (
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestSDKNetworkUpdates drives the network family's small updates with
// cloudstack-go: fordisplay of a firewall rule, an egress rule, load
// balancer policies and a public address, each kept and listed; a rule
// of the other direction is not found; a security group renamed, with
// CloudStack's refusals for the default group and taken names; another
// account's objects answer as unknown.
func TestSDKNetworkUpdates(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
	dp.SetName("upd")
	vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
	if err != nil {
		t.Fatal(err)
	}
	netID := vm.Nic[0].Networkid
	ap := cs.Address.NewAssociateIpAddressParams()
	ap.SetNetworkid(netID)
	ip, err := cs.Address.AssociateIpAddress(ap)
	if err != nil {
		t.Fatal(err)
	}

	fp := cs.Firewall.NewCreateFirewallRuleParams(ip.Id, "tcp")
	fp.SetStartport(22)
	fp.SetEndport(22)
	fw, err := cs.Firewall.CreateFirewallRule(fp)
	if err != nil || !fw.Fordisplay {
		t.Fatalf("createFirewallRule: %v %+v", err, fw)
	}
	up := cs.Firewall.NewUpdateFirewallRuleParams(fw.Id)
	up.SetFordisplay(false)
	if u, err := cs.Firewall.UpdateFirewallRule(up); err != nil || u.Fordisplay || u.Id != fw.Id {
		t.Fatalf("updateFirewallRule: %v %+v", err, u)
	}
	if got, _, err := cs.Firewall.GetFirewallRuleByID(fw.Id); err != nil || got.Fordisplay {
		t.Fatalf("listed after the update: %v %+v", err, got)
	}
	eg, err := cs.Firewall.CreateEgressFirewallRule(cs.Firewall.NewCreateEgressFirewallRuleParams(netID, "all"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Firewall.UpdateFirewallRule(cs.Firewall.NewUpdateFirewallRuleParams(eg.Id)); err == nil {
		t.Fatal("updateFirewallRule took an egress rule")
	}
	if _, err := cs.Firewall.UpdateEgressFirewallRule(cs.Firewall.NewUpdateEgressFirewallRuleParams(fw.Id)); err == nil {
		t.Fatal("updateEgressFirewallRule took an ingress rule")
	}
	ue := cs.Firewall.NewUpdateEgressFirewallRuleParams(eg.Id)
	ue.SetFordisplay(false)
	if u, err := cs.Firewall.UpdateEgressFirewallRule(ue); err != nil || u.Fordisplay {
		t.Fatalf("updateEgressFirewallRule: %v %+v", err, u)
	}

	lbp := cs.LoadBalancer.NewCreateLoadBalancerRuleParams("roundrobin", "web", 8080, 80)
	lbp.SetPublicipid(ip.Id)
	lb, err := cs.LoadBalancer.CreateLoadBalancerRule(lbp)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cs.LoadBalancer.CreateLBStickinessPolicy(cs.LoadBalancer.NewCreateLBStickinessPolicyParams(lb.Id, "LbCookie", "sticky"))
	if err != nil || len(st.Stickinesspolicy) != 1 {
		t.Fatalf("createLBStickinessPolicy: %v %+v", err, st)
	}
	us := cs.LoadBalancer.NewUpdateLBStickinessPolicyParams(st.Stickinesspolicy[0].Id)
	us.SetFordisplay(false)
	if u, err := cs.LoadBalancer.UpdateLBStickinessPolicy(us); err != nil || u.Lbruleid != lb.Id || len(u.Stickinesspolicy) != 1 || u.Stickinesspolicy[0].Fordisplay {
		t.Fatalf("updateLBStickinessPolicy: %v %+v", err, u)
	}
	hc, err := cs.LoadBalancer.CreateLBHealthCheckPolicy(cs.LoadBalancer.NewCreateLBHealthCheckPolicyParams(lb.Id))
	if err != nil || len(hc.Healthcheckpolicy) != 1 {
		t.Fatalf("createLBHealthCheckPolicy: %v %+v", err, hc)
	}
	uh := cs.LoadBalancer.NewUpdateLBHealthCheckPolicyParams(hc.Healthcheckpolicy[0].Id)
	uh.SetFordisplay(false)
	if u, err := cs.LoadBalancer.UpdateLBHealthCheckPolicy(uh); err != nil || len(u.Healthcheckpolicy) != 1 || u.Healthcheckpolicy[0].Fordisplay {
		t.Fatalf("updateLBHealthCheckPolicy: %v %+v", err, u)
	}
	if _, err := cs.LoadBalancer.UpdateLBHealthCheckPolicy(cs.LoadBalancer.NewUpdateLBHealthCheckPolicyParams(st.Stickinesspolicy[0].Id)); err == nil {
		t.Fatal("updateLBHealthCheckPolicy took a stickiness policy")
	}

	ui := cs.Address.NewUpdateIpAddressParams(ip.Id)
	ui.SetFordisplay(false)
	if u, err := cs.Address.UpdateIpAddress(ui); err != nil || u.Fordisplay || u.Ipaddress != ip.Ipaddress {
		t.Fatalf("updateIpAddress: %v %+v", err, u)
	}
	if got, _, err := cs.Address.GetPublicIpAddressByID(ip.Id); err != nil || got.Fordisplay {
		t.Fatalf("listed after the update: %v %+v", err, got)
	}

	// another account sees none of it
	other, _ := newUserClient(t, srv, cs, "stranger")
	if _, err := other.Address.UpdateIpAddress(other.Address.NewUpdateIpAddressParams(ip.Id)); err == nil {
		t.Fatal("another account updated the address")
	}
	if _, err := other.Firewall.UpdateFirewallRule(other.Firewall.NewUpdateFirewallRuleParams(fw.Id)); err == nil {
		t.Fatal("another account updated the firewall rule")
	}

	web, err := cs.SecurityGroup.CreateSecurityGroup(cs.SecurityGroup.NewCreateSecurityGroupParams("web"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.SecurityGroup.CreateSecurityGroup(cs.SecurityGroup.NewCreateSecurityGroupParams("db")); err != nil {
		t.Fatal(err)
	}
	def, _, err := cs.SecurityGroup.GetSecurityGroupByName("default")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, id, to, want string }{
		{"rename", web.Id, "frontend", ""},
		{"to default", web.Id, "Default", "The security group name default is reserved"},
		{"the default group", def.Id, "mine", "The default security group cannot be renamed"},
		{"a taken name", web.Id, "db", "The security group with name db already exists."},
		{"an empty name", web.Id, " ", "Security group name cannot be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := cs.SecurityGroup.NewUpdateSecurityGroupParams(tc.id)
			p.SetName(tc.to)
			g, err := cs.SecurityGroup.UpdateSecurityGroup(p)
			if tc.want == "" {
				if err != nil || g.Name != tc.to {
					t.Fatalf("%v %+v", err, g)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
	if got, _, err := cs.SecurityGroup.GetSecurityGroupByID(web.Id); err != nil || got.Name != "frontend" {
		t.Fatalf("after the refusals: %v %+v", err, got)
	}
	if _, err := other.SecurityGroup.UpdateSecurityGroup(other.SecurityGroup.NewUpdateSecurityGroupParams(web.Id)); err == nil {
		t.Fatal("another account updated the group")
	}
}
