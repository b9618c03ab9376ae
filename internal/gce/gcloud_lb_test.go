package gce

import (
	"context"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// TestGcloudTargetPools: gcloud's network load balancing (an HTTP health
// check, a target pool with instances, a forwarding rule to it) makes a
// CloudStack load balancer rule with the pool's VMs and the check's
// policy; get-health reports the instances; deleting the rule deletes the
// CloudStack rule.
func TestGcloudTargetPools(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	const zone, region = "sandbox-simulator-a", "sandbox-simulator"
	g := newGcloud(t, e, zone)
	ctx := context.Background()
	cs := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil)

	g.ok("compute", "instances", "create", "vm1", "vm2", "--no-address")
	g.ok("compute", "http-health-checks", "create", "hc1", "--port", "8080", "--request-path", "/healthz")
	g.ok("compute", "target-pools", "create", "pool1", "--region", region, "--http-health-check", "hc1")
	g.ok("compute", "target-pools", "add-instances", "pool1", "--region", region, "--instances", "vm1,vm2", "--instances-zone", zone)
	var pool TargetPool
	g.okJSON(&pool, "compute", "target-pools", "describe", "pool1", "--region", region)
	if len(pool.Instances) != 2 || len(pool.HealthChecks) != 1 || !strings.HasSuffix(pool.HealthChecks[0], "/global/httpHealthChecks/hc1") {
		t.Fatalf("target-pools describe: %+v", pool)
	}
	g.ok("compute", "forwarding-rules", "create", "fr1", "--region", region, "--target-pool", "pool1", "--ports", "80")
	var fr ForwardingRule
	g.okJSON(&fr, "compute", "forwarding-rules", "describe", "fr1", "--region", region)
	if fr.IPAddress == "" || fr.PortRange != "80-80" || !strings.HasSuffix(fr.Target, "/regions/"+region+"/targetPools/pool1") {
		t.Fatalf("forwarding-rules describe: %+v", fr)
	}

	rules, err := cs.ListLoadBalancerRules(ctx, csclient.Params("name", "fr1"))
	if err != nil || len(rules) != 1 || rules[0].PublicIP != fr.IPAddress || rules[0].PublicPort != 80 {
		t.Fatalf("CloudStack rule: %v %+v", err, rules)
	}
	vms, err := cs.ListLoadBalancerRuleInstances(ctx, csclient.Params("id", rules[0].ID))
	if err != nil || len(vms) != 2 {
		t.Fatalf("CloudStack rule VMs: %v %+v", err, vms)
	}
	var pols struct {
		Policies []struct {
			HealthCheckPolicy []lbHealthPolicy `json:"healthcheckpolicy"`
		} `json:"healthcheckpolicies"`
	}
	if err := cs.Do(ctx, "listLBHealthCheckPolicies", csclient.Params("lbruleid", rules[0].ID), &pols); err != nil ||
		len(pols.Policies) != 1 || len(pols.Policies[0].HealthCheckPolicy) != 1 || pols.Policies[0].HealthCheckPolicy[0].PingPath != "/healthz" {
		t.Fatalf("CloudStack health check policy: %v %+v", err, pols)
	}

	health := g.ok("compute", "target-pools", "get-health", "pool1", "--region", region, "--format", "json")
	if strings.Count(health, `"healthState": "HEALTHY"`) != 2 || strings.Contains(health, "UNHEALTHY") {
		t.Fatalf("get-health:\n%s", health)
	}
	g.ok("compute", "target-pools", "remove-instances", "pool1", "--region", region, "--instances", "vm2", "--instances-zone", zone)
	if vms, err := cs.ListLoadBalancerRuleInstances(ctx, csclient.Params("id", rules[0].ID)); err != nil || len(vms) != 1 || vms[0].Name != "vm1" {
		t.Fatalf("CloudStack rule VMs after remove-instances: %v %+v", err, vms)
	}
	g.fails("is already being used by", "compute", "target-pools", "delete", "pool1", "--region", region)
	g.fails("port range", "compute", "forwarding-rules", "create", "fr2", "--region", region, "--target-pool", "pool1", "--ports", "80-90")

	g.ok("compute", "forwarding-rules", "delete", "fr1", "--region", region)
	if rules, err := cs.ListLoadBalancerRules(ctx, nil); err != nil || len(rules) != 0 {
		t.Fatalf("CloudStack rules after delete: %v %+v", err, rules)
	}
	g.ok("compute", "target-pools", "delete", "pool1", "--region", region)
	g.ok("compute", "http-health-checks", "delete", "hc1")
	g.ok("compute", "health-checks", "create", "tcp", "hc2", "--port", "5432")
	mustContain(t, "health-checks list", g.ok("compute", "health-checks", "list"), "hc2", "TCP")
}

// TestGcloudAccessConfigs: add-access-config gives an instance an
// external address by CloudStack static NAT; delete-access-config takes it
// away.
func TestGcloudAccessConfigs(t *testing.T) {
	if testing.Short() {
		t.Skip("the gcloud scenario takes a minute")
	}
	e := newRealEnv(t)
	g := newGcloud(t, e, "sandbox-simulator-a")
	ctx := context.Background()
	cs := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil)
	g.ok("compute", "instances", "create", "vm1", "--no-address")
	g.ok("compute", "instances", "add-access-config", "vm1")
	nat := strings.TrimSpace(g.ok("compute", "instances", "describe", "vm1", "--format", "value(networkInterfaces[0].accessConfigs[0].natIP)"))
	if nat == "" {
		t.Fatal("no natIP after add-access-config")
	}
	ips, err := cs.ListPublicIPs(ctx, csclient.Params("isstaticnat", "true"))
	if err != nil || len(ips) != 1 || ips[0].IPAddress != nat || ips[0].VirtualMachineName != "vm1" {
		t.Fatalf("CloudStack static NAT: %v %+v", err, ips)
	}
	g.ok("compute", "instances", "delete-access-config", "vm1")
	if out := strings.TrimSpace(g.ok("compute", "instances", "describe", "vm1", "--format", "value(networkInterfaces[0].accessConfigs)")); out != "" {
		t.Fatalf("access configs after delete-access-config: %q", out)
	}
	if ips, err := cs.ListPublicIPs(ctx, csclient.Params("isstaticnat", "true")); err != nil || len(ips) != 0 {
		t.Fatalf("CloudStack static NAT after delete: %v %+v", err, ips)
	}
}
