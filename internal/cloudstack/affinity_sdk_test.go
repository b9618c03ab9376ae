package cloudstack_test

import (
	"strings"
	"testing"

	"github.com/apache/cloudstack-go/v2/cloudstack"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
)

// TestSDKAffinityGroups drives affinity groups with cloudstack-go: VMs of
// a host anti-affinity group land on distinct hosts until none is left
// (the next deploy fails), VMs of a host affinity group share a host, an
// unknown group name is refused, and a group in use cannot be deleted.
func TestSDKAffinityGroups(t *testing.T) {
	srv := cstest.Start(t, cstest.Options{})
	e := setup(t, srv)
	cs := e.cs
	types, err := cs.AffinityGroup.ListAffinityGroupTypes(cs.AffinityGroup.NewListAffinityGroupTypesParams())
	if err != nil || types.Count != 2 {
		t.Fatalf("listAffinityGroupTypes: %v %+v", err, types)
	}
	if _, err := cs.AffinityGroup.CreateAffinityGroup(cs.AffinityGroup.NewCreateAffinityGroupParams("spread", "host anti-affinity")); err != nil {
		t.Fatalf("createAffinityGroup: %v", err)
	}
	if _, err := cs.AffinityGroup.CreateAffinityGroup(cs.AffinityGroup.NewCreateAffinityGroupParams("pack", "host affinity")); err != nil {
		t.Fatalf("createAffinityGroup: %v", err)
	}
	deploy := func(group string) (string, string, error) {
		dp := cs.VirtualMachine.NewDeployVirtualMachineParams(e.micro, e.template, e.advZone)
		dp.SetAffinitygroupnames([]string{group})
		vm, err := cs.VirtualMachine.DeployVirtualMachine(dp)
		if err != nil {
			return "", "", err
		}
		return vm.Id, vm.Hostid, nil
	}
	hosts, err := cs.Host.ListHosts(func() *cloudstack.ListHostsParams {
		p := cs.Host.NewListHostsParams()
		p.SetZoneid(e.advZone)
		return p
	}())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var spread string
	for i := 0; i < hosts.Count; i++ {
		id, h, err := deploy("spread")
		if err != nil {
			t.Fatalf("anti-affinity deploy %d: %v", i, err)
		}
		if seen[h] {
			t.Fatalf("anti-affinity: two VMs on host %s", h)
		}
		seen[h], spread = true, id
	}
	if _, _, err := deploy("spread"); err == nil || !strings.Contains(err.Error(), "Unable to create a deployment") {
		t.Fatalf("anti-affinity past the hosts: %v", err)
	}
	_, h1, err := deploy("pack")
	if err != nil {
		t.Fatal(err)
	}
	_, h2, err := deploy("pack")
	if err != nil || h1 != h2 {
		t.Fatalf("affinity: %v, hosts %s and %s", err, h1, h2)
	}
	if _, _, err := deploy("doesnotexist"); err == nil || !strings.Contains(err.Error(), "Unable to find affinity group by name doesnotexist") {
		t.Fatalf("unknown group: %v", err)
	}
	lp := cs.AffinityGroup.NewListAffinityGroupsParams()
	lp.SetVirtualmachineid(spread)
	if l, err := cs.AffinityGroup.ListAffinityGroups(lp); err != nil || l.Count != 1 || l.AffinityGroups[0].Name != "spread" {
		t.Fatalf("listAffinityGroups by VM: %v %+v", err, l)
	}
	dp := cs.AffinityGroup.NewDeleteAffinityGroupParams()
	dp.SetName("spread")
	if _, err := cs.AffinityGroup.DeleteAffinityGroup(dp); err == nil {
		t.Fatal("a group in use was deleted")
	}
}
