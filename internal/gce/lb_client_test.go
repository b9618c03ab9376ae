package gce

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	compute "google.golang.org/api/compute/v1"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// lbFixture is a project with instances in an Advanced zone, driven with
// Google's compute/v1 client, and the CloudStack behind it.
type lbFixture struct {
	t               *testing.T
	e               *testEnv
	svc             *compute.Service
	cs              *csclient.Client
	p, zone, region string
}

func newLBFixture(t *testing.T, instances ...string) *lbFixture {
	e := newRealEnv(t)
	f := &lbFixture{t: t, e: e, svc: e.service(t, e.token), cs: csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil),
		p: e.project, zone: "sandbox-simulator-a", region: "sandbox-simulator"}
	for _, name := range instances {
		f.zoneOp(f.svc.Instances.Insert(f.p, f.zone, &compute.Instance{Name: name, MachineType: "zones/" + f.zone + "/machineTypes/e2-small",
			Disks: []*compute.AttachedDisk{{Boot: true, AutoDelete: true, InitializeParams: &compute.AttachedDiskInitializeParams{
				SourceImage: "projects/debian-cloud/global/images/family/debian-12"}}},
			NetworkInterfaces: []*compute.NetworkInterface{{Network: "global/networks/default"}}}).Do())
	}
	return f
}

func (f *lbFixture) zoneOp(op *compute.Operation, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	waitOp(f.t, f.svc, f.p, op)
}

// regionOp waits for a regional operation and fails on its error.
func (f *lbFixture) regionOp(op *compute.Operation, err error) {
	f.t.Helper()
	op = mustRegionOp(f.t, f.svc, f.p)(op, err)
	if op.Error != nil {
		f.t.Fatalf("operation %s failed: %+v", op.Name, op.Error.Errors[0])
	}
}

func (f *lbFixture) instanceURL(name string) string {
	return f.e.srv.URL + "/compute/v1/projects/" + f.p + "/zones/" + f.zone + "/instances/" + name
}

// vmNames are the names of the VMs CloudStack has on a load balancer rule.
func (f *lbFixture) lbVMs(ruleID string) []string {
	f.t.Helper()
	vms, err := f.cs.ListLoadBalancerRuleInstances(context.Background(), csclient.Params("id", ruleID))
	if err != nil {
		f.t.Fatal(err)
	}
	var names []string
	for _, vm := range vms {
		names = append(names, vm.Name)
	}
	sort.Strings(names)
	return names
}

