package gce

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Forwarding rules are a read-only view of the project's CloudStack load
// balancer rules (the cloud controller's for LoadBalancer Services, or
// any made through the CloudStack API): each rule is an EXTERNAL regional
// forwarding rule in its zone's region, at the rule's public address and
// port, for its protocol. There are no target pools or backend services
// behind them (a CloudStack rule lists its VMs itself), so no target.

// ForwardingRule is compute#forwardingRule.
type ForwardingRule struct {
	Kind                string `json:"kind"`
	ID                  uint64 `json:"id,string"`
	CreationTimestamp   string `json:"creationTimestamp,omitempty"`
	Name                string `json:"name"`
	Description         string `json:"description"`
	Region              string `json:"region"`
	IPAddress           string `json:"IPAddress"`
	IPProtocol          string `json:"IPProtocol"`
	PortRange           string `json:"portRange"`
	LoadBalancingScheme string `json:"loadBalancingScheme"`
	NetworkTier         string `json:"networkTier"`
	IPVersion           string `json:"ipVersion"`
	Fingerprint         string `json:"fingerprint"`
	LabelFingerprint    string `json:"labelFingerprint"`
	SelfLink            string `json:"selfLink"`
}

// forwardingRules renders the load balancer rules the project sees, of
// one region or all ("").
func (c *call) forwardingRules(region string) ([]entry, error) {
	rules, err := c.cs.ListLoadBalancerRules(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	zoneOf := map[string]string{}
	for _, z := range zs {
		zoneOf[z.cs.ID] = z.name
	}
	var es []entry
	for i := range rules {
		r := &rules[i]
		z := zoneOf[r.ZoneID]
		if z == "" || region != "" && regionOf(z) != region {
			continue
		}
		reg := regionOf(z)
		name := forwardingRuleName(r)
		port := fmt.Sprintf("%d-%d", r.PublicPort, r.PublicPort)
		fr := &ForwardingRule{Kind: "compute#forwardingRule", ID: idOf("forwardingRule", r.ID), Name: name,
			Description: r.Description, Region: c.regionLink(reg), IPAddress: r.PublicIP, IPProtocol: strings.ToUpper(r.Protocol),
			PortRange: port, LoadBalancingScheme: "EXTERNAL", NetworkTier: "PREMIUM", IPVersion: "IPV4",
			Fingerprint: fingerprint(r.PublicIP + " " + r.Protocol + " " + port), LabelFingerprint: fingerprint(nil),
			SelfLink: c.link("regions", reg, "forwardingRules", name)}
		es = append(es, entry{scope: "regions/" + reg, name: name, v: fr})
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].scope != es[j].scope {
			return es[i].scope < es[j].scope
		}
		return es[i].name < es[j].name
	})
	return es, nil
}

// forwardingRuleName is the rule's name when it is a GCE name, else one
// made from its id (CloudStack's names allow what GCE's do not).
func forwardingRuleName(r *csclient.LoadBalancerRule) string {
	if n := gceName(r.Name); validName(n) {
		return n
	}
	return fmt.Sprintf("lb-%016x", idOf("forwardingRule", r.ID))
}

func (g *Gateway) listForwardingRules(c *call) (any, error) {
	region := c.r.PathValue("region")
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	es, err := c.forwardingRules(region)
	if err != nil {
		return nil, err
	}
	return c.list("compute#forwardingRuleList", c.link("regions", region, "forwardingRules"), es)
}

func (g *Gateway) getForwardingRule(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	es, err := c.forwardingRules(region)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.name == name {
			return e.v, nil
		}
	}
	return nil, errNotFound("projects/" + c.project + "/regions/" + region + "/forwardingRules/" + name)
}

func (g *Gateway) aggregatedForwardingRules(c *call) (any, error) {
	es, err := c.forwardingRules("")
	if err != nil {
		return nil, err
	}
	zs, _ := c.zones()
	seen := map[string]bool{}
	var scopes []string
	for _, z := range zs {
		if r := "regions/" + regionOf(z.name); !seen[r] {
			seen[r] = true
			scopes = append(scopes, r)
		}
	}
	return c.aggregated("compute#forwardingRuleAggregatedList", "forwardingRules", c.link("aggregated", "forwardingRules"), es, scopes)
}
