package gce

import "sort"

// The gateway shows one network, "default": CloudStack's guest networks
// of the account (created on demand per zone) and its security groups
// stand behind it.

const defaultNetwork = "default"

func (c *call) renderNetwork() *Network {
	return &Network{Kind: "compute#network", ID: idOf("network", c.tok.AccountID+"/default"), Name: defaultNetwork,
		Description: "Default network for the project", AutoCreateSubnetworks: true,
		RoutingConfig: &RoutingConfig{RoutingMode: "REGIONAL"}, NetworkFirewallPolicyEnforcementOrder: "AFTER_CLASSIC_FIREWALL",
		SelfLink: c.link("global", "networks", defaultNetwork)}
}

func (g *Gateway) listNetworks(c *call) (any, error) {
	named, err := c.namedNetworks()
	if err != nil {
		return nil, err
	}
	es := []entry{{name: defaultNetwork, v: c.renderNetwork()}}
	for name, nets := range named {
		n := c.renderNamedNetwork(name, nets)
		es = append(es, entry{name: name, created: n.CreationTimestamp, v: n})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	return c.list("compute#networkList", c.link("global", "networks"), es)
}

func (g *Gateway) getNetwork(c *call) (any, error) {
	name := c.r.PathValue("name")
	if name == defaultNetwork {
		return c.renderNetwork(), nil
	}
	named, err := c.namedNetworks()
	if err != nil {
		return nil, err
	}
	if nets, ok := named[name]; ok {
		return c.renderNamedNetwork(name, nets), nil
	}
	return nil, errNotFound("projects/" + c.project + "/global/networks/" + name)
}

// checkNetwork accepts only the default network (URL or partial path).
func (c *call) checkNetwork(ref, field string) error {
	if ref == "" || lastSegment(ref) == defaultNetwork {
		return nil
	}
	return errInvalid("Invalid value for field '%s': '%s'. The network does not exist; only the 'default' network is available.", field, ref)
}
