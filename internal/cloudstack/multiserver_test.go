package cloudstack_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/etcd"
	"github.com/stratus-cloud/stratus/internal/store/etcd/etcdtest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// One etcd for the test binary, started by the first test that needs it.
var (
	sharedEtcd   etcdtest.Shared
	etcdPrefixes atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	sharedEtcd.Stop()
	os.Exit(code)
}

// multiDC has room for exactly 32 VMs of offering m (4 hosts × 8) and 99
// guest addresses, so concurrent deploys through two servers run it full.
const multiDC = `
admin: {username: admin, password: password}
simulator:
  timings: {start: 300ms}
zones:
  - name: z1
    networkType: Basic
    securityGroups: true
    pods:
      - name: p1
        gateway: 172.16.0.1
        netmask: 255.255.255.0
        startIp: 172.16.0.2
        endIp: 172.16.0.20
        guestIpRanges: [{gateway: 10.0.0.1, netmask: 255.255.255.0, startIp: 10.0.0.2, endIp: 10.0.0.100}]
        clusters:
          - name: c1
            hosts: [{name: h, count: 4, cpus: 8, cpuSpeed: 1000, memory: 8192}]
serviceOfferings:
  - {name: m, cpus: 1, cpuSpeed: 1000, memory: 1024}
osTypes: [{description: Other, category: Other}]
templates: [{name: t1, osType: Other, size: 1}]
`

