package gce

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// TestGcloudInstanceGroups drives instance templates and a zonal managed
// instance group with the real gcloud: templates create/list/describe/
// delete (refused while a group uses one), groups create, resize up and
// down, list-instances, recreate-instances, list and delete, and the
// group making again a VM destroyed behind its back through CloudStack.
func TestGcloudInstanceGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute or more")
	}
	e := newRealEnv(t)
	e.gw.opts.GroupInterval = 200 * time.Millisecond
	if err := e.gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.gw.Stop(context.Background()) })
	const zone = "sandbox-simulator-a"
	g := newGcloud(t, e, zone)
	defer func() { t.Logf("%d gcloud invocations", g.runs) }()

	g.ok("compute", "instance-templates", "create", "t1", "--machine-type", "e2-small", "--labels", "app=web", "--tags", "web")
	g.fails("already exists", "compute", "instance-templates", "create", "t1", "--machine-type", "e2-small")
	g.fails("does not exist", "compute", "instance-templates", "create", "t2", "--machine-type", "n9-nosuch-2")
	mustContain(t, "templates list", g.ok("compute", "instance-templates", "list", "--format=value(name,properties.machineType)"), "t1\te2-small")
	if _, stderr, err := g.run("compute", "instance-templates", "list"); err != nil || strings.Contains(stderr, "WARNING") {
		t.Fatalf("instance-templates list: %v\n%s", err, stderr)
	}
	mustContain(t, "templates describe", g.ok("compute", "instance-templates", "describe", "t1"), "kind: compute#instanceTemplate", "app: web", "machineType: e2-small")

	// An instance of its own from the template.
	g.ok("compute", "instances", "create", "solo", "--source-instance-template", "t1")
	mustContain(t, "instance from template", g.ok("compute", "instances", "describe", "solo", "--format=value(machineType.basename(),labels.app)"), "e2-small\tweb")
	g.ok("compute", "instances", "delete", "solo", "--quiet")

	g.ok("compute", "instance-groups", "managed", "create", "g1", "--template", "t1", "--size", "2")
	g.fails("already exists", "compute", "instance-groups", "managed", "create", "g1", "--template", "t1", "--size", "2")
	g.fails("was not found", "compute", "instance-groups", "managed", "create", "g2", "--template", "nosuch", "--size", "1")
	members := waitMembers(t, g, "g1", 2)
	for _, m := range members {
		if !strings.HasPrefix(m, "g1-") || len(m) != len("g1-abcd") {
			t.Fatalf("member name %q", m)
		}
	}
	mustContain(t, "member instance", g.ok("compute", "instances", "describe", members[0], "--format=value(machineType.basename(),labels.app,tags.items[0])"), "e2-small\tweb\tweb")
	mustContain(t, "groups list", g.ok("compute", "instance-groups", "managed", "list", "--format=value(name,baseInstanceName,size,targetSize,instanceTemplate.basename())"), "g1\tg1\t2\t2\tt1")
	if _, stderr, err := g.run("compute", "instance-groups", "managed", "list"); err != nil || strings.Contains(stderr, "WARNING") {
		t.Fatalf("managed list: %v\n%s", err, stderr)
	}
	mustContain(t, "groups describe", g.ok("compute", "instance-groups", "managed", "describe", "g1"), "kind: compute#instanceGroupManager", "targetSize: 2", "isStable: true")
	g.fails("is already being used by", "compute", "instance-templates", "delete", "t1", "--quiet")

	g.ok("compute", "instance-groups", "managed", "resize", "g1", "--size", "3")
	waitMembers(t, g, "g1", 3)
	g.ok("compute", "instance-groups", "managed", "resize", "g1", "--size", "1")
	members = waitMembers(t, g, "g1", 1)

	// Autohealing: the VM destroyed through CloudStack comes back, under
	// its name.
	cs := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, e.cs.HTTP.Client())
	vms, err := cs.ListVirtualMachines(context.Background(), csclient.Params("name", members[0]))
	if err != nil || len(vms) != 1 {
		t.Fatalf("the member's VM: %v %v", vms, err)
	}
	old := vms[0].ID
	if _, err := cs.Async(context.Background(), "destroyVirtualMachine", csclient.Params("id", old, "expunge", "true")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the destroyed member made again", func() bool {
		vms, err := cs.ListVirtualMachines(context.Background(), csclient.Params("name", members[0]))
		return err == nil && len(vms) == 1 && vms[0].ID != old && vms[0].State == "Running"
	})
	_ = waitMembers(t, g, "g1", 1)

	g.ok("compute", "instance-groups", "managed", "recreate-instances", "g1", "--instances", members[0])
	waitFor(t, "the recreated member", func() bool {
		out, _, err := g.run("compute", "instance-groups", "managed", "list-instances", "g1", "--format=value(name,instanceStatus,currentAction)")
		return err == nil && strings.TrimSpace(out) == members[0]+"\tRUNNING\tNONE"
	})

	g.ok("compute", "instance-groups", "managed", "delete", "g1", "--quiet")
	g.fails("was not found", "compute", "instance-groups", "managed", "describe", "g1")
	waitFor(t, "the group's instances gone", func() bool {
		out, _, err := g.run("compute", "instances", "list", "--format=value(name)")
		return err == nil && out == ""
	})
	g.ok("compute", "instance-templates", "delete", "t1", "--quiet")
	g.fails("was not found", "compute", "instance-templates", "describe", "t1")
}

// waitMembers waits until the group has n members, all running, and
// returns their names.
func waitMembers(t *testing.T, g *gcloudCLI, group string, n int) []string {
	t.Helper()
	var names []string
	last := ""
	defer func() { t.Logf("last list-instances: %s", last) }()
	waitFor(t, "group "+group+" at size "+strconv.Itoa(n), func() bool {
		out, _, err := g.run("compute", "instance-groups", "managed", "list-instances", group, "--format=value(name,instanceStatus,currentAction)")
		last = out
		if err != nil {
			return false
		}
		names = names[:0]
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 3 || f[1] != "RUNNING" || f[2] != "NONE" {
				return false
			}
			names = append(names, f[0])
		}
		return len(names) == n
	})
	return names
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestGcloudListsDoNotWarn runs gcloud's list commands of every resource
// the gateway serves: each answers (gcloud lists most of them with
// /aggregated/ and, on a 404, warns and prints nothing, exiting 0).
func TestGcloudListsDoNotWarn(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	g := newGcloud(t, e, "sandbox-simulator-a")
	g.ok("compute", "instance-templates", "create", "t1", "--machine-type", "e2-small")
	for _, args := range [][]string{
		{"instances"}, {"disks"}, {"disk-types"}, {"machine-types"}, {"addresses"}, {"snapshots"},
		{"networks"}, {"networks", "subnets"}, {"routes"}, {"firewall-rules"}, {"operations"},
		{"instance-templates"}, {"instance-groups"}, {"instance-groups", "managed"},
		{"target-pools"}, {"forwarding-rules"}, {"health-checks"}, {"http-health-checks"}, {"backend-services"},
	} {
		cmd := append(append([]string{"compute"}, args...), "list")
		out, stderr, err := g.run(cmd...)
		if err != nil || strings.Contains(stderr, "WARNING") || strings.Contains(stderr, "ERROR") {
			t.Errorf("gcloud %s: %v\n%s\n%s", strings.Join(cmd, " "), err, out, stderr)
		}
	}
}
