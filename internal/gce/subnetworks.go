package gce

import (
	"fmt"
	"net"
	"sort"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Subnetworks and routes are read-only views of the networks: every
// network is in auto mode, so it has one subnetwork of its own name in
// each region, whose range is the CloudStack guest network's CIDR there
// (a Basic zone's shared network, the account's isolated network of that
// name in an Advanced zone, else the zone's guest CIDR, which the network
// will get when it is made on first use). A region of several zones shows
// its first zone's. Each network has GCE's default routes: one to the
// Internet and one local route per subnetwork.

// Subnetwork is compute#subnetwork.
type Subnetwork struct {
	Kind                  string `json:"kind"`
	ID                    uint64 `json:"id,string"`
	CreationTimestamp     string `json:"creationTimestamp,omitempty"`
	Name                  string `json:"name"`
	Description           string `json:"description,omitempty"`
	Network               string `json:"network"`
	IPCidrRange           string `json:"ipCidrRange"`
	GatewayAddress        string `json:"gatewayAddress"`
	Region                string `json:"region"`
	PrivateIPGoogleAccess bool   `json:"privateIpGoogleAccess"`
	Purpose               string `json:"purpose"`
	StackType             string `json:"stackType"`
	Fingerprint           string `json:"fingerprint"`
	SelfLink              string `json:"selfLink"`
}

// Route is compute#route.
type Route struct {
	Kind              string `json:"kind"`
	ID                uint64 `json:"id,string"`
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	Network           string `json:"network"`
	DestRange         string `json:"destRange"`
	Priority          int    `json:"priority"`
	NextHopGateway    string `json:"nextHopGateway,omitempty"`
	NextHopNetwork    string `json:"nextHopNetwork,omitempty"`
	RouteType         string `json:"routeType"`
	SelfLink          string `json:"selfLink"`
}

// subnetworks returns every network's subnetworks, by region then name.
func (c *call) subnetworks() ([]*Subnetwork, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	nets, err := c.cs.ListNetworks(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	byZone := map[string][]csclient.Network{}
	names := map[string]string{defaultNetwork: ""} // GCE network → when made
	for _, n := range nets {
		if n.State == "Destroy" || n.VPCID != "" {
			continue
		}
		byZone[n.ZoneID] = append(byZone[n.ZoneID], n)
		if name := gceName(n.Name); n.Type == "Isolated" && name != defaultNetwork && validName(name) {
			names[name] = csTime(n.Created)
		}
	}
	var out []*Subnetwork
	seen := map[string]bool{}
	for _, z := range zs {
		region := regionOf(z.name)
		for name, created := range names {
			key := region + "/" + name
			if seen[key] {
				continue
			}
			cidr, gw, ok := subnetRange(z, name, byZone[z.cs.ID])
			if !ok {
				continue
			}
			seen[key] = true
			out = append(out, &Subnetwork{Kind: "compute#subnetwork", ID: idOf("subnetwork", c.tok.AccountID+"/"+key),
				CreationTimestamp: created, Name: name, Network: c.link("global", "networks", name),
				IPCidrRange: cidr, GatewayAddress: gw, Region: c.link("regions", region), Purpose: "PRIVATE",
				StackType: "IPV4_ONLY", Fingerprint: fingerprint(cidr + " " + gw),
				SelfLink: c.link("regions", region, "subnetworks", name)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// subnetRange is the range and gateway of network name in zone z, from
// the zone's CloudStack networks; ok is false where the network does not
// reach (a named network in a Basic zone, or in a zone it was not made in).
func subnetRange(z zoneInfo, name string, nets []csclient.Network) (cidr, gw string, ok bool) {
	for _, n := range nets {
		basicShared := z.cs.NetworkType == "Basic" && name == defaultNetwork && n.Type == "Shared"
		if (basicShared || (n.Type == "Isolated" && gceName(n.Name) == name)) && n.CIDR != "" {
			return n.CIDR, n.Gateway, true
		}
	}
	if name != defaultNetwork || z.cs.GuestCIDRAddress == "" {
		return "", "", false
	}
	_, ipn, err := net.ParseCIDR(z.cs.GuestCIDRAddress)
	if err != nil {
		return "", "", false
	}
	first := append(net.IP(nil), ipn.IP.To4()...)
	first[3]++
	return ipn.String(), first.String(), true
}

func (g *Gateway) listSubnetworks(c *call) (any, error) {
	region := c.r.PathValue("region")
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	subs, err := c.subnetworks()
	if err != nil {
		return nil, err
	}
	var es []entry
	for _, s := range subs {
		if lastSegment(s.Region) == region {
			es = append(es, entry{name: s.Name, created: s.CreationTimestamp, v: s})
		}
	}
	return c.list("compute#subnetworkList", c.link("regions", region, "subnetworks"), es)
}

func (g *Gateway) getSubnetwork(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	subs, err := c.subnetworks()
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if lastSegment(s.Region) == region && s.Name == name {
			return s, nil
		}
	}
	return nil, errNotFound("projects/" + c.project + "/regions/" + region + "/subnetworks/" + name)
}

func (g *Gateway) aggregatedSubnetworks(c *call) (any, error) {
	subs, err := c.subnetworks()
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
	es := make([]entry, 0, len(subs))
	for _, s := range subs {
		es = append(es, entry{scope: "regions/" + lastSegment(s.Region), name: s.Name, created: s.CreationTimestamp, v: s})
	}
	return c.aggregated("compute#subnetworkAggregatedList", "subnetworks", c.link("aggregated", "subnetworks"), es, scopes)
}

// routes are the default routes of every network: to the Internet, and
// to each of its subnetworks. Their names are GCE's form,
// default-route-<16 hex digits>, stable for a network and range.
func (c *call) routes() ([]*Route, error) {
	subs, err := c.subnetworks()
	if err != nil {
		return nil, err
	}
	networks := map[string]string{}
	var out []*Route
	route := func(network, dest string) *Route {
		id := idOf("route", c.tok.AccountID+"/"+network+"/"+dest)
		name := fmt.Sprintf("default-route-%016x", id)
		return &Route{Kind: "compute#route", ID: id, Name: name, Network: c.link("global", "networks", network),
			DestRange: dest, SelfLink: c.link("global", "routes", name)}
	}
	for _, s := range subs {
		network := lastSegment(s.Network)
		networks[network] = s.CreationTimestamp
		r := route(network, s.IPCidrRange)
		r.CreationTimestamp, r.Description, r.NextHopNetwork, r.RouteType = s.CreationTimestamp,
			"Default local route to the subnetwork "+s.IPCidrRange+".", s.Network, "SUBNET"
		out = append(out, r)
	}
	for network, created := range networks {
		r := route(network, "0.0.0.0/0")
		r.CreationTimestamp, r.Description, r.Priority, r.RouteType = created, "Default route to the Internet.", 1000, "STATIC"
		r.NextHopGateway = c.link("global", "gateways", "default-internet-gateway")
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (g *Gateway) listRoutes(c *call) (any, error) {
	rs, err := c.routes()
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(rs))
	for _, r := range rs {
		es = append(es, entry{name: r.Name, created: r.CreationTimestamp, v: r})
	}
	return c.list("compute#routeList", c.link("global", "routes"), es)
}

func (g *Gateway) getRoute(c *call) (any, error) {
	name := c.r.PathValue("name")
	rs, err := c.routes()
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, errNotFound("projects/" + c.project + "/global/routes/" + name)
}

// Subnetworks and routes cannot be made or removed: the networks are in
// auto mode (one subnetwork per region, the CloudStack network there),
// and CloudStack's static routes belong to VPCs (through a private
// gateway), not to the isolated networks behind GCE's. Each write checks
// its request as GCE would, then answers that it is not supported; a
// delete of what does not exist is notFound.

func (g *Gateway) insertSubnetwork(c *call) (any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	if _, err := c.regionZones(c.r.PathValue("region")); err != nil {
		return nil, err
	}
	return nil, errUnsupported("Creating a subnetwork (networks here are in auto mode: one subnetwork per region)")
}

func (g *Gateway) deleteSubnetwork(c *call) (any, error) {
	if _, err := g.getSubnetwork(c); err != nil {
		return nil, err
	}
	return nil, errUnsupported("Deleting a subnetwork of an auto mode network")
}

func (g *Gateway) insertRoute(c *call) (any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	return nil, errUnsupported("Creating a route (CloudStack's static routes are a VPC's, not an isolated network's)")
}

func (g *Gateway) deleteRoute(c *call) (any, error) {
	if _, err := g.getRoute(c); err != nil {
		return nil, err
	}
	return nil, errUnsupported("Deleting a route")
}