// sharedStores are the backends two servers can share in a test.
var sharedStores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memory", func(t *testing.T) store.Store {
		st := memory.New(memory.Options{})
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
	{"etcd", func(t *testing.T) store.Store {
		srv := sharedEtcd.Get(t)
		st, err := etcd.New(context.Background(), etcd.Options{
			Endpoints: srv.Endpoints,
			Prefix:    fmt.Sprintf("/cloudstack-test-%d-%d/", os.Getpid(), etcdPrefixes.Add(1)),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
}

// twoServers starts two CloudStack servers (two simulators) on one store.
func twoServers(t *testing.T, st store.Store, dcYAML string) [2]*cstest.Server {
	t.Helper()
	var srvs [2]*cstest.Server
	for i := range srvs {
		dc, err := cloud.ParseDatacenter([]byte(dcYAML))
		if err != nil {
			t.Fatal(err)
		}
		srvs[i] = cstest.Start(t, cstest.Options{Datacenter: dc, Store: st, ID: fmt.Sprintf("server-%d", i)})
	}
	if srvs[0].APIKey != srvs[1].APIKey {
		t.Fatal("the servers seeded two data centers")
	}
	return srvs
}

type multiIDs struct{ zone, so, tpl string }

func lookupIDs(t *testing.T, cs *cloudstack.CloudStackClient) multiIDs {
	t.Helper()
	zone, _, err := cs.Zone.GetZoneID("z1")
	if err != nil {
		t.Fatal(err)
	}
	so, _, err := cs.ServiceOffering.GetServiceOfferingID("m")
	if err != nil {
		t.Fatal(err)
	}
	tpl, _, err := cs.Template.GetTemplateID("t1", "executable", zone)
	if err != nil {
		t.Fatal(err)
	}
	return multiIDs{zone, so, tpl}
}

// TestTwoServersDeployConcurrently runs 48 deploys at once, half through
// each server, into a data center with room for 32: exactly 32 run, the
// others fail with the capacity error, no host is oversubscribed, no
// address or instance name is handed out twice, and no client sees a
// conflict (530) that the other server caused.
func TestTwoServersDeployConcurrently(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) {
			srvs := twoServers(t, tc.open(t), multiDC)
			const perServer, clientsPerServer = 24, 8
			ids := lookupIDs(t, cloudstack.NewClient(srvs[0].URL, srvs[0].APIKey, srvs[0].SecretKey, false))

			var running, full atomic.Int64
			var mu sync.Mutex
			var other []string
			var wg sync.WaitGroup
			for _, srv := range srvs {
				var next atomic.Int64
				for range clientsPerServer {
					wg.Add(1)
					go func() {
						defer wg.Done()
						cs := cloudstack.NewAsyncClient(srv.URL, srv.APIKey, srv.SecretKey, false)
						for next.Add(1) <= perServer {
							vm, err := cs.VirtualMachine.DeployVirtualMachine(cs.VirtualMachine.NewDeployVirtualMachineParams(ids.so, ids.tpl, ids.zone))
							switch {
							case err == nil && vm.State == "Running":
								running.Add(1)
							case err != nil && strings.Contains(err.Error(), `"errorcode":533`) &&
								strings.Contains(err.Error(), "Unable to create a deployment for VM"):
								full.Add(1)
							default:
								mu.Lock()
								other = append(other, fmt.Sprintf("%v (vm %+v)", err, vm))
								mu.Unlock()
							}
						}
					}()
				}
			}
			wg.Wait()
			if len(other) > 0 {
				t.Fatalf("%d deploys failed otherwise, first: %s", len(other), other[0])
			}
			if running.Load() != 32 || full.Load() != 2*perServer-32 {
				t.Fatalf("%d running and %d refused for capacity, want 32 and %d", running.Load(), full.Load(), 2*perServer-32)
			}

			for i, srv := range srvs {
				cs := cloudstack.NewClient(srv.URL, srv.APIKey, srv.SecretKey, false)
				list, err := cs.VirtualMachine.ListVirtualMachines(cs.VirtualMachine.NewListVirtualMachinesParams())
				if err != nil || list.Count != 2*perServer {
					t.Fatalf("server %d lists %v VMs: %v", i, list, err)
				}
				ips, names := map[string]bool{}, map[string]bool{}
				states := map[string]int{}
				for _, vm := range list.VirtualMachines {
					states[vm.State]++
					if names[vm.Instancename] {
						t.Errorf("server %d: instance name %s twice", i, vm.Instancename)
					}
					names[vm.Instancename] = true
					for _, nic := range vm.Nic {
						if ips[nic.Ipaddress] {
							t.Errorf("server %d: address %s twice", i, nic.Ipaddress)
						}
						ips[nic.Ipaddress] = true
					}
				}
				if states["Running"] != 32 || states["Error"] != 2*perServer-32 {
					t.Errorf("server %d: states %v", i, states)
				}
				hosts, err := cs.Host.ListHosts(cs.Host.NewListHostsParams())
				if err != nil || hosts.Count != 4 {
					t.Fatalf("server %d: hosts %v %v", i, hosts, err)
				}
				var used int64
				for _, h := range hosts.Hosts {
					if h.Memoryallocated > h.Memorytotal || h.Cpuallocatedvalue > int64(h.Cpunumber)*h.Cpuspeed {
						t.Errorf("server %d: host %s oversubscribed: memory %d of %d, cpu %d", i, h.Name, h.Memoryallocated, h.Memorytotal, h.Cpuallocatedvalue)
					}
					used += h.Memoryallocated
				}
				if used != 32*1024<<20 {
					t.Errorf("server %d: %d bytes allocated, want %d", i, used, 32*1024<<20)
				}
			}
		})
	}
}

