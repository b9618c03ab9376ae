package cloudinit

import (
	"context"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// fakeCloud answers listVirtualMachines from a list (user data only when
// asked for, by id, as the real API does).
type fakeCloud struct {
	mu     sync.Mutex
	vms    []csclient.VirtualMachine
	events []csclient.Event // VM.REBOOT events, newest first
}

func (c *fakeCloud) ListEvents(_ context.Context, q url.Values) ([]csclient.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []csclient.Event
	for _, e := range c.events {
		if e.Type == q.Get("type") {
			out = append(out, e)
		}
	}
	return out, nil
}

func (c *fakeCloud) reboot(eventID, vmID string) { c.event(eventID, "VM.REBOOT", vmID) }

func (c *fakeCloud) event(eventID, typ, vmID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append([]csclient.Event{{ID: eventID, Type: typ, ResourceID: vmID, ResourceType: "VirtualMachine"}}, c.events...)
}

func (c *fakeCloud) ListVirtualMachines(_ context.Context, q url.Values) ([]csclient.VirtualMachine, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []csclient.VirtualMachine
	for _, vm := range c.vms {
		if id := q.Get("id"); id != "" && id != vm.ID {
			continue
		}
		if q.Get("userdata") != "true" {
			vm.UserData = nil
		}
		out = append(out, vm)
	}
	return out, nil
}

type fakePool struct {
	mu       sync.Mutex
	nodes    map[string]agent.NodeSpec
	restarts []string
}

func (p *fakePool) RestartNode(_ context.Context, name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.restarts = append(p.restarts, name)
	return nil
}

func (p *fakePool) AddNode(_ context.Context, s agent.NodeSpec) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nodes[s.Name] = s
	return nil
}

func (p *fakePool) RemoveNode(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.nodes[name]
	delete(p.nodes, name)
	return ok
}

