package cloudinit

import (
	"context"
	"encoding/base64"
	"net/url"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// fakeCloud answers listVirtualMachines from a list (user data only when
// asked for, by id, as the real API does).
type fakeCloud struct {
	mu  sync.Mutex
	vms []csclient.VirtualMachine
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
	mu    sync.Mutex
	nodes map[string]agent.NodeSpec
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
	f, err := New(Options{CloudStack: cloud, Pool: pool, Servers: []string{"https://localhost:6443"}, Token: "T", Metrics: reg})
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
