package cloudstack_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// BenchmarkDeploy1000VMs32Clients deploys 1,000 Micro VMs to Running with
// 32 concurrent cloudstack-go v2.19.0 async clients; one op is all 1,000.
// Target: ≤ 2 s per op.
func BenchmarkDeploy1000VMs32Clients(b *testing.B) {
	const vms, clients = 1000, 32
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := cstest.Start(b, cstest.Options{})
		var zone, so, tpl string
		srv.Sim.Read(func(r cloud.Reader) {
			for _, z := range r.Zones() {
				if z.NetworkType == "Basic" {
					zone = z.ID
				}
			}
			for _, o := range r.ServiceOfferings() {
				if o.Name == "Micro" {
					so = o.ID
				}
			}
			tpl = r.Templates()[0].ID
		})
		css := make([]*cloudstack.CloudStackClient, clients)
		for c := range css {
			css[c] = cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
		}
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		b.StartTimer()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(cs *cloudstack.CloudStackClient) {
				defer wg.Done()
				for next.Add(1) <= vms {
					vm, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(so, tpl, zone))
					if err != nil || vm.State != "Running" {
						failed.Add(1)
					}
				}
			}(css[c])
		}
		wg.Wait()
		b.StopTimer()
		if failed.Load() > 0 {
			b.Fatalf("%d deploys failed", failed.Load())
		}
		if c := srv.Sim.Capacity(zone); c.VMs != vms {
			b.Fatalf("%d VMs placed, want %d", c.VMs, vms)
		}
		srv.HTTP.Close()
		b.StartTimer()
	}
}

// BenchmarkListVMsPage500Of10000 lists one page of 500 out of 10,000 VMs
// with the SDK. Target: ≤ 20 ms per op.
func BenchmarkListVMsPage500Of10000(b *testing.B) {
	srv := cstest.Start(b, cstest.Options{})
	var zone, so, tpl string
	srv.Sim.Read(func(r cloud.Reader) {
		for _, z := range r.Zones() {
			if z.NetworkType == "Basic" {
				zone = z.ID
			}
		}
		so = r.ServiceOfferings()[0].ID
		tpl = r.Templates()[0].ID
	})
	admin := srv.Sim.Admin()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10000/8; i++ {
				if _, _, err := srv.Sim.DeployVM(context.Background(), admin, cloud.DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	cs := cloudstack.NewClient(srv.URL, srv.APIKey, srv.SecretKey, false)
	p := cs.VirtualMachine.NewListVirtualMachinesParams()
	p.SetPage(3)
	p.SetPagesize(500)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := cs.VirtualMachine.ListVirtualMachines(p)
		if err != nil || r.Count != 10000 || len(r.VirtualMachines) != 500 {
			b.Fatalf("list: %v %d %d", err, r.Count, len(r.VirtualMachines))
		}
	}
}
