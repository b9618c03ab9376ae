package gce

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// TestGcloudForwardingRules: a CloudStack load balancer rule on one of the
// project's addresses (as the cloud controller makes for a LoadBalancer
// Service) is an EXTERNAL forwarding rule to gcloud: `forwarding-rules
// list` (aggregated) and `describe` (regional) show its address,
// protocol and port range; a rule that is not there is not found.
func TestGcloudForwardingRules(t *testing.T) {
	e := newRealEnv(t)
	g := newGcloud(t, e, "sandbox-simulator-a")
	const region = "sandbox-simulator"
	g.ok("compute", "addresses", "create", "lb-ip", "--region", region)
	addr := strings.TrimSpace(g.ok("compute", "addresses", "describe", "lb-ip", "--region", region, "--format", "value(address)"))
	ctx := context.Background()
	cs := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil)
	ips, err := cs.ListPublicIPs(ctx, csclient.Params("ipaddress", addr))
	if err != nil || len(ips) != 1 {
		t.Fatalf("listPublicIpAddresses %s: %v %+v", addr, err, ips)
	}
	if err := cs.AsyncWait(ctx, "createLoadBalancerRule", csclient.Params("name", "web-tcp-80", "algorithm", "roundrobin",
		"publicipid", ips[0].ID, "publicport", "80", "privateport", "30080", "protocol", "tcp", "openfirewall", "false"), "", nil); err != nil {
		t.Fatal(err)
	}

	var listed []ForwardingRule
	if err := json.Unmarshal([]byte(g.ok("compute", "forwarding-rules", "list", "--format", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	want := ForwardingRule{Name: "web-tcp-80", IPAddress: addr, IPProtocol: "TCP", PortRange: "80-80", LoadBalancingScheme: "EXTERNAL"}
	same := func(r ForwardingRule) bool {
		return r.Name == want.Name && r.IPAddress == want.IPAddress && r.IPProtocol == want.IPProtocol && r.PortRange == want.PortRange &&
			r.LoadBalancingScheme == want.LoadBalancingScheme && strings.HasSuffix(r.Region, "/regions/"+region)
	}
	if len(listed) != 1 || !same(listed[0]) {
		t.Fatalf("forwarding-rules list: %+v", listed)
	}
	var described ForwardingRule
	if err := json.Unmarshal([]byte(g.ok("compute", "forwarding-rules", "describe", "web-tcp-80", "--region", region, "--format", "json")), &described); err != nil {
		t.Fatal(err)
	}
	if !same(described) || described.Kind != "compute#forwardingRule" || !strings.HasSuffix(described.SelfLink, "/regions/"+region+"/forwardingRules/web-tcp-80") {
		t.Fatalf("forwarding-rules describe: %+v", described)
	}
	g.fails("was not found", "compute", "forwarding-rules", "describe", "nosuch", "--region", region)
}
