package gce

import (
	"context"
	"strings"
	"testing"

	compute "google.golang.org/api/compute/v1"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// TestGoClientAccessConfigs: addAccessConfig is CloudStack static NAT of
// an acquired address (given back by deleteAccessConfig) or of a reserved
// one (which stays reserved).
func TestGoClientAccessConfigs(t *testing.T) {
	f := newLBFixture(t, "vm1")
	svc, p, zone, region := f.svc, f.p, f.zone, f.region
	ipsBefore := f.publicIPs()
	natOf := func() []string {
		t.Helper()
		ips, err := f.cs.ListPublicIPs(context.Background(), csclient.Params("isstaticnat", "true"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ip := range ips {
			out = append(out, ip.IPAddress+"→"+ip.VirtualMachineName)
		}
		return out
	}

	f.zoneOp(svc.Instances.AddAccessConfig(p, zone, "vm1", "nic0", &compute.AccessConfig{Name: "my-nat", Type: "ONE_TO_ONE_NAT"}).Do())
	inst, err := svc.Instances.Get(p, zone, "vm1").Do()
	if err != nil || len(inst.NetworkInterfaces[0].AccessConfigs) != 1 || inst.NetworkInterfaces[0].AccessConfigs[0].NatIP == "" ||
		inst.NetworkInterfaces[0].AccessConfigs[0].Name != "my-nat" {
		t.Fatalf("after addAccessConfig: %v %+v", err, inst.NetworkInterfaces)
	}
	nat := inst.NetworkInterfaces[0].AccessConfigs[0].NatIP
	if got := natOf(); strings.Join(got, ",") != nat+"→vm1" {
		t.Fatalf("static NAT: %v", got)
	}
	_, err = svc.Instances.AddAccessConfig(p, zone, "vm1", "nic0", &compute.AccessConfig{Type: "ONE_TO_ONE_NAT"}).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.Instances.DeleteAccessConfig(p, zone, "vm1", "external-nat", "nic0").Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.Instances.AddAccessConfig(p, zone, "vm1", "nic1", &compute.AccessConfig{}).Do()
	wantAPIError(t, err, 400, "invalid")
	f.zoneOp(svc.Instances.DeleteAccessConfig(p, zone, "vm1", "my-nat", "nic0").Do())
	inst, err = svc.Instances.Get(p, zone, "vm1").Do()
	if err != nil || len(inst.NetworkInterfaces[0].AccessConfigs) != 0 {
		t.Fatalf("after deleteAccessConfig: %v %+v", err, inst.NetworkInterfaces[0].AccessConfigs)
	}
	if got := natOf(); len(got) != 0 {
		t.Fatalf("static NAT after delete: %v", got)
	}
	if n := f.publicIPs(); n != ipsBefore {
		t.Fatalf("public IPs %d, before %d", n, ipsBefore)
	}

	// A reserved address: IN_USE while it is the instance's, RESERVED after.
	f.regionOp(svc.Addresses.Insert(p, region, &compute.Address{Name: "ip1"}).Do())
	addr, err := svc.Addresses.Get(p, region, "ip1").Do()
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Instances.AddAccessConfig(p, zone, "vm1", "nic0", &compute.AccessConfig{NatIP: "203.0.113.99"}).Do()
	wantAPIError(t, err, 400, "invalid")
	f.zoneOp(svc.Instances.AddAccessConfig(p, zone, "vm1", "nic0", &compute.AccessConfig{NatIP: addr.Address}).Do())
	if a, err := svc.Addresses.Get(p, region, "ip1").Do(); err != nil || a.Status != "IN_USE" {
		t.Fatalf("address with access config: %v %+v", err, a)
	}
	inst, err = svc.Instances.Get(p, zone, "vm1").Do()
	if err != nil || inst.NetworkInterfaces[0].AccessConfigs[0].NatIP != addr.Address {
		t.Fatalf("instance on reserved address: %v %+v", err, inst.NetworkInterfaces[0].AccessConfigs)
	}
	f.zoneOp(svc.Instances.DeleteAccessConfig(p, zone, "vm1", "external-nat", "nic0").Do())
	if a, err := svc.Addresses.Get(p, region, "ip1").Do(); err != nil || a.Status != "RESERVED" {
		t.Fatalf("address after deleteAccessConfig: %v %+v", err, a)
	}
}