// TestFollowerSync: Running VMs that join become nodes with their VM's
// attributes; a wrong token or server joins nothing and says why; a VM
// without a join line stays a VM; a stopped or vanished VM loses its node.
func TestFollowerSync(t *testing.T) {
	vm := func(id, name, ud string) csclient.VirtualMachine {
		u := base64.StdEncoding.EncodeToString([]byte(ud))
		return csclient.VirtualMachine{ID: id, Name: name, State: "Running", ZoneName: "z1", ServiceOfferingName: "Medium",
			CPUNumber: 2, Memory: 4096, PublicIP: "192.0.2.9", UserData: &u,
			Nic: []csclient.Nic{{IPAddress: "10.1.1.4", IsDefault: true}}}
	}
	const good = "#!/bin/sh\nstratus agent --server https://127.0.0.1:6443 --token T\n"
	cloud := &fakeCloud{vms: []csclient.VirtualMachine{
		vm("1", "Web-1", good),
		vm("2", "bad-token", "#!/bin/sh\nstratus agent --server https://127.0.0.1:6443 --token X\n"),
		vm("3", "bad-server", "#!/bin/sh\nstratus agent --server https://10.9.9.9:6443 --token T\n"),
		vm("4", "plain", "#!/bin/sh\necho hi\n"),
		vm("5", "web-2", good),
	}}
	pool := &fakePool{nodes: map[string]agent.NodeSpec{}}
	reg := prometheus.NewRegistry()
	cons := &fakeConsole{m: map[string]string{}}
	f, err := New(Options{CloudStack: cloud, Pool: pool, Console: cons, Servers: []string{"https://localhost:6443"}, Token: "T", Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 { // the second pass joins nothing again
		if err := f.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(pool.nodes) != 2 {
		t.Fatalf("nodes %v, want web-1 and web-2", pool.nodes)
	}
	n := pool.nodes["web-1"]
	if n.ProviderID != "cloudstack://z1/1" || n.InternalIP != "10.1.1.4" || len(n.Addresses) != 1 || n.Addresses[0].Address != "192.0.2.9" ||
		n.Capacity.Cpu().Value() != 2 || n.Capacity.Memory().Value() != 4<<30 || n.Labels["node.kubernetes.io/instance-type"] != "Medium" ||
		n.Labels["topology.kubernetes.io/zone"] != "z1" || n.Labels["topology.kubernetes.io/region"] != "Local" {
		t.Fatalf("web-1: %+v", n)
	}
	for id, want := range map[string]string{
		"2": "stratus agent: the API server refused the token: Unauthorized (401)",
		"3": "stratus agent: cannot reach the API server at https://10.9.9.9:6443",
		"4": "", "1": "",
	} {
		if got := f.Failure(id); got != want {
			t.Errorf("VM %s: failure %q, want %q", id, got, want)
		}
		// the console shows the command (token hidden) and its outcome,
		// once: the second pass is the same boot
		con := cons.m[id]
		switch {
		case id == "4":
			if con != "" {
				t.Errorf("VM 4 (no join line): console %q", con)
			}
		case want != "" && strings.Count(con, want) != 1,
			want == "" && strings.Count(con, "node web-1 registered") != 1,
			!strings.Contains(con, "runcmd: stratus agent --server https://") || !strings.Contains(con, "--token <redacted>"),
			strings.Contains(con, "--token T"), strings.Contains(con, "--token X"):
			t.Errorf("VM %s: console\n%s", id, con)
		}
	}
	if got := joins(t, reg, "joined"); got != 2 {
		t.Errorf("joined %v", got)
	}
	if got := joins(t, reg, "refused"); got != 2 {
		t.Errorf("refused %v", got)
	}

	cloud.mu.Lock()
	cloud.vms[0].State = "Stopped"
	cloud.vms = cloud.vms[:4] // web-2 expunged
	cloud.mu.Unlock()
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pool.nodes) != 0 {
		t.Fatalf("nodes after stop and expunge: %v", pool.nodes)
	}
	cloud.mu.Lock()
	cloud.vms[0].State = "Running"
	cloud.mu.Unlock()
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := pool.nodes["web-1"]; !ok {
		t.Fatal("a started VM did not join again")
	}
}

// joins reads stratus_cloudinit_joins_total{result} from the registry.
func joins(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "stratus_cloudinit_joins_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// fakeConsole keeps what was written to each VM's console (boots run
// side by side).
type fakeConsole struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *fakeConsole) WriteConsole(id, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] += text
}

// TestFollowerReboots: a reboot or an HA restart leaves a VM Running, so
// the follower reads VM.REBOOT and HA.VM.RESTART events: a joined VM's
// reboot restarts its node once; reboots
// from before the follower's first look, and of VMs that are not nodes,
// restart nothing.
func TestFollowerReboots(t *testing.T) {
	u := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\nstratus agent --server https://127.0.0.1:6443 --token T\n"))
	plain := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n"))
	cloud := &fakeCloud{vms: []csclient.VirtualMachine{
		{ID: "1", Name: "web-1", State: "Running", ZoneName: "z1", CPUNumber: 1, Memory: 512, UserData: &u},
		{ID: "2", Name: "plain", State: "Running", ZoneName: "z1", CPUNumber: 1, Memory: 512, UserData: &plain},
	}}
	cloud.reboot("old", "1") // before the follower started
	pool := &fakePool{nodes: map[string]agent.NodeSpec{}}
	cons := &fakeConsole{m: map[string]string{}}
	f, err := New(Options{CloudStack: cloud, Pool: pool, Console: cons, Servers: []string{"https://127.0.0.1:6443"}, Token: "T"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, step := range []struct {
		name   string
		reboot []string // VM ids rebooted before the pass
		want   []string // restarts so far
	}{
		{"join; an old reboot is history", nil, nil},
		{"web-1 reboots", []string{"1"}, []string{"web-1"}},
		{"nothing new", nil, []string{"web-1"}},
		{"a VM that is no node reboots", []string{"2"}, []string{"web-1"}},
		{"web-1 reboots again", []string{"1"}, []string{"web-1", "web-1"}},
		{"HA restarts web-1 on another host", []string{"ha:1"}, []string{"web-1", "web-1", "web-1"}},
	} {
		for i, id := range step.reboot {
			if vm, ok := strings.CutPrefix(id, "ha:"); ok {
				cloud.event(step.name+string(rune('a'+i)), "HA.VM.RESTART", vm)
			} else {
				cloud.reboot(step.name+string(rune('a'+i)), id)
			}
		}
		if err := f.Sync(ctx); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if !slices.Equal(pool.restarts, step.want) {
			t.Fatalf("%s: restarts %v, want %v", step.name, pool.restarts, step.want)
		}
	}
	if !strings.Contains(cons.m["1"], "reboot: the machine restarted") || strings.Contains(cons.m["2"], "reboot") {
		t.Errorf("consoles: %q", cons.m)
	}
}
