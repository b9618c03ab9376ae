package cloud

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

func TestVMTransitions(t *testing.T) {
	tests := []struct {
		from, to VMState
		ok       bool
	}{
		{VMStopped, VMStarting, true},
		{VMStarting, VMRunning, true},
		{VMRunning, VMStopping, true},
		{VMStopping, VMStopped, true},
		{VMStopped, VMDestroyed, true},
		{VMDestroyed, VMStopped, true},
		{VMDestroyed, VMExpunging, true},
		{VMRunning, VMDestroyed, false},
		{VMStopped, VMRunning, false},
		{VMExpunging, VMStopped, false},
		{VMError, VMRunning, false},
		{VMState("Bogus"), VMRunning, false},
	}
	for _, tc := range tests {
		if got := tc.from.CanMove(tc.to); got != tc.ok {
			t.Errorf("%s -> %s: %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
	for s := range vmTransitions {
		for _, n := range vmTransitions[s] {
			if !n.Valid() {
				t.Errorf("%s moves to unknown state %s", s, n)
			}
		}
	}
}

func TestDefaultDatacenter(t *testing.T) {
	dc, err := ParseDatacenter(DefaultDatacenterYAML())
	if err != nil {
		t.Fatal(err)
	}
	var basic, advanced bool
	var memMB, mhz int64
	for _, z := range dc.Zones {
		basic = basic || (z.NetworkType == "Basic" && z.SecurityGroups)
		advanced = advanced || z.NetworkType == "Advanced"
		for _, p := range z.Pods {
			for _, c := range p.Clusters {
				for _, h := range c.Hosts {
					if z.NetworkType == "Basic" {
						n := int64(max(h.Count, 1))
						memMB += n * h.Memory
						mhz += n * int64(h.CPUs*h.CPUSpeed)
					}
				}
			}
		}
	}
	if !basic || !advanced {
		t.Fatal("want a basic zone with security groups and an advanced zone")
	}
	var micro ServiceOfferingSpec
	names := map[string]bool{}
	for _, o := range dc.ServiceOfferings {
		names[o.Name] = true
		if o.Name == "Micro" {
			micro = o
		}
	}
	for _, n := range []string{"Micro", "Tiny", "Small", "Medium", "Large", "Extra-large", "Huge"} {
		if !names[n] {
			t.Errorf("offering %s missing", n)
		}
	}
	if memMB < 10000*int64(micro.Memory) || mhz < 10000*int64(micro.CPUs*micro.CPUSpeed) {
		t.Errorf("basic zone has room for fewer than 10,000 Micro VMs: %d MB, %d MHz", memMB, mhz)
	}
}

func TestDatacenterValidation(t *testing.T) {
	for name, y := range map[string]string{
		"no zones":      "admin: {username: a, password: b}\nserviceOfferings: [{name: x, cpus: 1, cpuSpeed: 1, memory: 1}]\n",
		"unknown field": "admin: {username: a, password: b}\nzonez: []\n",
		"bad fault":     smallDC + "simulator: {faults: [{command: StartCommand, value: 'result:explode'}]}\n",
		"bad range":     smallDCWithRange("10.0.0.9", "10.0.0.2"),
		"bad os type":   smallDC + "templates: [{name: t2, osType: Nope, size: 1}]\n",
		"node group zone": smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" +
			"nodeGroups: [{name: g, zone: z9, offering: big, template: t1, min: 0, max: 2}]\n",
		"node group offering": smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" +
			"nodeGroups: [{name: g, zone: z1, offering: small, template: t1, min: 0, max: 2}]\n",
		"node group template": smallDC + "nodeGroups: [{name: g, zone: z1, offering: big, template: t1, min: 0, max: 2}]\n",
		"node group sizes": smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" +
			"nodeGroups: [{name: g, zone: z1, offering: big, template: t1, min: 3, max: 2}]\n",
		"node group name": smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" +
			"nodeGroups: [{name: Big_Group, zone: z1, offering: big, template: t1, min: 0, max: 2}]\n",
		"node group twice": smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" +
			"nodeGroups: [{name: g, zone: z1, offering: big, template: t1, max: 2}, {name: g, zone: z1, offering: big, template: t1, max: 2}]\n",
		"node group field": smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" +
			"nodeGroups: [{name: g, zone: z1, offering: big, template: t1, max: 2, maxx: 3}]\n",
	} {
		if _, err := ParseDatacenter([]byte(y)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	dc, err := ParseDatacenter([]byte(smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n" +
		"nodeGroups: [{name: workers, zone: z1, offering: big, template: t1, min: 1, max: 4, securityGroups: [default]}]\n"))
	if err != nil {
		t.Fatalf("a valid node group: %v", err)
	}
	if g := dc.NodeGroups; len(g) != 1 || g[0].Name != "workers" || g[0].Min != 1 || g[0].Max != 4 || len(g[0].SecurityGroups) != 1 {
		t.Errorf("node groups %+v", g)
	}
}

const smallDC = `
admin: {username: admin, password: password}
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
        guestIpRanges: [{gateway: 10.0.0.1, netmask: 255.255.255.0, startIp: 10.0.0.2, endIp: 10.0.0.200}]
        clusters:
          - name: c1
            hosts: [{name: h, count: 2, cpus: 4, cpuSpeed: 1000, memory: 8192}]
serviceOfferings:
  - {name: big, cpus: 1, cpuSpeed: 1000, memory: 4096}
osTypes: [{description: Other, category: Other}]
`

func smallDCWithRange(start, end string) string {
	return `
admin: {username: admin, password: password}
zones:
  - name: z1
    networkType: Basic
    pods:
      - name: p1
        gateway: 172.16.0.1
        netmask: 255.255.255.0
        startIp: 172.16.0.2
        endIp: 172.16.0.20
        guestIpRanges: [{gateway: 10.0.0.1, netmask: 255.255.255.0, startIp: ` + start + `, endIp: ` + end + `}]
        clusters: []
serviceOfferings: [{name: big, cpus: 1, cpuSpeed: 1000, memory: 4096}]
`
}

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) pending() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.waiters) }

// waitPending waits until at least n timers wait on the clock and returns
// how many do.
func waitPending(t *testing.T, c *fakeClock, n int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.pending() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d timers wait on the clock, want %d", c.pending(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return c.pending()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func start(t *testing.T, st store.Store, y string, clock Clock) *Sim {
	t.Helper()
	return startWith(t, st, y, "", clock)
}

// startWith starts a simulator of data center y with server id on st.
func startWith(t *testing.T, st store.Store, y, id string, clock Clock) *Sim {
	t.Helper()
	dc, err := ParseDatacenter([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Options{Store: st, Datacenter: dc, Clock: clock, InlineWait: -1, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func ids(s *Sim) (zone, offering, template string) {
	s.Read(func(r Reader) {
		zone = r.Zones()[0].ID
		offering = r.ServiceOfferings()[0].ID
		template = r.Templates()[0].ID
	})
	return
}

func waitJob(t *testing.T, s *Sim, id string) *Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if j, err := s.Job(s.Admin(), id); err == nil && j.Status != JobPending {
			return j
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("job %s still pending", id)
	return nil
}

func vmState(s *Sim, id string) VMState {
	var st VMState
	s.Read(func(r Reader) {
		if vm, ok := r.VM(id); ok {
			st = vm.State
		}
	})
	return st
}

func TestTimedLifeCycleWithInjectedClock(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\nsimulator: {timings: {start: 30s, stop: 10s}}\n"
	s := start(t, memory.New(memory.Options{}), y, clock)
	// The expiry sweeps wait on the clock too: count only the VM's timers.
	base := waitPending(t, clock, 1)
	zone, so, tpl := ids(s)
	ctx := context.Background()
	vm, job, err := s.DeployVM(ctx, s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for clock.pending() == base && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := vmState(s, vm.ID); got != VMStarting {
		t.Fatalf("before the start time: %s", got)
	}
	clock.Advance(30 * time.Second)
	if j := waitJob(t, s, job.ID); j.Status != JobSucceeded || vmState(s, vm.ID) != VMRunning {
		t.Fatalf("after the start time: job %+v, vm %s", j, vmState(s, vm.ID))
	}
	stop, err := s.StopVM(ctx, s.Admin(), vm.ID, false, "stop")
	if err != nil {
		t.Fatal(err)
	}
	for clock.pending() == base && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := vmState(s, vm.ID); got != VMStopping {
		t.Fatalf("while stopping: %s", got)
	}
	clock.Advance(10 * time.Second)
	if j := waitJob(t, s, stop.ID); j.Status != JobSucceeded || vmState(s, vm.ID) != VMStopped {
		t.Fatalf("after stop: %+v %s", j, vmState(s, vm.ID))
	}
}

func TestConcurrentDeploysNeverOversubscribe(t *testing.T) {
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n"
	s := start(t, memory.New(memory.Options{}), y, nil)
	zone, so, tpl := ids(s)
	// two hosts of 8 GB, 4 GB VMs: exactly 4 fit
	var wg sync.WaitGroup
	jobs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, j, err := s.DeployVM(context.Background(), s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
			if err != nil {
				t.Error(err)
				return
			}
			jobs <- j.ID
		}()
	}
	wg.Wait()
	close(jobs)
	ok, failed := 0, 0
	for id := range jobs {
		j := waitJob(t, s, id)
		switch {
		case j.Status == JobSucceeded:
			ok++
		case j.ResultCode == CodeInsufficientCap:
			failed++
		default:
			t.Errorf("job %+v", j)
		}
	}
	if ok != 4 || failed != 16 {
		t.Fatalf("%d deployed, %d failed; want 4 and 16", ok, failed)
	}
	seen := map[string]bool{}
	s.Read(func(r Reader) {
		for _, h := range r.Hosts() {
			if h.UsedMemoryMB > h.MemoryMB || h.VMs != 2 {
				t.Errorf("host %s: %d/%d MB, %d VMs", h.Name, h.UsedMemoryMB, h.MemoryMB, h.VMs)
			}
		}
		for _, vm := range r.VMs() {
			for _, n := range vm.NICs {
				if seen[n.IP] {
					t.Errorf("address %s assigned twice", n.IP)
				}
				seen[n.IP] = true
			}
		}
	})
}

func TestStateSurvivesRestart(t *testing.T) {
	st := memory.New(memory.Options{})
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n"
	s1 := start(t, st, y, nil)
	key1, secret1, _ := s1.AdminKeys(context.Background())
	zone, so, tpl := ids(s1)
	vm, job, err := s1.DeployVM(context.Background(), s1.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s1, job.ID)
	_ = s1.Stop(context.Background())

	s2 := start(t, st, y, nil)
	key2, secret2, _ := s2.AdminKeys(context.Background())
	if key1 != key2 || secret1 != secret2 {
		t.Fatal("admin keys changed across a restart")
	}
	if vmState(s2, vm.ID) != VMRunning {
		t.Fatalf("VM after restart: %s", vmState(s2, vm.ID))
	}
	// the VM's address is still taken, the host capacity still used
	vm2, job2, err := s2.DeployVM(context.Background(), s2.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s2, job2.ID)
	if vm2.NICs[0].IP == vm.NICs[0].IP {
		t.Fatal("address reused after restart")
	}
	if c := s2.Capacity(zone); c.VMs != 2 || c.MemoryUsedMB != 8192 {
		t.Fatalf("capacity after restart: %+v", c)
	}
	var zones int
	s2.Read(func(r Reader) { zones = len(r.Zones()) })
	if zones != 1 {
		t.Fatalf("seeded twice: %d zones", zones)
	}
}

func TestErrorsMapToCloudStackCodes(t *testing.T) {
	s := start(t, memory.New(memory.Options{}), smallDC+"templates: [{name: t1, osType: Other, size: 1}]\n", nil)
	zone, so, tpl := ids(s)
	_, _, err := s.DeployVM(context.Background(), s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, UserData: "!!not base64"})
	if e := AsError(err); e.Code != CodeParamError || e.CSCode != CSInvalidParameter {
		t.Fatalf("bad user data: %+v", e)
	}
	_, _, err = s.DeployVM(context.Background(), s.Admin(), DeployRequest{ZoneID: newID(), ServiceOfferingID: so, TemplateID: tpl})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown zone: %v", err)
	}
	var n int
	s.Read(func(r Reader) { n = len(r.VMs()) })
	if n != 0 {
		t.Fatalf("failed deploys left %d VMs", n)
	}
}

// TestDeployIsOneCommit: a deploy whose start takes no time creates and
// starts the VM in one transaction, so it answers with its job complete
// (no client waits on a job poll) and costs one durable write; the
// events still say create, then start.
func TestDeployIsOneCommit(t *testing.T) {
	st := memory.New(memory.Options{})
	s := start(t, st, smallDC+"templates: [{name: t1, osType: Other, size: 1}]\n", nil)
	zone, so, tpl := ids(s)
	ctx := context.Background()
	rev0, err := st.Rev(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vm, job, err := s.DeployVM(ctx, s.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true, Name: "one"})
	if err != nil {
		t.Fatal(err)
	}
	rev1, err := st.Rev(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rev1 != rev0+1 {
		t.Errorf("the deploy took %d revisions, want 1", rev1-rev0)
	}
	if job.Status != JobSucceeded || vm.State != VMRunning || vm.HostID == "" || vm.JobID != "" || vmState(s, vm.ID) != VMRunning {
		t.Fatalf("job %+v, vm %+v", job, vm)
	}
	var types []string
	s.Read(func(r Reader) {
		for _, e := range r.Events() {
			if e.ResourceID == vm.ID {
				types = append(types, e.Type)
			}
		}
	})
	if !slices.Equal(types, []string{"VM.CREATE", "VM.START"}) {
		t.Errorf("events %v", types)
	}
}

// TestConsoleSurvivesRestart: what a VM's guest wrote to its console is
// kept in the store, so a simulator started again on it (a restart) shows
// it; an expunged VM's console is forgotten there too, and the kept text
// is bounded as the console is.
func TestConsoleSurvivesRestart(t *testing.T) {
	st := memory.New(memory.Options{})
	y := smallDC + "templates: [{name: t1, osType: Other, size: 1}]\n"
	s1 := start(t, st, y, nil)
	zone, so, tpl := ids(s1)
	ctx := context.Background()
	vm, _, err := s1.DeployVM(ctx, s1.Admin(), DeployRequest{ZoneID: zone, ServiceOfferingID: so, TemplateID: tpl, StartVM: true})
	if err != nil {
		t.Fatal(err)
	}
	s1.WriteConsole(vm.ID, "cloud-init[1024]: stratus agent: the API server refused the token: Unauthorized (401)\n")
	s1.WriteConsole(vm.ID, strings.Repeat("x", maxConsole)) // pushes the first line out: the bound holds
	s1.WriteConsole(vm.ID, "\nlast line\n")
	want, err := s1.ConsoleOutput(s1.Admin(), vm.ID)
	if err != nil || len(want) != maxConsole || !strings.HasSuffix(want, "last line\n") {
		t.Fatalf("console before the restart: %d bytes, %v", len(want), err)
	}
	if err := s1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, st, y, nil)
	if got, err := s2.ConsoleOutput(s2.Admin(), vm.ID); err != nil || got != want {
		t.Fatalf("console after the restart: %d bytes (want %d), %v", len(got), len(want), err)
	}

	// expunged, its console goes from the store at the next restart
	job, err := s2.DestroyVM(ctx, s2.Admin(), vm.ID, true, "destroy")
	if err != nil {
		t.Fatal(err)
	}
	if j := waitJob(t, s2, job.ID); j.Status != JobSucceeded {
		t.Fatalf("destroy: %+v", j)
	}
	if err := s2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s3 := start(t, st, y, nil)
	if err := s3.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := st.List(ctx, consolePrefix, store.ListOptions{}); err != nil || len(res.KVs) != 0 {
		t.Errorf("consoles kept after the VM was expunged: %v %v", res.KVs, err)
	}
}