// lbRule is CloudStack's load balancer rule of a name.
func (f *lbFixture) lbRules() []csclient.LoadBalancerRule {
	f.t.Helper()
	rules, err := f.cs.ListLoadBalancerRules(context.Background(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return rules
}

// pingPaths are the ping paths of a rule's health check policies.
func (f *lbFixture) pingPaths(ruleID string) []string {
	f.t.Helper()
	var r struct {
		Policies []struct {
			HealthCheckPolicy []lbHealthPolicy `json:"healthcheckpolicy"`
		} `json:"healthcheckpolicies"`
	}
	if err := f.cs.Do(context.Background(), "listLBHealthCheckPolicies", csclient.Params("lbruleid", ruleID), &r); err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, ps := range r.Policies {
		for _, p := range ps.HealthCheckPolicy {
			out = append(out, p.PingPath)
		}
	}
	return out
}

func (f *lbFixture) publicIPs() int {
	f.t.Helper()
	ips, err := f.cs.ListPublicIPs(context.Background(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(ips)
}

// TestGoClientTargetPools: a target pool with a legacy HTTP health check,
// a forwarding rule to it, and the pool's changes, each seen on the
// CloudStack load balancer rule behind it (its VMs and health check
// policy); GCE's refusals change nothing.
func TestGoClientTargetPools(t *testing.T) {
	f := newLBFixture(t, "vm1", "vm2")
	svc, p, region := f.svc, f.p, f.region
	ipsBefore := f.publicIPs()

	waitOp(t, svc, p, mustOp(t)(svc.HttpHealthChecks.Insert(p, &compute.HttpHealthCheck{Name: "hc1", Port: 8080, RequestPath: "/healthz"}).Do()))
	hc, err := svc.HttpHealthChecks.Get(p, "hc1").Do()
	if err != nil || hc.Port != 8080 || hc.RequestPath != "/healthz" || hc.CheckIntervalSec != 5 || hc.TimeoutSec != 5 ||
		hc.HealthyThreshold != 2 || hc.UnhealthyThreshold != 2 || !strings.HasSuffix(hc.SelfLink, "/global/httpHealthChecks/hc1") {
		t.Fatalf("httpHealthChecks.get: %v %+v", err, hc)
	}
	hcURL := hc.SelfLink

	f.regionOp(svc.TargetPools.Insert(p, region, &compute.TargetPool{Name: "pool1", Instances: []string{f.instanceURL("vm1")},
		HealthChecks: []string{hcURL}}).Do())
	f.regionOp(svc.TargetPools.Insert(p, region, &compute.TargetPool{Name: "pool2", SessionAffinity: "CLIENT_IP"}).Do())
	pool, err := svc.TargetPools.Get(p, region, "pool1").Do()
	if err != nil || len(pool.Instances) != 1 || !strings.HasSuffix(pool.Instances[0], "/zones/"+f.zone+"/instances/vm1") ||
		len(pool.HealthChecks) != 1 || pool.SessionAffinity != "NONE" || !strings.HasSuffix(pool.Region, "/regions/"+region) {
		t.Fatalf("targetPools.get: %v %+v", err, pool)
	}

	f.regionOp(svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "fr1", IPProtocol: "TCP", PortRange: "80",
		Target: pool.SelfLink}).Do())
	fr, err := svc.ForwardingRules.Get(p, region, "fr1").Do()
	if err != nil || fr.IPAddress == "" || fr.PortRange != "80-80" || fr.Target != pool.SelfLink || fr.LoadBalancingScheme != "EXTERNAL" {
		t.Fatalf("forwardingRules.get: %v %+v", err, fr)
	}
	rules := f.lbRules()
	if len(rules) != 1 || rules[0].Name != "fr1" || rules[0].PublicIP != fr.IPAddress || rules[0].PublicPort != 80 || rules[0].PrivatePort != 80 {
		t.Fatalf("CloudStack rules: %+v", rules)
	}
	rule := rules[0].ID
	if got := f.lbVMs(rule); strings.Join(got, ",") != "vm1" {
		t.Fatalf("rule VMs: %v", got)
	}
	if got := f.pingPaths(rule); strings.Join(got, ",") != "/healthz" {
		t.Fatalf("rule health checks: %v", got)
	}

	f.regionOp(svc.TargetPools.AddInstance(p, region, "pool1", &compute.TargetPoolsAddInstanceRequest{
		Instances: []*compute.InstanceReference{{Instance: f.instanceURL("vm2")}}}).Do())
	if got := f.lbVMs(rule); strings.Join(got, ",") != "vm1,vm2" {
		t.Fatalf("rule VMs after addInstance: %v", got)
	}
	f.regionOp(svc.TargetPools.RemoveInstance(p, region, "pool1", &compute.TargetPoolsRemoveInstanceRequest{
		Instances: []*compute.InstanceReference{{Instance: f.instanceURL("vm1")}}}).Do())
	if got := f.lbVMs(rule); strings.Join(got, ",") != "vm2" {
		t.Fatalf("rule VMs after removeInstance: %v", got)
	}
	health, err := svc.TargetPools.GetHealth(p, region, "pool1", &compute.InstanceReference{Instance: f.instanceURL("vm2")}).Do()
	if err != nil || len(health.HealthStatus) != 1 || health.HealthStatus[0].HealthState != "HEALTHY" || health.HealthStatus[0].IpAddress != fr.IPAddress {
		t.Fatalf("getHealth: %v %+v", err, health)
	}

	f.regionOp(svc.TargetPools.RemoveHealthCheck(p, region, "pool1", &compute.TargetPoolsRemoveHealthCheckRequest{
		HealthChecks: []*compute.HealthCheckReference{{HealthCheck: hcURL}}}).Do())
	if got := f.pingPaths(rule); len(got) != 0 {
		t.Fatalf("rule health checks after removeHealthCheck: %v", got)
	}
	f.regionOp(svc.TargetPools.AddHealthCheck(p, region, "pool1", &compute.TargetPoolsAddHealthCheckRequest{
		HealthChecks: []*compute.HealthCheckReference{{HealthCheck: hcURL}}}).Do())
	if got := f.pingPaths(rule); strings.Join(got, ",") != "/healthz" {
		t.Fatalf("rule health checks after addHealthCheck: %v", got)
	}

	// Refusals, each changing nothing.
	for _, tc := range []struct {
		name   string
		call   func() error
		code   int
		reason string
	}{
		{"port range", func() error {
			_, err := svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "x", PortRange: "80-90", Target: pool.SelfLink}).Do()
			return err
		}, 400, "unsupported"},
		{"protocol", func() error {
			_, err := svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "x", IPProtocol: "ICMP", PortRange: "80", Target: pool.SelfLink}).Do()
			return err
		}, 400, "unsupported"},
		{"no target pool", func() error {
			_, err := svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "x", PortRange: "80", Target: "regions/" + region + "/targetPools/nosuch"}).Do()
			return err
		}, 404, "notFound"},
		{"same name", func() error {
			_, err := svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "fr1", PortRange: "81", Target: pool.SelfLink}).Do()
			return err
		}, 409, "alreadyExists"},
		{"bad name", func() error {
			_, err := svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "Bad_Name", PortRange: "81", Target: pool.SelfLink}).Do()
			return err
		}, 400, "invalid"},
		{"pool in use", func() error { _, err := svc.TargetPools.Delete(p, region, "pool1").Do(); return err }, 400, "resourceInUseByAnotherResource"},
		{"health check in use", func() error { _, err := svc.HttpHealthChecks.Delete(p, "hc1").Do(); return err }, 400, "resourceInUseByAnotherResource"},
		{"pool of a missing instance", func() error {
			_, err := svc.TargetPools.Insert(p, region, &compute.TargetPool{Name: "x", Instances: []string{f.instanceURL("nosuch")}}).Do()
			return err
		}, 404, "notFound"},
		{"pool exists", func() error {
			_, err := svc.TargetPools.Insert(p, region, &compute.TargetPool{Name: "pool1"}).Do()
			return err
		}, 409, "alreadyExists"},
		{"two health checks", func() error {
			_, err := svc.TargetPools.Insert(p, region, &compute.TargetPool{Name: "x", HealthChecks: []string{hcURL, hcURL}}).Do()
			return err
		}, 400, "invalid"},
		{"remove a non-member", func() error {
			_, err := svc.TargetPools.RemoveInstance(p, region, "pool1", &compute.TargetPoolsRemoveInstanceRequest{
				Instances: []*compute.InstanceReference{{Instance: f.instanceURL("vm1")}}}).Do()
			return err
		}, 400, "invalid"},
		{"health of a non-member", func() error {
			_, err := svc.TargetPools.GetHealth(p, region, "pool1", &compute.InstanceReference{Instance: f.instanceURL("vm1")}).Do()
			return err
		}, 400, "invalid"},
		{"missing pool", func() error { _, err := svc.TargetPools.Get(p, region, "nosuch").Do(); return err }, 404, "notFound"},
	} {
		wantAPIError(t, tc.call(), tc.code, tc.reason)
		if n := len(f.lbRules()); n != 1 {
			t.Fatalf("%s: %d CloudStack rules", tc.name, n)
		}
	}
	if got := f.lbVMs(rule); strings.Join(got, ",") != "vm2" {
		t.Fatalf("rule VMs after refusals: %v", got)
	}

	// setTarget moves the rule to pool2 (empty, no health check).
	f.regionOp(svc.ForwardingRules.SetTarget(p, region, "fr1", &compute.TargetReference{Target: "regions/" + region + "/targetPools/pool2"}).Do())
	if got := f.lbVMs(rule); len(got) != 0 {
		t.Fatalf("rule VMs after setTarget: %v", got)
	}
	if got := f.pingPaths(rule); len(got) != 0 {
		t.Fatalf("rule health checks after setTarget: %v", got)
	}
	fr, err = svc.ForwardingRules.Get(p, region, "fr1").Do()
	if err != nil || !strings.HasSuffix(fr.Target, "/targetPools/pool2") {
		t.Fatalf("after setTarget: %v %+v", err, fr)
	}

	agg, err := svc.TargetPools.AggregatedList(p).Do()
	if err != nil || len(agg.Items["regions/"+region].TargetPools) != 2 {
		t.Fatalf("targetPools aggregated: %v %+v", err, agg)
	}
	if l, err := svc.TargetPools.List(p, region).Do(); err != nil || len(l.Items) != 2 {
		t.Fatalf("targetPools list: %v %+v", err, l)
	}
	if l, err := svc.HttpHealthChecks.List(p).Do(); err != nil || len(l.Items) != 1 {
		t.Fatalf("httpHealthChecks list: %v %+v", err, l)
	}
	if agg, err := svc.BackendServices.AggregatedList(p).Do(); err != nil || len(agg.Items) == 0 {
		t.Fatalf("backendServices aggregated: %v %+v", err, agg)
	}

	// Deleting the rule deletes the CloudStack rule and gives back the
	// address acquired for it; then the pools and the check can go.
	f.regionOp(svc.ForwardingRules.Delete(p, region, "fr1").Do())
	if n := len(f.lbRules()); n != 0 {
		t.Fatalf("%d CloudStack rules after delete", n)
	}
	if n := f.publicIPs(); n != ipsBefore {
		t.Fatalf("public IPs: %d, before %d", n, ipsBefore)
	}
	f.regionOp(svc.TargetPools.Delete(p, region, "pool1").Do())
	f.regionOp(svc.TargetPools.Delete(p, region, "pool2").Do())
	waitOp(t, svc, p, mustOp(t)(svc.HttpHealthChecks.Delete(p, "hc1").Do()))
	_, err = svc.HttpHealthChecks.Get(p, "hc1").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}

