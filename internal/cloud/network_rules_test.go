package cloud

import (
	"context"
	"errors"
	"testing"

	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// rulesFixture starts the default data center with one running VM in the
// Advanced zone and a second public address of its network.
func rulesFixture(t testing.TB) (s *Sim, vm *VM, ipID string) {
	dc, err := ParseDatacenter(DefaultDatacenterYAML())
	if err != nil {
		t.Fatal(err)
	}
	s, err = New(context.Background(), Options{Store: memory.New(memory.Options{}), Datacenter: dc})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	var zone, so, tpl string
	s.Read(func(r Reader) {
		zone, so, tpl = r.Zones()[0].ID, r.ServiceOfferings()[0].ID, r.Templates()[0].ID
	})
	ctx := context.Background()
	vm, _, err = s.DeployVM(ctx, s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	ip, _, err := s.AssociateIP(ctx, s.Admin(), "", vm.NICs[0].NetworkID, "", "", "", "", "test")
	if err != nil {
		t.Fatal(err)
	}
	return s, vm, ip.ID
}

func intp(n int) *int { return &n }

// TestRuleValidation checks each rule against a standing port forwarding
// rule (tcp 2222-2223 → 22-23) and firewall rule (tcp 80, 10.0.0.0/8):
// what is refused, with which code, and that a refused rule changes nothing.
func TestRuleValidation(t *testing.T) {
	s, vm, ipID := rulesFixture(t)
	ctx := context.Background()
	pf := NetRuleSpec{Purpose: PurposePortForwarding, PublicIPID: ipID, VMID: vm.ID, Protocol: "TCP", StartPort: 2222, EndPort: 2223, PrivatePort: 22}
	if _, _, err := s.CreateRule(ctx, s.Admin(), pf); err != nil {
		t.Fatal(err)
	}
	fw := NetRuleSpec{Purpose: PurposeFirewall, PublicIPID: ipID, Protocol: "tcp", StartPort: 80, CIDRs: []string{"10.0.0.0/8"}}
	if _, _, err := s.CreateRule(ctx, s.Admin(), fw); err != nil {
		t.Fatal(err)
	}
	with := func(base NetRuleSpec, f func(*NetRuleSpec)) NetRuleSpec { f(&base); return base }
	tests := []struct {
		name string
		spec NetRuleSpec
		code int // 0: accepted
	}{
		{"overlapping public range", with(pf, func(r *NetRuleSpec) { r.StartPort, r.EndPort, r.PrivatePort = 2223, 2223, 23 }), CodeNetworkRuleConflict},
		{"same range, other protocol", with(pf, func(r *NetRuleSpec) { r.Protocol = "udp" }), 0},
		{"next range", with(pf, func(r *NetRuleSpec) { r.StartPort, r.EndPort = 2224, 2225 }), 0},
		{"icmp port forwarding", with(pf, func(r *NetRuleSpec) { r.Protocol = "icmp" }), CodeParamError},
		{"port 0", with(pf, func(r *NetRuleSpec) { r.StartPort, r.EndPort = 0, 0 }), CodeParamError},
		{"port 65536", with(pf, func(r *NetRuleSpec) { r.StartPort, r.EndPort = 65536, 65536 }), CodeParamError},
		{"ranges of different sizes", with(pf, func(r *NetRuleSpec) { r.StartPort, r.EndPort, r.PrivateEndPort = 3000, 3001, 22 }), CodeParamError},
		{"unknown VM", with(pf, func(r *NetRuleSpec) { r.StartPort, r.EndPort, r.VMID = 4000, 4000, newID() }), CodeParamError},
		{"load balancer on the forwarded range", NetRuleSpec{Purpose: PurposeLoadBalancing, PublicIPID: ipID, Name: "lb", Algorithm: "roundrobin", StartPort: 2222, PrivatePort: 22}, CodeNetworkRuleConflict},
		{"load balancer, bad algorithm", NetRuleSpec{Purpose: PurposeLoadBalancing, PublicIPID: ipID, Name: "lb", Algorithm: "random", StartPort: 8080, PrivatePort: 80}, CodeParamError},
		{"load balancer", NetRuleSpec{Purpose: PurposeLoadBalancing, PublicIPID: ipID, Name: "lb", Algorithm: "Source", StartPort: 8080, PrivatePort: 80}, 0},
		{"same firewall rule", fw, CodeNetworkRuleConflict},
		{"firewall rule, other cidr", with(fw, func(r *NetRuleSpec) { r.CIDRs = []string{"192.168.0.0/16"} }), 0},
		{"firewall rule, bad cidr", with(fw, func(r *NetRuleSpec) { r.CIDRs = []string{"10.0.0.0/33"} }), CodeParamError},
		{"firewall icmp with ports", NetRuleSpec{Purpose: PurposeFirewall, PublicIPID: ipID, Protocol: "icmp", StartPort: 1}, CodeParamError},
		{"firewall tcp with icmp type", NetRuleSpec{Purpose: PurposeFirewall, PublicIPID: ipID, Protocol: "tcp", StartPort: 1, ICMPType: intp(8)}, CodeParamError},
		{"firewall gre", NetRuleSpec{Purpose: PurposeFirewall, PublicIPID: ipID, Protocol: "gre"}, CodeParamError},
		{"ip forwarding without static nat", NetRuleSpec{Purpose: PurposeStaticNAT, PublicIPID: ipID, Protocol: "tcp", StartPort: 9000}, CodeNetworkRuleConflict},
		{"egress on the network", NetRuleSpec{Purpose: PurposeFirewall, Traffic: TrafficEgress, NetworkID: vm.NICs[0].NetworkID, Protocol: "all"}, 0},
		{"egress twice", NetRuleSpec{Purpose: PurposeFirewall, Traffic: TrafficEgress, NetworkID: vm.NICs[0].NetworkID, Protocol: "all"}, CodeNetworkRuleConflict},
	}
	for _, tc := range tests {
		var before int
		s.Read(func(r Reader) { before = len(r.NetRules()) })
		_, _, err := s.CreateRule(ctx, s.Admin(), tc.spec)
		var after int
		s.Read(func(r Reader) { after = len(r.NetRules()) })
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code != 0 && (err == nil || AsError(err).Code != tc.code):
			t.Errorf("%s: got %v, want code %d", tc.name, err, tc.code)
		case tc.code != 0 && after != before:
			t.Errorf("%s: refused, but rules went from %d to %d", tc.name, before, after)
		}
	}
	// static NAT and forwarding exclude each other
	if err := s.SetStaticNAT(ctx, s.Admin(), ipID, vm.ID); err == nil || AsError(err).Code != CodeNetworkRuleConflict {
		t.Errorf("static NAT on an address with port forwarding: %v", err)
	}
}

// TestRulesFollowTheirObjects: releasing an address drops its rules,
// expunging a VM drops its forwarding and membership, disabling static NAT
// drops IP forwarding.
func TestRulesFollowTheirObjects(t *testing.T) {
	s, vm, ipID := rulesFixture(t)
	ctx := context.Background()
	admin := s.Admin()
	count := func() (n int) { s.Read(func(r Reader) { n = len(r.NetRules()) }); return }
	lb, _, err := s.CreateRule(ctx, admin, NetRuleSpec{Purpose: PurposeLoadBalancing, PublicIPID: ipID, Name: "lb", Algorithm: "roundrobin", StartPort: 80, PrivatePort: 80, OpenFirewall: true})
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.AssignToLB(ctx, admin, lb.ID, []LBMemberSpec{{VMID: vm.ID}}, "test")
	if err != nil || waitJob(t, s, j.ID).Status != JobSucceeded {
		t.Fatalf("assign: %v", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d rules, want the balancer and its firewall rule", n)
	}
	// a second address with static NAT and an IP forwarding rule
	ip2, _, err := s.AssociateIP(ctx, admin, "", vm.NICs[0].NetworkID, "", "", "", "", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStaticNAT(ctx, admin, ip2.ID, vm.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateRule(ctx, admin, NetRuleSpec{Purpose: PurposeStaticNAT, PublicIPID: ip2.ID, Protocol: "tcp", StartPort: 22, OpenFirewall: true}); err != nil {
		t.Fatal(err)
	}
	var nat *PublicIP
	s.Read(func(r Reader) { nat, _ = r.StaticNATOf(vm.ID) })
	if nat == nil || nat.ID != ip2.ID {
		t.Fatalf("static NAT of the VM: %+v", nat)
	}
	if j, err := s.DisableStaticNAT(ctx, admin, ip2.ID, "test"); err != nil || waitJob(t, s, j.ID).Status != JobSucceeded {
		t.Fatalf("disable static NAT: %v", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d rules after disabling static NAT, want 2", n)
	}
	if j, err := s.DestroyVM(ctx, admin, vm.ID, true, "test"); err != nil || waitJob(t, s, j.ID).Status != JobSucceeded {
		t.Fatalf("expunge: %v", err)
	}
	s.Read(func(r Reader) {
		x, _ := r.NetRule(lb.ID)
		if len(x.Members) != 0 {
			t.Errorf("members after expunge: %+v", x.Members)
		}
	})
	if j, err := s.DisassociateIP(ctx, admin, ipID, "test"); err != nil || waitJob(t, s, j.ID).Status != JobSucceeded {
		t.Fatalf("release: %v", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d rules after releasing the address", n)
	}
	if _, err := s.DeleteRule(ctx, admin, lb.ID, PurposeLoadBalancing, "", "test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting a released address's rule: %v", err)
	}
}

// FuzzCreateRule feeds arbitrary rule specs to CreateRule: it never
// panics, and a refused rule changes nothing.
func FuzzCreateRule(f *testing.F) {
	f.Add(uint8(1), "tcp", 22, 22, 22, 0, "0.0.0.0/0", "roundrobin")
	f.Add(uint8(0), "icmp", 0, 0, 0, 0, "10.0.0.0/8", "")
	f.Add(uint8(3), "tcp-proxy", 80, 80, 8080, 0, "", "source")
	f.Add(uint8(4), "all", 0, 0, 0, 0, "10.1.1.0/24", "")
	s, vm, ipID := rulesFixture(f)
	purposes := []RulePurpose{PurposeFirewall, PurposePortForwarding, PurposeStaticNAT, PurposeLoadBalancing, PurposeFirewall}
	f.Fuzz(func(t *testing.T, kind uint8, proto string, start, end, priv, privEnd int, cidr, algo string) {
		spec := NetRuleSpec{Purpose: purposes[int(kind)%len(purposes)], PublicIPID: ipID, VMID: vm.ID, Protocol: proto,
			StartPort: start, EndPort: end, PrivatePort: priv, PrivateEndPort: privEnd, CIDRs: []string{cidr}, Algorithm: algo, Name: "fz"}
		if int(kind)%len(purposes) == 4 {
			spec.Traffic, spec.NetworkID = TrafficEgress, vm.NICs[0].NetworkID
		}
		var before int
		s.Read(func(r Reader) { before = len(r.NetRules()) })
		r, _, err := s.CreateRule(context.Background(), s.Admin(), spec)
		var after int
		s.Read(func(rd Reader) { after = len(rd.NetRules()) })
		if err != nil {
			if after != before {
				t.Fatalf("refused (%v) but rules went from %d to %d", err, before, after)
			}
			return
		}
		if r.HasPorts() && (!validPort(r.StartPort) || !validPort(r.EndPort) || r.StartPort > r.EndPort) {
			t.Fatalf("accepted a bad range: %+v", r)
		}
	})
}
