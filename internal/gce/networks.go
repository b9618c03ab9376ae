package gce

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
	return c.list("compute#networkList", c.link("global", "networks"), []entry{{name: defaultNetwork, v: c.renderNetwork()}})
}

func (g *Gateway) getNetwork(c *call) (any, error) {
	name := c.r.PathValue("name")
	if name != defaultNetwork {
		return nil, errNotFound("projects/" + c.project + "/global/networks/" + name)
	}
	return c.renderNetwork(), nil
}

// checkNetwork accepts only the default network (URL or partial path).
func (c *call) checkNetwork(ref, field string) error {
	if ref == "" || lastSegment(ref) == defaultNetwork {
		return nil
	}
	return errInvalid("Invalid value for field '%s': '%s'. The network does not exist; only the 'default' network is available.", field, ref)
}
