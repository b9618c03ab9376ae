package gce

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"

	"golang.org/x/oauth2"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// service is Google's own Go client pointed at the gateway.
func (e *testEnv) service(t testing.TB, token string) *compute.Service {
	t.Helper()
	svc, err := compute.NewService(context.Background(), option.WithEndpoint(e.srv.URL+"/compute/v1/"),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// wantAPIError checks a client error's HTTP code and reason.
func wantAPIError(t *testing.T, err error, code int, reason string) {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("want googleapi.Error %d %s, got %v", code, reason, err)
	}
	if ge.Code != code || len(ge.Errors) == 0 || ge.Errors[0].Reason != reason {
		t.Fatalf("want %d %s, got %d %+v", code, reason, ge.Code, ge.Errors)
	}
}

// waitOp waits for a zonal or global operation with the client's wait call.
func waitOp(t *testing.T, svc *compute.Service, project string, op *compute.Operation) *compute.Operation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for op.Status != "DONE" {
		var err error
		if op.Zone != "" {
			op, err = svc.ZoneOperations.Wait(project, lastSegment(op.Zone), op.Name).Context(ctx).Do()
		} else {
			op, err = svc.GlobalOperations.Wait(project, op.Name).Context(ctx).Do()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if op.Error != nil {
		t.Fatalf("operation %s failed: %+v", op.Name, op.Error.Errors[0])
	}
	return op
}

func TestGoClientCatalog(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p := e.project

	zones, err := svc.Zones.List(p).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(zones.Items) != 2 || zones.Items[0].Name != "sandbox-simulator-a" || zones.Items[0].Status != "UP" {
		t.Fatalf("zones: %+v", zones.Items)
	}
	for _, z := range zones.Items {
		if !strings.HasPrefix(z.SelfLink, e.srv.URL+"/compute/v1/projects/"+p+"/zones/") {
			t.Fatalf("selfLink %q", z.SelfLink)
		}
	}
	regions, err := svc.Regions.List(p).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(regions.Items) != 2 || len(regions.Items[0].Quotas) == 0 {
		t.Fatalf("regions: %+v", regions.Items)
	}
	mts, err := svc.MachineTypes.List(p, "sandbox-simulator-a").Do()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*compute.MachineType{}
	for _, mt := range mts.Items {
		byName[mt.Name] = mt
	}
	// The offerings, and GCE's common predefined types beside them.
	if s := byName["small"]; s == nil || s.GuestCpus != 1 || s.MemoryMb != 2048 || len(mts.Items) != 8+len(listedPredefined) {
		t.Fatalf("machine types: %d, small %+v", len(mts.Items), s)
	}
	if n1 := byName["n1-standard-1"]; n1 == nil || n1.GuestCpus != 1 || n1.MemoryMb != 3840 {
		t.Fatalf("n1-standard-1 listed as %+v", n1)
	}
	mt, err := svc.MachineTypes.Get(p, "sandbox-simulator-a", "medium").Do()
	if err != nil || mt.GuestCpus != 2 {
		t.Fatalf("machine type medium: %+v %v", mt, err)
	}
	// GCE's predefined types are describable with GCE's sizes; n9 is no
	// family of GCE's.
	for _, tc := range []struct {
		name      string
		cpus, mem int64
	}{{"n1-standard-1", 1, 3840}, {"e2-medium", 2, 4096}, {"n2-highmem-4", 4, 32768}} {
		mt, err := svc.MachineTypes.Get(p, "sandbox-simulator-a", tc.name).Do()
		if err != nil || mt.GuestCpus != tc.cpus || mt.MemoryMb != tc.mem || mt.Name != tc.name || !strings.Contains(mt.Description, "offering") {
			t.Fatalf("machine type %s: %+v %v", tc.name, mt, err)
		}
	}
	_, err = svc.MachineTypes.Get(p, "sandbox-simulator-a", "n9-bogus-1").Do()
	wantAPIError(t, err, 404, "notFound")
	agg, err := svc.MachineTypes.AggregatedList(p).Do()
	if err != nil || len(agg.Items["zones/sandbox-simulator-basic-a"].MachineTypes) != 8+len(listedPredefined) {
		t.Fatalf("aggregated machine types: %v %v", agg, err)
	}
	imgs, err := svc.Images.List("debian-cloud").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs.Items) != 1 || imgs.Items[0].Family != "debian-12" || imgs.Items[0].Status != "READY" {
		for _, im := range imgs.Items {
			t.Logf("%s %s %s", im.Name, im.Family, im.SelfLink)
		}
		t.Fatalf("debian-cloud images: %d", len(imgs.Items))
	}
	fam, err := svc.Images.GetFromFamily("ubuntu-os-cloud", "ubuntu-2204-lts").Do()
	if err != nil || fam.Name != "ubuntu-22-04" {
		t.Fatalf("ubuntu family: %+v %v", fam, err)
	}
	for project, want := range map[string]string{"centos-cloud": "centos-7", "fedora-coreos-cloud": "fedora-coreos", "ubuntu-os-cloud": "ubuntu-24-04"} {
		l, err := svc.Images.List(project).Do()
		if err != nil || !slices.ContainsFunc(l.Items, func(im *compute.Image) bool { return im.Name == want }) {
			t.Fatalf("images of %s: want %s: %v", project, want, err)
		}
	}
	proj, err := svc.Projects.Get(p).Do()
	if err != nil || proj.Name != p || proj.DefaultServiceAccount == "" {
		t.Fatalf("project: %+v %v", proj, err)
	}
	// Filters the server must honour, in both syntaxes.
	for filter, want := range map[string]int{
		`name eq ".*basic.*"`:                                                1,
		`name ne ".*basic.*"`:                                                1,
		`(status eq UP)(name eq "sandbox-simulator-a")`:                      1,
		`name = "sandbox-simulator-a" OR name = "sandbox-simulator-basic-a"`: 2,
		`status != UP`:                                                       0,
	} {
		l, err := svc.Zones.List(p).Filter(filter).Do()
		if err != nil || len(l.Items) != want {
			t.Errorf("filter %s: %d items, %v (want %d)", filter, len(l.Items), err, want)
		}
	}
	// Page tokens.
	page, err := svc.MachineTypes.List(p, "sandbox-simulator-a").MaxResults(2).Do()
	if err != nil || len(page.Items) != 2 || page.NextPageToken == "" {
		t.Fatalf("page 1: %v %v", page, err)
	}
	page2, err := svc.MachineTypes.List(p, "sandbox-simulator-a").MaxResults(500).PageToken(page.NextPageToken).Do()
	if err != nil || len(page2.Items) != 6+len(listedPredefined) || page2.NextPageToken != "" || page2.Items[len(page2.Items)-1].Name != "tiny" {
		t.Fatalf("page 2: %v %v", page2, err)
	}
	_, err = svc.Zones.List(p).PageToken("garbage").Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.Zones.List(p).Filter(`name eq "(`).Do()
	wantAPIError(t, err, 400, "invalid")
}

func TestGoClientAuth(t *testing.T) {
	e := newRealEnv(t)
	_, err := e.service(t, "not-a-token").Zones.List(e.project).Do()
	wantAPIError(t, err, 401, "authError")
	_, err = e.service(t, e.token).Zones.List("someone-else").Do()
	wantAPIError(t, err, 403, "forbidden")
	// No header at all.
	resp, err := http.Get(e.srv.URL + "/compute/v1/projects/" + e.project + "/zones")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
}

func TestGoClientFirewalls(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p := e.project
	op, err := svc.Firewalls.Insert(p, &compute.Firewall{Name: "web", Network: "global/networks/default",
		Allowed:      []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"80", "8000-8100"}}, {IPProtocol: "icmp"}},
		SourceRanges: []string{"10.0.0.0/8"}, TargetTags: []string{"web"}, Priority: 900}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.OperationType != "insert" || !strings.HasSuffix(op.TargetLink, "/global/firewalls/web") {
		t.Fatalf("op: %+v", op)
	}
	waitOp(t, svc, p, op)
	fw, err := svc.Firewalls.Get(p, "web").Do()
	if err != nil {
		t.Fatal(err)
	}
	if fw.Priority != 900 || fw.Direction != "INGRESS" || len(fw.Allowed) != 2 || strings.Join(fw.Allowed[0].Ports, ",") != "80,8000-8100" ||
		fw.Allowed[1].IPProtocol != "icmp" || strings.Join(fw.SourceRanges, ",") != "10.0.0.0/8" || fw.TargetTags[0] != "web" {
		t.Fatalf("firewall: %+v allowed %+v", fw, fw.Allowed[0])
	}
	_, err = svc.Firewalls.Insert(p, &compute.Firewall{Name: "web", Allowed: []*compute.FirewallAllowed{{IPProtocol: "tcp"}}}).Do()
	wantAPIError(t, err, 409, "alreadyExists")
	_, err = svc.Firewalls.Insert(p, &compute.Firewall{Name: "Bad_Name", Allowed: []*compute.FirewallAllowed{{IPProtocol: "tcp"}}}).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.Firewalls.Insert(p, &compute.Firewall{Name: "ports", Allowed: []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"70000"}}}}).Do()
	wantAPIError(t, err, 400, "invalid")

	op, err = svc.Firewalls.Patch(p, "web", &compute.Firewall{SourceRanges: []string{"192.168.0.0/16"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, svc, p, op)
	fw, _ = svc.Firewalls.Get(p, "web").Do()
	if strings.Join(fw.SourceRanges, ",") != "192.168.0.0/16" || len(fw.Allowed) != 2 {
		t.Fatalf("patched: %+v", fw)
	}
	op, err = svc.Firewalls.Update(p, "web", &compute.Firewall{Name: "web", Allowed: []*compute.FirewallAllowed{{IPProtocol: "udp", Ports: []string{"53"}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, svc, p, op)
	fw, _ = svc.Firewalls.Get(p, "web").Do()
	if len(fw.Allowed) != 1 || fw.Allowed[0].IPProtocol != "udp" || fw.SourceRanges[0] != "0.0.0.0/0" || fw.Priority != 1000 {
		t.Fatalf("updated: %+v", fw)
	}
	list, err := svc.Firewalls.List(p).Filter(`name eq web`).Do()
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	op, err = svc.Firewalls.Delete(p, "web").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, svc, p, op)
	_, err = svc.Firewalls.Get(p, "web").Do()
	wantAPIError(t, err, 404, "notFound")
}

func TestGoClientInstances(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p, zone := e.project, "sandbox-simulator-a"
	ud := "#cloud-config\nruncmd:\n - echo hi\n"
	inst := &compute.Instance{Name: "vm1", MachineType: "zones/" + zone + "/machineTypes/n1-standard-1",
		Disks: []*compute.AttachedDisk{{Boot: true, AutoDelete: true, InitializeParams: &compute.AttachedDiskInitializeParams{
			SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}},
		NetworkInterfaces: []*compute.NetworkInterface{{Network: "global/networks/default",
			AccessConfigs: []*compute.AccessConfig{{Name: "external-nat", Type: "ONE_TO_ONE_NAT"}}}},
		Metadata: &compute.Metadata{Items: []*compute.MetadataItems{{Key: "user-data", Value: &ud}, {Key: "foo", Value: googleapi.String("bar")}}},
		Labels:   map[string]string{"env": "dev"}, Tags: &compute.Tags{Items: []string{"web"}}}
	op, err := svc.Instances.Insert(p, zone, inst).Do()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(op.Zone, "/zones/"+zone) || op.OperationType != "insert" {
		t.Fatalf("insert op: %+v", op)
	}
	waitOp(t, svc, p, op)
	got, err := svc.Instances.Get(p, zone, "vm1").Do()
	if err != nil {
		t.Fatal(err)
	}
	// The instance keeps the predefined type it was asked for (it runs on
	// the offering that type maps to), and that type is describable.
	if got.Status != "RUNNING" || !strings.HasSuffix(got.MachineType, "/machineTypes/n1-standard-1") || got.Labels["env"] != "dev" ||
		got.Tags.Items[0] != "web" || len(got.Metadata.Items) != 2 || *got.Metadata.Items[0].Value != ud || got.NetworkInterfaces[0].NetworkIP == "" ||
		got.NetworkInterfaces[0].AccessConfigs[0].NatIP == "" {
		t.Fatalf("instance: %+v", got)
	}
	_, err = svc.Instances.Insert(p, zone, inst).Do()
	wantAPIError(t, err, 409, "alreadyExists")

	for _, step := range []struct {
		do   func(...googleapi.CallOption) (*compute.Operation, error)
		want string
	}{
		{svc.Instances.Stop(p, zone, "vm1").Do, "TERMINATED"},
		{svc.Instances.Start(p, zone, "vm1").Do, "RUNNING"},
		{svc.Instances.Reset(p, zone, "vm1").Do, "RUNNING"},
	} {
		op, err := step.do()
		if err != nil {
			t.Fatal(err)
		}
		waitOp(t, svc, p, op)
		got, _ := svc.Instances.Get(p, zone, "vm1").Do()
		if got.Status != step.want {
			t.Fatalf("after %s: %s", op.OperationType, got.Status)
		}
	}
	// setMetadata checks the fingerprint.
	got, _ = svc.Instances.Get(p, zone, "vm1").Do()
	_, err = svc.Instances.SetMetadata(p, zone, "vm1", &compute.Metadata{Fingerprint: "stale", Items: nil}).Do()
	wantAPIError(t, err, 412, "conditionNotMet")
	items := append(got.Metadata.Items, &compute.MetadataItems{Key: "k", Value: googleapi.String("v")})
	op, err = svc.Instances.SetMetadata(p, zone, "vm1", &compute.Metadata{Fingerprint: got.Metadata.Fingerprint, Items: items}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, svc, p, op)
	op, err = svc.Instances.SetLabels(p, zone, "vm1", &compute.InstancesSetLabelsRequest{LabelFingerprint: got.LabelFingerprint, Labels: map[string]string{"env": "prod"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, svc, p, op)
	got, _ = svc.Instances.Get(p, zone, "vm1").Do()
	if len(got.Metadata.Items) != 3 || got.Labels["env"] != "prod" {
		t.Fatalf("after set: %+v %+v", got.Metadata.Items, got.Labels)
	}
	out, err := svc.Instances.GetSerialPortOutput(p, zone, "vm1").Do()
	if err != nil || !strings.Contains(out.Contents, "vm1 login:") || out.Next != int64(len(out.Contents)) {
		t.Fatalf("serial: %+v %v", out, err)
	}
	list, err := svc.Instances.List(p, zone).Do()
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	agg, err := svc.Instances.AggregatedList(p).Do()
	if err != nil || len(agg.Items["zones/"+zone].Instances) != 1 || agg.Items["zones/sandbox-simulator-basic-a"].Warning == nil {
		t.Fatalf("aggregated: %+v %v", agg, err)
	}
	disks, err := svc.Disks.List(p, zone).Do()
	if err != nil || len(disks.Items) != 1 || disks.Items[0].Name != "vm1" || disks.Items[0].SizeGb < 1 || len(disks.Items[0].Users) != 1 {
		t.Fatalf("disks: %+v %v", disks, err)
	}
	ops, err := svc.ZoneOperations.List(p, zone).Do()
	if err != nil || len(ops.Items) < 6 {
		t.Fatalf("operations: %v %v", ops, err)
	}
	one, err := svc.ZoneOperations.Get(p, zone, ops.Items[0].Name).Do()
	if err != nil || one.Status != "DONE" || one.Progress != 100 {
		t.Fatalf("operation get: %+v %v", one, err)
	}
	aggOps, err := svc.GlobalOperations.AggregatedList(p).Do()
	if err != nil || len(aggOps.Items["zones/"+zone].Operations) != len(ops.Items) {
		t.Fatalf("aggregated operations: %v %v", aggOps, err)
	}
	op, err = svc.Instances.Delete(p, zone, "vm1").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, svc, p, op)
	_, err = svc.Instances.Get(p, zone, "vm1").Do()
	wantAPIError(t, err, 404, "notFound")
	// The instance's external address went back to CloudStack.
	var ips struct {
		IPs []struct {
			IsStaticNAT bool `json:"isstaticnat"`
		} `json:"publicipaddress"`
	}
	cs := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil)
	if err := cs.Do(context.Background(), "listPublicIpAddresses", nil, &ips); err != nil || len(ips.IPs) != 1 || ips.IPs[0].IsStaticNAT {
		t.Fatalf("public IPs after delete: %+v %v", ips, err)
	}
	_, err = svc.Instances.Get(p, "no-such-zone", "vm1").Do()
	wantAPIError(t, err, 404, "notFound")
}

func TestGoClientCapacityFailure(t *testing.T) {
	dc, err := cloud.LoadDatacenter("")
	if err != nil {
		t.Fatal(err)
	}
	// Hosts too small for the "huge" offering.
	for ci := range dc.Zones[0].Pods[0].Clusters {
		for hi := range dc.Zones[0].Pods[0].Clusters[ci].Hosts {
			h := &dc.Zones[0].Pods[0].Clusters[ci].Hosts[hi]
			h.CPUs, h.Memory = 4, 8192
		}
	}
	cs := cstest.Start(t, cstest.Options{Datacenter: dc})
	e := newEnv(t, cs.URL, cs.APIKey, cs.SecretKey, cs.HTTP.Client())
	svc := e.service(t, e.token)
	op, err := svc.Instances.Insert(e.project, "sandbox-simulator-a", &compute.Instance{Name: "big", MachineType: "zones/sandbox-simulator-a/machineTypes/huge",
		Disks: []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/debian-12"}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	op, err = svc.ZoneOperations.Wait(e.project, "sandbox-simulator-a", op.Name).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != "DONE" || op.Error == nil || op.Error.Errors[0].Code != "ZONE_RESOURCE_POOL_EXHAUSTED" || op.HttpErrorStatusCode != 503 {
		t.Fatalf("op: %+v %+v", op, op.Error)
	}
	_, err = svc.Instances.Get(e.project, "sandbox-simulator-a", "big").Do()
	wantAPIError(t, err, 404, "notFound")
}

func TestDefaultZone(t *testing.T) {
	e := newRealEnv(t)
	z, err := e.gw.DefaultZone(context.Background())
	if err != nil || z != "sandbox-simulator-a" {
		t.Fatalf("DefaultZone = %q, %v", z, err)
	}
}

// TestProjectsAreAccounts: a second CloudStack account is a second
// project; each token reaches only its own.
func TestProjectsAreAccounts(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	admin := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil)
	key, secret := newAccount(t, admin, "alice", "")
	tok, project, err := e.gw.IssueToken(ctx, key, secret)
	if err != nil || project != "alice" {
		t.Fatalf("IssueToken: %q %v", project, err)
	}
	alice := e.service(t, tok)
	_, err = alice.Instances.AggregatedList(e.project).Do()
	wantAPIError(t, err, 403, "forbidden")
	_, err = e.service(t, e.token).Projects.Get("alice").Do()
	wantAPIError(t, err, 403, "forbidden")
	op, err := alice.Instances.Insert("alice", "sandbox-simulator-basic-a", &compute.Instance{Name: "hers", MachineType: "zones/sandbox-simulator-basic-a/machineTypes/micro",
		Disks: []*compute.AttachedDisk{{Boot: true, InitializeParams: &compute.AttachedDiskInitializeParams{SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, alice, "alice", op)
	mine, err := e.service(t, e.token).Instances.AggregatedList(e.project).Do()
	if err != nil {
		t.Fatal(err)
	}
	for scope, l := range mine.Items {
		if len(l.Instances) > 0 {
			t.Fatalf("admin's project sees %s in %s", l.Instances[0].Name, scope)
		}
	}
	hers, err := alice.Instances.List("alice", "sandbox-simulator-basic-a").Do()
	if err != nil || len(hers.Items) != 1 {
		t.Fatalf("alice's instances: %v %v", hers, err)
	}
	// A wrong secret gets no token.
	if _, _, err := e.gw.IssueToken(ctx, key, "wrong"); err == nil {
		t.Fatal("IssueToken accepted a wrong secret")
	}
}
