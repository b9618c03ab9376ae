package cloudstack_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// bigAdvancedZone is the default data center with its Advanced zone made
// large enough for 10,000 Micro VMs in 100 isolated networks.
func bigAdvancedZone(b *testing.B) *cloud.Datacenter {
	dc, err := cloud.LoadDatacenter("")
	if err != nil {
		b.Fatal(err)
	}
	z := &dc.Zones[0]
	z.VLAN = "100-400"
	z.PublicIPRanges = []cloud.IPRangeSpec{{Gateway: "192.168.0.1", Netmask: "255.255.252.0", StartIP: "192.168.0.2", EndIP: "192.168.3.254", VLAN: "50"}}
	z.Pods[0].Clusters = []cloud.ClusterSpec{{Name: "C0", Hosts: []cloud.HostSpec{{Name: "big", Count: 12, CPUs: 128, CPUSpeed: 4000, Memory: 524288}}}}
	dc.Limits = nil
	return dc
}

// BenchmarkDeploy10000VMs100NetworksPF deploys 10,000 Micro VMs into 100
// isolated networks (each with its own /24) and gives each a port
// forwarding rule (with the firewall rule it opens) on its network's
// public address, with 32 concurrent cloudstack-go v2.19.0 async clients:
// one op is all 10,000 deploys and 10,000 rules. Target: ≤ 10 s per op.
func BenchmarkDeploy10000VMs100NetworksPF(b *testing.B) {
	const vms, nets, clients = 10000, 100, 32
	var cpu time.Duration
	defer func() { b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op") }()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := cstest.Start(b, cstest.Options{Datacenter: bigAdvancedZone(b)})
		var zone, so, tpl, off string
		srv.Sim.Read(func(r cloud.Reader) {
			zone = r.Zones()[0].ID
			for _, o := range r.ServiceOfferings() {
				if o.Name == "Micro" {
					so = o.ID
				}
			}
			tpl = r.Templates()[0].ID
			for _, o := range r.NetworkOfferings() {
				if o.HasService("SourceNat") && !o.ForVPC {
					off = o.ID
				}
			}
		})
		cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
		netIDs, ipIDs := make([]string, nets), make([]string, nets)
		for n := range nets {
			np := cs.Network.NewCreateNetworkParams(fmt.Sprintf("net%d", n), off, zone)
			np.SetGateway(fmt.Sprintf("10.%d.%d.1", 100+n/250, n%250))
			np.SetNetmask("255.255.255.0")
			net, err := cs.Network.CreateNetwork(np)
			if err != nil {
				b.Fatalf("createNetwork: %v", err)
			}
			ap := cs.Address.NewAssociateIpAddressParams()
			ap.SetNetworkid(net.Id)
			ip, err := cs.Address.AssociateIpAddress(ap)
			if err != nil {
				b.Fatalf("associateIpAddress: %v", err)
			}
			netIDs[n], ipIDs[n] = net.Id, ip.Id
		}
		css := make([]*cloudstack.CloudStackClient, clients)
		for c := range css {
			css[c] = cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
		}
		var next, failed atomic.Int64
		var firstErr atomic.Value
		var wg sync.WaitGroup
		c0 := cpuTime()
		b.StartTimer()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(cs *cloudstack.CloudStackClient) {
				defer wg.Done()
				for k := next.Add(1) - 1; k < vms; k = next.Add(1) - 1 {
					n := int(k) % nets
					dp := cs.VirtualMachine.NewDeployVirtualMachineParams(so, tpl, zone)
					dp.SetNetworkids([]string{netIDs[n]})
					vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
					if err == nil && vm.State != "Running" {
						err = fmt.Errorf("VM %s", vm.State)
					}
					if err == nil {
						_, err = cs.Firewall.CreatePortForwardingRule(cs.Firewall.NewCreatePortForwardingRuleParams(ipIDs[n], 22, "tcp", 10000+int(k)/nets, vm.Id))
					}
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			}(css[c])
		}
		wg.Wait()
		b.StopTimer()
		cpu += cpuTime() - c0
		if failed.Load() > 0 {
			b.Fatalf("%d deploys or rules failed, first: %v", failed.Load(), firstErr.Load())
		}
		var rules int
		srv.Sim.Read(func(r cloud.Reader) { rules = len(r.NetRules()) })
		if c := srv.Sim.Capacity(zone); c.VMs != vms || rules != 2*vms {
			b.Fatalf("%d VMs placed and %d rules, want %d and %d", c.VMs, rules, vms, 2*vms)
		}
		srv.HTTP.Close()
		b.StartTimer()
	}
}
