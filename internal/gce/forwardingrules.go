package gce

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Forwarding rules are the project's CloudStack load balancer rules (the
// cloud controller's for LoadBalancer Services, any made through the
// CloudStack API, and those made here): each is an EXTERNAL regional
// forwarding rule in its zone's region, at the rule's public address and
// port, for its protocol. One made here (insert) targets a target pool:
// the gateway records which (frRecord, by load balancer rule id) and
// keeps the rule's VMs and health check policy those of the pool
// (syncRule). Rules made elsewhere have no target.

// ForwardingRule is compute#forwardingRule.
type ForwardingRule struct {
	Kind                string   `json:"kind"`
	ID                  uint64   `json:"id,string"`
	CreationTimestamp   string   `json:"creationTimestamp,omitempty"`
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	Region              string   `json:"region"`
	IPAddress           string   `json:"IPAddress"`
	IPProtocol          string   `json:"IPProtocol"`
	PortRange           string   `json:"portRange"`
	LoadBalancingScheme string   `json:"loadBalancingScheme"`
	NetworkTier         string   `json:"networkTier"`
	IPVersion           string   `json:"ipVersion"`
	Target              string   `json:"target,omitempty"`
	BackendService      string   `json:"backendService,omitempty"`
	Ports               []string `json:"ports,omitempty"`
	Fingerprint         string   `json:"fingerprint"`
	LabelFingerprint    string   `json:"labelFingerprint"`
	SelfLink            string   `json:"selfLink"`
}

// frRecord is what the gateway knows of a forwarding rule it made, by
// the id of its load balancer rule.
type frRecord struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	Target string `json:"target,omitempty"` // a pool's name in the region
	IPID   string `json:"ipId,omitempty"`
	// Ephemeral is set when the rule's address was acquired for it, to be
	// released with it.
	Ephemeral bool   `json:"ephemeral,omitempty"`
	Created   string `json:"created,omitempty"`
}

func (g *Gateway) frRecordsOf(project string) store.Typed[frRecord] {
	return store.Typed[frRecord]{S: g.st, Prefix: "/gce/forwardingrules/" + project + "/"}
}

// frInfo is one forwarding rule: its load balancer rule and its record.
type frInfo struct {
	name, region string
	rule         csclient.LoadBalancerRule
	rec          *frRecord
}

func (c *call) frPath(region, name string) string {
	return "projects/" + c.project + "/regions/" + region + "/forwardingRules/" + name
}

// forwardingRuleInfos are the project's forwarding rules of one region
// or all (""), by region and name.
func (c *call) forwardingRuleInfos(region string) ([]frInfo, error) {
	rules, err := c.cs.ListLoadBalancerRules(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	recs, _, err := c.g.frRecordsOf(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	byRule := make(map[string]*frRecord, len(recs))
	for _, it := range recs {
		byRule[it.Name] = it.Val
	}
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	zoneOf := map[string]string{}
	for _, z := range zs {
		zoneOf[z.cs.ID] = z.name
	}
	var out []frInfo
	for i := range rules {
		r := rules[i]
		z := zoneOf[r.ZoneID]
		if z == "" || region != "" && regionOf(z) != region {
			continue
		}
		fi := frInfo{name: forwardingRuleName(&r), region: regionOf(z), rule: r, rec: byRule[r.ID]}
		if fi.rec != nil {
			fi.name = fi.rec.Name
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].region != out[j].region {
			return out[i].region < out[j].region
		}
		return out[i].name < out[j].name
	})
	return out, nil
}

// renderForwardingRule is the wire form of a forwarding rule.
func (c *call) renderForwardingRule(fi *frInfo) *ForwardingRule {
	r, reg := &fi.rule, fi.region
	port := fmt.Sprintf("%d-%d", r.PublicPort, r.PublicPort)
	fr := &ForwardingRule{Kind: "compute#forwardingRule", ID: idOf("forwardingRule", r.ID), Name: fi.name,
		Description: r.Description, Region: c.regionLink(reg), IPAddress: r.PublicIP, IPProtocol: strings.ToUpper(r.Protocol),
		PortRange: port, LoadBalancingScheme: "EXTERNAL", NetworkTier: "PREMIUM", IPVersion: "IPV4",
		Fingerprint: fingerprint(r.PublicIP + " " + r.Protocol + " " + port), LabelFingerprint: fingerprint(nil),
		SelfLink: c.link("regions", reg, "forwardingRules", fi.name)}
	if fi.rec != nil {
		fr.CreationTimestamp = fi.rec.Created
		if fi.rec.Target != "" {
			fr.Target = c.link("regions", reg, "targetPools", fi.rec.Target)
			fr.Fingerprint = fingerprint(r.PublicIP + " " + r.Protocol + " " + port + " " + fi.rec.Target)
		}
	}
	return fr
}

// forwardingRules renders the load balancer rules the project sees, of
// one region or all ("").
func (c *call) forwardingRules(region string) ([]entry, error) {
	fis, err := c.forwardingRuleInfos(region)
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(fis))
	for i := range fis {
		fr := c.renderForwardingRule(&fis[i])
		es = append(es, entry{scope: "regions/" + fis[i].region, name: fis[i].name, created: fr.CreationTimestamp, v: fr})
	}
	return es, nil
}

// findForwardingRule finds a forwarding rule of a region by name.
func (c *call) findForwardingRule(region, name string) (*frInfo, error) {
	fis, err := c.forwardingRuleInfos(region)
	if err != nil {
		return nil, err
	}
	for i := range fis {
		if fis[i].name == name {
			return &fis[i], nil
		}
	}
	return nil, errNotFound(c.frPath(region, name))
}

// rulesOfPool are the forwarding rules that target a pool.
func (c *call) rulesOfPool(region, pool string) ([]frInfo, error) {
	fis, err := c.forwardingRuleInfos(region)
	if err != nil {
		return nil, err
	}
	var out []frInfo
	for _, fi := range fis {
		if fi.rec != nil && fi.rec.Target == pool {
			out = append(out, fi)
		}
	}
	return out, nil
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
	fi, err := c.findForwardingRule(region, name)
	if err != nil {
		return nil, err
	}
	return c.renderForwardingRule(fi), nil
}

func (g *Gateway) aggregatedForwardingRules(c *call) (any, error) {
	es, err := c.forwardingRules("")
	if err != nil {
		return nil, err
	}
	return c.aggregated("compute#forwardingRuleAggregatedList", "forwardingRules", c.link("aggregated", "forwardingRules"), es, c.regionScopes())
}