// TestGoClientForwardingRuleOnAddress: a forwarding rule on a reserved
// address (by name) uses that address, and leaves it reserved when it is
// deleted.
func TestGoClientForwardingRuleOnAddress(t *testing.T) {
	f := newLBFixture(t, "vm1")
	svc, p, region := f.svc, f.p, f.region
	f.regionOp(svc.Addresses.Insert(p, region, &compute.Address{Name: "lb-ip"}).Do())
	addr, err := svc.Addresses.Get(p, region, "lb-ip").Do()
	if err != nil {
		t.Fatal(err)
	}
	f.regionOp(svc.TargetPools.Insert(p, region, &compute.TargetPool{Name: "pool1", Instances: []string{f.instanceURL("vm1")}}).Do())
	for _, ref := range []string{addr.SelfLink, addr.Address} {
		f.regionOp(svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "fr1", IPAddress: ref, IPProtocol: "UDP",
			Ports: []string{"53"}, Target: "regions/" + region + "/targetPools/pool1"}).Do())
		fr, err := svc.ForwardingRules.Get(p, region, "fr1").Do()
		if err != nil || fr.IPAddress != addr.Address || fr.IPProtocol != "UDP" || fr.PortRange != "53-53" {
			t.Fatalf("forwarding rule on %s: %v %+v", ref, err, fr)
		}
		if got := f.lbVMs(f.lbRules()[0].ID); strings.Join(got, ",") != "vm1" {
			t.Fatalf("rule VMs: %v", got)
		}
		f.regionOp(svc.ForwardingRules.Delete(p, region, "fr1").Do())
		if a, err := svc.Addresses.Get(p, region, "lb-ip").Do(); err != nil || a.Address != addr.Address {
			t.Fatalf("address after rule delete: %v %+v", err, a)
		}
	}
	_, err = svc.ForwardingRules.Insert(p, region, &compute.ForwardingRule{Name: "fr2", IPAddress: "regions/" + region + "/addresses/nosuch",
		PortRange: "80", Target: "regions/" + region + "/targetPools/pool1"}).Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}

