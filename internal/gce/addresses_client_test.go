package gce

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	compute "google.golang.org/api/compute/v1"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// TestGoClientAddresses reserves, lists, gets and releases external
// addresses with Google's compute/v1 client, and checks GCE's refusals.
func TestGoClientAddresses(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p, region := e.project, regionOf("sandbox-simulator-a")

	waitOp(t, svc, p, mustRegionOp(t, svc, p)(svc.Addresses.Insert(p, region, &compute.Address{Name: "ip1"}).Do()))
	_, err := svc.Addresses.Insert(p, region, &compute.Address{Name: "ip1"}).Do()
	wantAPIError(t, err, http.StatusConflict, "alreadyExists")
	a, err := svc.Addresses.Get(p, region, "ip1").Do()
	if err != nil || a.Address == "" || a.Status != "RESERVED" || a.AddressType != "EXTERNAL" {
		t.Fatalf("get: %v %+v", err, a)
	}
	l, err := svc.Addresses.List(p, region).Do()
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "ip1" {
		t.Fatalf("list: %v %+v", err, l)
	}
	agg, err := svc.Addresses.AggregatedList(p).Do()
	if err != nil || len(agg.Items["regions/"+region].Addresses) != 1 {
		t.Fatalf("aggregated: %v %+v", err, agg)
	}
	_, err = svc.Addresses.Get(p, region, "nosuch").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
	waitOp(t, svc, p, mustRegionOp(t, svc, p)(svc.Addresses.Delete(p, region, "ip1").Do()))
	if l, err := svc.Addresses.List(p, region).Do(); err != nil || len(l.Items) != 0 {
		t.Fatalf("after delete: %v %+v", err, l)
	}
}

// mustRegionOp fails on a call's error and waits for a regional operation.
func mustRegionOp(t *testing.T, svc *compute.Service, project string) func(*compute.Operation, error) *compute.Operation {
	return func(op *compute.Operation, err error) *compute.Operation {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for op.Status != "DONE" {
			if op, err = svc.RegionOperations.Wait(project, lastSegment(op.Region), op.Name).Do(); err != nil {
				t.Fatal(err)
			}
		}
		return op
	}
}

// TestGoClientNetworks creates, lists, gets and deletes a network with
// Google's compute/v1 client: one CloudStack isolated network per
// Advanced zone stands behind it, and "default" is still there.
func TestGoClientNetworks(t *testing.T) {
	e := newRealEnv(t)
	svc := e.service(t, e.token)
	p := e.project

	waitOp(t, svc, p, mustOp(t)(svc.Networks.Insert(p, &compute.Network{Name: "net1", AutoCreateSubnetworks: true}).Do()))
	_, err := svc.Networks.Insert(p, &compute.Network{Name: "net1"}).Do()
	wantAPIError(t, err, http.StatusConflict, "alreadyExists")
	_, err = svc.Networks.Insert(p, &compute.Network{Name: "default"}).Do()
	wantAPIError(t, err, http.StatusConflict, "alreadyExists")
	l, err := svc.Networks.List(p).Do()
	if err != nil || len(l.Items) != 2 || l.Items[0].Name != "default" || l.Items[1].Name != "net1" {
		t.Fatalf("list: %v %+v", err, l)
	}
	if n, err := svc.Networks.Get(p, "net1").Do(); err != nil || n.SelfLink == "" {
		t.Fatalf("get: %v %+v", err, n)
	}
	// Subnetworks and routes, through Google's client.
	agg, err := svc.Subnetworks.AggregatedList(p).Do()
	if err != nil {
		t.Fatal(err)
	}
	var subs []*compute.Subnetwork
	for scope, l := range agg.Items {
		for _, s := range l.Subnetworks {
			if !strings.HasSuffix(s.Region, "/"+scope) {
				t.Errorf("subnetwork %s under %s", s.SelfLink, scope)
			}
			subs = append(subs, s)
		}
	}
	if len(subs) < 2 {
		t.Fatalf("aggregated subnetworks: %d", len(subs))
	}
	region := regionOf("sandbox-simulator-a")
	sub, err := svc.Subnetworks.Get(p, region, "net1").Do()
	if err != nil || sub.IpCidrRange == "" || !strings.HasSuffix(sub.Network, "/global/networks/net1") || sub.GatewayAddress == "" {
		t.Fatalf("subnetwork net1: %v %+v", err, sub)
	}
	_, err = svc.Subnetworks.Get(p, region, "nope").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
	rl, err := svc.Routes.List(p).Filter(`network eq ".*/net1"`).Do()
	if err != nil {
		t.Fatal(err)
	}
	dests := map[string]int64{}
	for _, r := range rl.Items {
		dests[r.DestRange] = r.Priority
		if got, err := svc.Routes.Get(p, r.Name).Do(); err != nil || got.Id != r.Id {
			t.Errorf("route %s: %v", r.Name, err)
		}
	}
	if p, ok := dests["0.0.0.0/0"]; !ok || p != 1000 || dests[sub.IpCidrRange] != 0 || len(dests) != 2 {
		t.Errorf("net1's routes: %v", dests)
	}
	waitOp(t, svc, p, mustOp(t)(svc.Networks.Delete(p, "net1").Do()))
	_, err = svc.Networks.Get(p, "net1").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")

	// A VPC tier made through CloudStack is no GCE network.
	cs := csclient.New(e.cs.URL, e.cs.APIKey, e.cs.SecretKey, nil)
	ctx := context.Background()
	id := func(command, key, name string) string {
		var out map[string]json.RawMessage
		var items []struct{ ID, Name string }
		if err := cs.Do(ctx, command, url.Values{"name": {name}}, &out); err != nil || json.Unmarshal(out[key], &items) != nil || len(items) == 0 {
			t.Fatalf("%s %s: %v %s", command, name, err, out[key])
		}
		return items[0].ID
	}
	zone := id("listZones", "zone", "Sandbox-simulator")
	var vpc struct{ ID string }
	if err := cs.AsyncWait(ctx, "createVPC", url.Values{"name": {"v"}, "displaytext": {"v"}, "cidr": {"10.30.0.0/16"}, "zoneid": {zone},
		"vpcofferingid": {id("listVPCOfferings", "vpcoffering", "Default VPC offering")}}, "vpc", &vpc); err != nil {
		t.Fatal(err)
	}
	if err := cs.Do(ctx, "createNetwork", url.Values{"name": {"tier1"}, "displaytext": {"tier1"}, "zoneid": {zone}, "vpcid": {vpc.ID},
		"networkofferingid": {id("listNetworkOfferings", "networkoffering", "DefaultIsolatedNetworkOfferingForVpcNetworks")},
		"gateway":           {"10.30.1.1"}, "netmask": {"255.255.255.0"}}, nil); err != nil {
		t.Fatal(err)
	}
	if l, err := svc.Networks.List(p).Do(); err != nil || len(l.Items) != 1 {
		t.Errorf("networks with a VPC tier: %v %+v", err, l)
	}
	if sl, err := svc.Subnetworks.List(p, region).Do(); err != nil || len(sl.Items) != 1 || sl.Items[0].Name != "default" {
		t.Errorf("subnetworks with a VPC tier: %v %+v", err, sl)
	}
}
