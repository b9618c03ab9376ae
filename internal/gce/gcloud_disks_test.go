package gce

import (
	"strings"
	"testing"
)

// TestGcloudDisks drives disks and snapshots with the real gcloud: disks
// create/list/describe/delete, instances attach-disk/detach-disk, disks
// snapshot, snapshots list/describe/delete and a disk from a snapshot,
// with GCE's refusals (alreadyExists, resourceInUseByAnotherResource,
// notFound).
func TestGcloudDisks(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	const zone = "sandbox-simulator-a"
	g := newGcloud(t, e, zone)
	defer func() { t.Logf("%d gcloud invocations", g.runs) }()

	g.ok("compute", "disks", "create", "d1", "--size", "10GB")
	mustContain(t, "disks list", g.ok("compute", "disks", "list", "--format=value(name,sizeGb,status)"), "d1\t10\tREADY")
	mustContain(t, "disks describe", g.ok("compute", "disks", "describe", "d1"), "name: d1", "sizeGb: '10'", "status: READY")
	g.fails("already exists", "compute", "disks", "create", "d1", "--size", "10GB")
	g.fails("was not found", "compute", "disks", "describe", "nosuch")

	g.ok("compute", "instances", "create", "vm1")
	g.ok("compute", "instances", "attach-disk", "vm1", "--disk", "d1")
	mustContain(t, "vm1 disks", g.ok("compute", "instances", "describe", "vm1", "--format=value(disks[].deviceName.list())"), "persistent-disk-0", "persistent-disk-1")
	mustContain(t, "d1 users", g.ok("compute", "disks", "describe", "d1", "--format=value(users.list())"), "/instances/vm1")
	g.fails("is already being used by", "compute", "disks", "delete", "d1", "--quiet")
	g.fails("is already being used by", "compute", "instances", "attach-disk", "vm1", "--disk", "d1")

	g.ok("compute", "disks", "snapshot", "d1", "--snapshot-names", "s1")
	mustContain(t, "snapshots list", g.ok("compute", "snapshots", "list", "--format=value(name,diskSizeGb,status)"), "s1\t10\tREADY")
	mustContain(t, "snapshots describe", g.ok("compute", "snapshots", "describe", "s1"), "sourceDisk:", "/disks/d1")

	g.ok("compute", "instances", "detach-disk", "vm1", "--disk", "d1")
	if out := g.ok("compute", "instances", "describe", "vm1", "--format=value(disks[].deviceName.list())"); out != "persistent-disk-0\n" {
		t.Fatalf("vm1 disks after detach: %q", out)
	}
	g.ok("compute", "disks", "create", "d2", "--source-snapshot", "s1")
	mustContain(t, "d2", g.ok("compute", "disks", "list", "--format=value(name,sizeGb)"), "d1\t10", "d2\t10")
	g.ok("compute", "snapshots", "delete", "s1", "--quiet")
	g.fails("was not found", "compute", "snapshots", "describe", "s1")
	g.ok("compute", "disks", "delete", "d1", "d2", "--quiet")
	out := g.ok("compute", "disks", "list", "--format=value(name)")
	if out != "vm1\n" {
		t.Fatalf("disks after delete: %q", out)
	}
	g.ok("compute", "instances", "delete", "vm1", "--quiet")
}

// TestGcloudAddressesAndNetworks reserves, lists, describes and releases
// an external address, and creates, lists and deletes a network, with the
// real gcloud.
func TestGcloudAddressesAndNetworks(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes half a minute")
	}
	e := newRealEnv(t)
	const zone = "sandbox-simulator-a"
	region := regionOf(zone)
	g := newGcloud(t, e, zone)
	g.ok("compute", "addresses", "create", "ip1", "--region", region)
	g.fails("already exists", "compute", "addresses", "create", "ip1", "--region", region)
	mustContain(t, "addresses list", g.ok("compute", "addresses", "list", "--format=value(name,status,addressType)"), "ip1\tRESERVED\tEXTERNAL")
	mustContain(t, "addresses describe", g.ok("compute", "addresses", "describe", "ip1", "--region", region), "name: ip1", "address: ")
	g.ok("compute", "addresses", "delete", "ip1", "--region", region, "--quiet")
	if out := g.ok("compute", "addresses", "list", "--format=value(name)"); out != "" {
		t.Fatalf("addresses after delete: %q", out)
	}

	g.ok("compute", "networks", "create", "net1", "--subnet-mode", "auto")
	g.fails("already exists", "compute", "networks", "create", "net1")
	if out := g.ok("compute", "networks", "list", "--format=value(name)"); out != "default\nnet1\n" {
		t.Fatalf("networks list: %q", out)
	}
	// Each network is in auto mode: a subnetwork per region, and GCE's
	// default routes.
	subnets := g.ok("compute", "networks", "subnets", "list", "--format=value(name,region.basename(),network.basename(),ipCidrRange)")
	mustContain(t, "subnets list", subnets, "default\t"+region+"\tdefault\t", "net1\t"+region+"\tnet1\t")
	mustContain(t, "subnets describe", g.ok("compute", "networks", "subnets", "describe", "net1", "--region", region),
		"kind: compute#subnetwork", "gatewayAddress: ", "purpose: PRIVATE")
	g.fails("was not found", "compute", "networks", "subnets", "describe", "nope", "--region", region)
	routes := g.ok("compute", "routes", "list", "--format=value(name,network.basename(),destRange,priority)")
	mustContain(t, "routes list", routes, "\tdefault\t0.0.0.0/0\t1000", "\tnet1\t0.0.0.0/0\t1000", "\tnet1\t10.")
	name := strings.Fields(routes)[0]
	mustContain(t, "routes describe", g.ok("compute", "routes", "describe", name), "name: "+name, "kind: compute#route")

	g.ok("compute", "networks", "delete", "net1", "--quiet")
	g.fails("was not found", "compute", "networks", "describe", "net1")
	if out := g.ok("compute", "networks", "subnets", "list", "--format=value(name)"); strings.Contains(out, "net1") {
		t.Errorf("a deleted network's subnetworks: %q", out)
	}
}

// TestGcloudDiskTypes lists GCE's disk types with the real gcloud and
// makes a disk of each kind the flag names: the type is kept and shown,
// and an unknown one is refused.
func TestGcloudDiskTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	const zone = "sandbox-simulator-a"
	g := newGcloud(t, e, zone)
	mustContain(t, "disk-types list", g.ok("compute", "disk-types", "list", "--filter", "zone:"+zone, "--format=value(name,validDiskSize)"),
		"pd-balanced\t10GB-65536GB", "pd-ssd\t10GB-65536GB", "pd-standard\t10GB-65536GB")
	mustContain(t, "disk-types describe", g.ok("compute", "disk-types", "describe", "pd-ssd"), "description: SSD Persistent Disk")
	g.ok("compute", "disks", "create", "fast", "--size", "10GB", "--type", "pd-ssd")
	g.ok("compute", "disks", "create", "plain", "--size", "10GB")
	mustContain(t, "fast", g.ok("compute", "disks", "describe", "fast", "--format=value(type.basename())"), "pd-ssd")
	mustContain(t, "plain", g.ok("compute", "disks", "describe", "plain", "--format=value(type.basename())"), "pd-standard")
	g.fails("is not valid", "compute", "disks", "create", "odd", "--size", "10GB", "--type", "pd-floppy")
	g.ok("compute", "disks", "delete", "fast", "plain", "--quiet")
}