// TestTwoServersShareVMsAndJobs: what one server starts, the other one
// answers for: its job, its VM's list entry, stop and destroy.
func TestTwoServersShareVMsAndJobs(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) {
			srvs := twoServers(t, tc.open(t), multiDC)
			a := cloudstack.NewClient(srvs[0].URL, srvs[0].APIKey, srvs[0].SecretKey, false)
			b := cloudstack.NewClient(srvs[1].URL, srvs[1].APIKey, srvs[1].SecretKey, false)
			ids := lookupIDs(t, a)

			// A's job (still starting: start takes 300 ms) is polled on B.
			p := a.VirtualMachine.NewDeployVirtualMachineParams(ids.so, ids.tpl, ids.zone)
			p.SetName("shared")
			dep, err := a.VirtualMachine.DeployVirtualMachine(p)
			if err != nil || dep.JobID == "" || dep.Id == "" {
				t.Fatalf("deploy on A: %v %+v", err, dep)
			}
			q, err := b.Asyncjob.QueryAsyncJobResult(b.Asyncjob.NewQueryAsyncJobResultParams(dep.JobID))
			if err != nil || q.Jobstatus != 0 || q.Cmd == "" {
				t.Fatalf("B's first answer about A's job: %v %+v", err, q)
			}
			raw, err := b.GetAsyncJobResult(dep.JobID, 30)
			if err != nil || !strings.Contains(string(raw), `"Running"`) {
				t.Fatalf("B's final answer about A's job: %v %s", err, raw)
			}

			// B lists A's VM at once, and stops it.
			lp := b.VirtualMachine.NewListVirtualMachinesParams()
			lp.SetId(dep.Id)
			list, err := b.VirtualMachine.ListVirtualMachines(lp)
			if err != nil || list.Count != 1 || list.VirtualMachines[0].State != "Running" || list.VirtualMachines[0].Name != "shared" {
				t.Fatalf("B lists A's VM: %v %+v", err, list)
			}
			stop, err := b.VirtualMachine.StopVirtualMachine(b.VirtualMachine.NewStopVirtualMachineParams(dep.Id))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.GetAsyncJobResult(stop.JobID, 30); err != nil {
				t.Fatalf("A's answer about B's stop job: %v", err)
			}
			lp = a.VirtualMachine.NewListVirtualMachinesParams()
			lp.SetId(dep.Id)
			if list, err := a.VirtualMachine.ListVirtualMachines(lp); err != nil || list.Count != 1 || list.VirtualMachines[0].State != "Stopped" {
				t.Fatalf("A after B's stop: %v %+v", err, list)
			}
			ip := list.VirtualMachines[0].Nic[0].Ipaddress

			// A destroys (and expunges) it; B no longer has it and can give
			// its address to a new VM at once.
			dp := a.VirtualMachine.NewDestroyVirtualMachineParams(dep.Id)
			dp.SetExpunge(true)
			des, err := a.VirtualMachine.DestroyVirtualMachine(dp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.GetAsyncJobResult(des.JobID, 30); err != nil {
				t.Fatalf("B's answer about A's destroy job: %v", err)
			}
			lp = b.VirtualMachine.NewListVirtualMachinesParams()
			lp.SetId(dep.Id)
			// as on a real server, an expunged VM's id lists nothing
			if l, err := b.VirtualMachine.ListVirtualMachines(lp); err != nil || l.Count != 0 {
				t.Fatalf("B lists the expunged VM: %v %+v", err, l)
			}
			if list, err := b.VirtualMachine.ListVirtualMachines(b.VirtualMachine.NewListVirtualMachinesParams()); err != nil || list.Count != 0 {
				t.Fatalf("B lists VMs after the expunge: %v %+v", err, list)
			}
			p = b.VirtualMachine.NewDeployVirtualMachineParams(ids.so, ids.tpl, ids.zone)
			p.SetIpaddress(ip)
			p.SetName("shared")
			again, err := b.VirtualMachine.DeployVirtualMachine(p)
			if err != nil {
				t.Fatalf("B reuses the name and address %s: %v", ip, err)
			}
			if _, err := a.GetAsyncJobResult(again.JobID, 30); err != nil {
				t.Fatalf("A's answer about B's deploy: %v", err)
			}
		})
	}
}

// TestTwoServersSeedOnce: two servers starting at the same moment on an
// empty store seed one data center between them.
func TestTwoServersSeedOnce(t *testing.T) {
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	dc, err := cloud.ParseDatacenter([]byte(multiDC))
	if err != nil {
		t.Fatal(err)
	}
	sims := make([]*cloud.Sim, 4)
	errs := make([]error, len(sims))
	var wg sync.WaitGroup
	for i := range sims {
		sims[i], err = cloud.New(context.Background(), cloud.Options{Store: st, Datacenter: dc, ID: fmt.Sprint(i), Log: testenv.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = sims[i].Start(context.Background()) }()
	}
	wg.Wait()
	for i, s := range sims {
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i, errs[i])
		}
		t.Cleanup(func() { _ = s.Stop(context.Background()) })
	}
	for i, s := range sims {
		if err := s.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		var zones, hosts int
		s.Read(func(r cloud.Reader) { zones, hosts = len(r.Zones()), len(r.Hosts()) })
		if zones != 1 || hosts != 4 {
			t.Errorf("server %d sees %d zones and %d hosts, want 1 and 4", i, zones, hosts)
		}
	}
	n, err := st.Count(context.Background(), "/cloud/zones/")
	if err != nil || n != 1 {
		t.Fatalf("%d zones stored: %v", n, err)
	}
}

