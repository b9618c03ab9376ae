package gce

import (
	"net/http"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Networks beyond "default": a GCE network is a CloudStack isolated
// network of the same name in each Advanced zone (GCE's networks are
// global, CloudStack's zonal). Basic zones have one shared network and
// get none. Instances join any of them (instanceNetwork); firewalls only
// "default" (checkNetwork).

// networkInsert is the part of compute#network an insert reads.
type networkInsert struct {
	Name                  string `json:"name"`
	Description           string `json:"description"`
	AutoCreateSubnetworks *bool  `json:"autoCreateSubnetworks"`
	IPv4Range             string `json:"IPv4Range"`
}

func (c *call) networkPath(name string) string {
	return "projects/" + c.project + "/global/networks/" + name
}

// namedNetworks returns the account's CloudStack networks behind each GCE
// network other than "default", by GCE name. VPC tiers are not GCE
// networks.
func (c *call) namedNetworks() (map[string][]csclient.Network, error) {
	nets, err := c.cs.ListNetworks(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]csclient.Network{}
	for _, n := range nets {
		name := gceName(n.Name)
		if n.Type != "Isolated" || n.VPCID != "" || name == defaultNetwork || n.State == "Destroy" || !validName(name) {
			continue
		}
		out[name] = append(out[name], n)
	}
	return out, nil
}

func (c *call) renderNamedNetwork(name string, nets []csclient.Network) *Network {
	created := ""
	if len(nets) > 0 {
		created = csTime(nets[0].Created)
	}
	return &Network{Kind: "compute#network", ID: idOf("network", c.tok.AccountID+"/"+name), CreationTimestamp: created, Name: name,
		AutoCreateSubnetworks: true, RoutingConfig: &RoutingConfig{RoutingMode: "REGIONAL"},
		NetworkFirewallPolicyEnforcementOrder: "AFTER_CLASSIC_FIREWALL", SelfLink: c.link("global", "networks", name)}
}

func (g *Gateway) insertNetwork(c *call) (any, error) {
	var in networkInsert
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	if in.IPv4Range != "" {
		return nil, errUnsupported("A legacy network (IPv4Range)")
	}
	named, err := c.namedNetworks()
	if err != nil {
		return nil, err
	}
	if _, ok := named[in.Name]; ok || in.Name == defaultNetwork {
		return nil, errAlreadyExists(c.networkPath(in.Name))
	}
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	made := 0
	for _, z := range zs {
		if z.cs.NetworkType == "Basic" {
			continue
		}
		// "default" first, so instances keep joining it.
		if _, err := c.guestNetwork(z); err != nil {
			return nil, err
		}
		off, err := c.isolatedOffering(z)
		if err != nil {
			return nil, err
		}
		if off == "" {
			continue
		}
		text := in.Description
		if text == "" {
			text = "network " + in.Name + " of GCE project " + c.project
		}
		if _, err := c.cs.CreateNetwork(c.ctx, csclient.Params("name", in.Name, "displaytext", text, "networkofferingid", off, "zoneid", z.cs.ID)); err != nil {
			return nil, err
		}
		made++
	}
	if made == 0 {
		return nil, errUnsupported("A network without an Advanced zone")
	}
	// createNetwork is synchronous in CloudStack: the operation is DONE.
	return c.startOp(opScope{}, "insert", "global/networks/"+in.Name, idOf("network", c.tok.AccountID+"/"+in.Name), nil, nil)
}

func (g *Gateway) deleteNetwork(c *call) (any, error) {
	name := c.r.PathValue("name")
	if name == defaultNetwork {
		return nil, errUnsupported("Deleting the default network")
	}
	named, err := c.namedNetworks()
	if err != nil {
		return nil, err
	}
	nets, ok := named[name]
	if !ok {
		return nil, errNotFound(c.networkPath(name))
	}
	for _, n := range nets {
		vms, err := c.cs.ListVirtualMachines(c.ctx, csclient.Params("networkid", n.ID))
		if err != nil {
			return nil, err
		}
		if len(vms) > 0 {
			return nil, &apiError{Code: http.StatusBadRequest, Reason: "resourceInUseByAnotherResource",
				Message: "The network resource '" + c.networkPath(name) + "' is already being used by '" + c.instancePath(zoneOfID(c, vms[0].ZoneID), vms[0].Name) + "'"}
		}
	}
	var jobs []string
	for _, n := range nets {
		res, err := c.cs.Async(c.ctx, "deleteNetwork", csclient.Params("id", n.ID))
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, res.JobID)
	}
	return c.startOp(opScope{}, "delete", "global/networks/"+name, idOf("network", c.tok.AccountID+"/"+name), jobs, nil)
}
