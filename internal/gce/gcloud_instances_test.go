package gce

import (
	"testing"
)

// TestGcloudInstanceSettings drives the instance methods beyond the life
// cycle with the real gcloud: set-machine-type (only when stopped),
// disks resize (never smaller), deletion protection (delete refused),
// set-scheduling (the fields given change, the others stay), suspend and
// resume, and an instance on a network other than default.
func TestGcloudInstanceSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	const zone = "sandbox-simulator-a"
	g := newGcloud(t, e, zone)
	defer func() { t.Logf("%d gcloud invocations", g.runs) }()

	g.ok("compute", "instances", "create", "vm1", "--machine-type", "e2-small")
	g.fails("Instance should be in the STOPPED state", "compute", "instances", "set-machine-type", "vm1", "--machine-type", "e2-standard-2")
	g.ok("compute", "instances", "stop", "vm1")
	g.fails("does not exist in zone", "compute", "instances", "set-machine-type", "vm1", "--machine-type", "n9-nosuch-2")
	g.ok("compute", "instances", "set-machine-type", "vm1", "--machine-type", "e2-standard-2")
	mustContain(t, "machine type", g.ok("compute", "instances", "describe", "vm1", "--format=value(machineType.basename(),status)"), "e2-standard-2\tTERMINATED")
	g.ok("compute", "instances", "start", "vm1")

	// The boot disk grows; it never shrinks.
	g.ok("compute", "disks", "resize", "vm1", "--size", "30GB")
	mustContain(t, "boot disk", g.ok("compute", "disks", "describe", "vm1", "--format=value(sizeGb)"), "30")
	mustContain(t, "instance disk", g.ok("compute", "instances", "describe", "vm1", "--format=value(disks[0].diskSizeGb)"), "30")
	g.fails("must be larger than existing size", "compute", "disks", "resize", "vm1", "--size", "20GB")
	g.ok("compute", "disks", "create", "d1", "--size", "10GB")
	g.ok("compute", "disks", "resize", "d1", "--size", "25GB")
	mustContain(t, "data disk", g.ok("compute", "disks", "describe", "d1", "--format=value(sizeGb)"), "25")
	g.fails("was not found", "compute", "disks", "resize", "nosuch", "--size", "25GB")

	g.ok("compute", "instances", "update", "vm1", "--deletion-protection")
	mustContain(t, "protected", g.ok("compute", "instances", "describe", "vm1", "--format=value(deletionProtection)"), "True")
	g.fails("Resource cannot be deleted if it's protected against deletion", "compute", "instances", "delete", "vm1", "--quiet")
	g.ok("compute", "instances", "update", "vm1", "--no-deletion-protection")

	g.ok("compute", "instances", "set-scheduling", "vm1", "--maintenance-policy", "TERMINATE")
	mustContain(t, "scheduling", g.ok("compute", "instances", "describe", "vm1", "--format=value(scheduling.onHostMaintenance,scheduling.automaticRestart)"), "TERMINATE\tTrue")
	g.ok("compute", "instances", "set-scheduling", "vm1", "--no-restart-on-failure")
	mustContain(t, "scheduling kept", g.ok("compute", "instances", "describe", "vm1", "--format=value(scheduling.onHostMaintenance,scheduling.automaticRestart)"), "TERMINATE\tFalse")
	g.fails("Instance should be in the STOPPED state", "compute", "instances", "set-scheduling", "vm1", "--preemptible")

	g.fails("Instance should be in the SUSPENDED state", "compute", "instances", "resume", "vm1")
	g.ok("compute", "instances", "suspend", "vm1")
	mustContain(t, "suspended", g.ok("compute", "instances", "describe", "vm1", "--format=value(status,lastSuspendedTimestamp)"), "SUSPENDED\t20")
	g.fails("Instance should be in the RUNNING state", "compute", "instances", "suspend", "vm1")
	g.ok("compute", "instances", "resume", "vm1")
	mustContain(t, "resumed", g.ok("compute", "instances", "describe", "vm1", "--format=value(status)"), "RUNNING")

	// Another network, by --network and by --subnet.
	g.ok("compute", "networks", "create", "net1", "--subnet-mode", "auto")
	g.ok("compute", "instances", "create", "vm2", "--network", "net1")
	g.ok("compute", "instances", "create", "vm3", "--subnet", "net1")
	for _, vm := range []string{"vm2", "vm3"} {
		mustContain(t, vm+" network", g.ok("compute", "instances", "describe", vm, "--format=value(networkInterfaces[0].network.basename(),networkInterfaces[0].subnetwork.basename())"), "net1\tnet1")
	}
	mustContain(t, "vm1 network", g.ok("compute", "instances", "describe", "vm1", "--format=value(networkInterfaces[0].network.basename())"), "default")
	g.fails("The referenced network resource cannot be found", "compute", "instances", "create", "vm4", "--network", "nope")
	g.fails("is already being used by", "compute", "networks", "delete", "net1", "--quiet")

	g.ok("compute", "instances", "delete", "vm1", "vm2", "vm3", "--quiet")
	g.ok("compute", "disks", "delete", "d1", "--quiet")
	g.ok("compute", "networks", "delete", "net1", "--quiet")
}