// deployAtOnce sends n deploys (not started VMs), made by deploy, at the
// same moment, and returns how many succeeded; each failure must carry
// every one of wantErr.
func deployAtOnce(t *testing.T, n int, deploy func(i int) (*cloudstack.CloudStackClient, *cloudstack.DeployVirtualMachineParams), wantErr ...string) int {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		cs, p := deploy(i)
		p.SetStartvm(false)
		wg.Go(func() {
			<-start
			_, errs[i] = cs.VirtualMachine.DeployVirtualMachine(p)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		for _, w := range wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("deploy: %v, want an error with %q", err, w)
			}
		}
	}
	return ok
}

// TestTwoServersOneName: the same VM name deployed through both servers at
// once is given to one VM; the other deploy gets CloudStack's answer for a
// taken name.
func TestTwoServersOneName(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) {
			srvs := twoServers(t, tc.open(t), multiDC)
			ids := lookupIDs(t, cloudstack.NewClient(srvs[0].URL, srvs[0].APIKey, srvs[0].SecretKey, false))
			for round := range 10 {
				name := fmt.Sprintf("web%d", round)
				// three clients on each server, all at once
				ok := deployAtOnce(t, 3*len(srvs), func(i int) (*cloudstack.CloudStackClient, *cloudstack.DeployVirtualMachineParams) {
					srv := srvs[i%len(srvs)]
					cs := cloudstack.NewClient(srv.URL, srv.APIKey, srv.SecretKey, false)
					p := cs.VirtualMachine.NewDeployVirtualMachineParams(ids.so, ids.tpl, ids.zone)
					p.SetName(name)
					return cs, p
				}, "CloudStack API error 431", "already exists")
				if ok != 1 {
					t.Errorf("%s: %d deploys succeeded, want 1", name, ok)
				}
			}
		})
	}
}

// TestTwoServersOneLimit: an account limited to 3 VMs deploys 8 at once,
// half through each server: 3 are admitted, the others get 532. The
// account and its keys, made on one server, work on the other at once.
func TestTwoServersOneLimit(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) {
			srvs := twoServers(t, tc.open(t), multiDC)
			admin := cloudstack.NewClient(srvs[0].URL, srvs[0].APIKey, srvs[0].SecretKey, false)
			ids := lookupIDs(t, admin)
			ap := admin.Account.NewCreateAccountParams("dana@example.com", "Dana", "Last", "secret-dana", "dana")
			ap.SetAccounttype(0)
			acc, err := admin.Account.CreateAccount(ap)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := admin.User.RegisterUserKeys(admin.User.NewRegisterUserKeysParams(acc.User[0].Id))
			if err != nil {
				t.Fatal(err)
			}
			up := admin.Limit.NewUpdateResourceLimitParams(0)
			up.SetAccount("dana")
			up.SetDomainid(acc.Domainid)
			up.SetMax(3)
			if _, err := admin.Limit.UpdateResourceLimit(up); err != nil {
				t.Fatal(err)
			}
			ok := deployAtOnce(t, 8, func(i int) (*cloudstack.CloudStackClient, *cloudstack.DeployVirtualMachineParams) {
				srv := srvs[(i+1)%len(srvs)] // the first on the other server
				cs := cloudstack.NewClient(srv.URL, keys.Apikey, keys.Secretkey, false)
				return cs, cs.VirtualMachine.NewDeployVirtualMachineParams(ids.so, ids.tpl, ids.zone)
			}, "CloudStack API error 532", "user_vm")
			if ok != 3 {
				t.Errorf("%d deploys admitted, want 3", ok)
			}
		})
	}
}