// TestGoClientHealthChecks: global health checks are kept as given, with
// GCE's defaults, and listed plainly and aggregated.
func TestGoClientHealthChecks(t *testing.T) {
	e := newRealEnv(t)
	svc, p := e.service(t, e.token), e.project
	waitOp(t, svc, p, mustOp(t)(svc.HealthChecks.Insert(p, &compute.HealthCheck{Name: "tcp1", Type: "TCP",
		TcpHealthCheck: &compute.TCPHealthCheck{Port: 5432}}).Do()))
	waitOp(t, svc, p, mustOp(t)(svc.HealthChecks.Insert(p, &compute.HealthCheck{Name: "http1", Type: "HTTP", CheckIntervalSec: 10}).Do()))
	hc, err := svc.HealthChecks.Get(p, "tcp1").Do()
	if err != nil || hc.Type != "TCP" || hc.TcpHealthCheck == nil || hc.TcpHealthCheck.Port != 5432 || hc.CheckIntervalSec != 5 || hc.TimeoutSec != 5 {
		t.Fatalf("get: %v %+v", err, hc)
	}
	hc, err = svc.HealthChecks.Get(p, "http1").Do()
	if err != nil || hc.HttpHealthCheck == nil || hc.HttpHealthCheck.Port != 80 || hc.CheckIntervalSec != 10 {
		t.Fatalf("get http1: %v %+v", err, hc)
	}
	for _, tc := range []struct {
		hc     *compute.HealthCheck
		code   int
		reason string
	}{
		{&compute.HealthCheck{Name: "tcp1", Type: "TCP"}, 409, "alreadyExists"},
		{&compute.HealthCheck{Name: "x", Type: "ICMP"}, 400, "invalid"},
		{&compute.HealthCheck{Name: "x", Type: "TCP", HttpHealthCheck: &compute.HTTPHealthCheck{Port: 80}}, 400, "invalid"},
		{&compute.HealthCheck{Name: "x", Type: "TCP", CheckIntervalSec: 2, TimeoutSec: 3}, 400, "invalid"},
	} {
		_, err := svc.HealthChecks.Insert(p, tc.hc).Do()
		wantAPIError(t, err, tc.code, tc.reason)
	}
	l, err := svc.HealthChecks.List(p).Do()
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("list: %v %+v", err, l)
	}
	agg, err := svc.HealthChecks.AggregatedList(p).Do()
	if err != nil || len(agg.Items["global"].HealthChecks) != 2 {
		t.Fatalf("aggregated: %v %+v", err, agg)
	}
	waitOp(t, svc, p, mustOp(t)(svc.HealthChecks.Delete(p, "tcp1").Do()))
	_, err = svc.HealthChecks.Get(p, "tcp1").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}
