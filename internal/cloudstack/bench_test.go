package cloudstack_test

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// BenchmarkDeploy1000VMs32Clients deploys 1,000 Micro VMs to Running with
// 32 concurrent cloudstack-go v2.19.0 async clients; one op is all 1,000.
// Target: ≤ 2 s per op.
func BenchmarkDeploy1000VMs32Clients(b *testing.B) {
	const vms, clients = 1000, 32
	var cpu time.Duration
	defer func() { b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op") }()
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
		c0 := cpuTime()
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
		cpu += cpuTime() - c0
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
	// the API's own latency: a signed GET, the whole body read
	b.Run("http", func(b *testing.B) {
		u := srv.URL + "?" + signed(map[string]string{"command": "listVirtualMachines", "response": "json", "page": "3", "pagesize": "500"}, srv.APIKey, srv.SecretKey)
		c := srv.HTTP.Client()
		b.ReportAllocs()
		b.ResetTimer()
		c0 := cpuTime()
		defer func() { b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op") }()
		for i := 0; i < b.N; i++ {
			resp, err := c.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || n < 500*1000 {
				b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
			}
		}
	})
	// as the SDK sees it, including its (slow) decoding of 500 VMs
	b.Run("sdk", func(b *testing.B) {
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
	})
}

// cpuTime is the process's user+system CPU time so far: benchmarks report
// it per op, a figure that does not depend on how busy the machine is.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
