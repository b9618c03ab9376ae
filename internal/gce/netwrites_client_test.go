package gce

import (
	"net/http"
	"testing"

	compute "google.golang.org/api/compute/v1"
)

// TestGoClientRouteAndSubnetWrites: routes and subnetworks cannot be made
// or removed on CloudStack's isolated networks; each write answers GCE's
// error (unsupported, or the request's own fault first) and the views
// stay as they were.
func TestGoClientRouteAndSubnetWrites(t *testing.T) {
	e := newRealEnv(t)
	svc, p, region := e.service(t, e.token), e.project, "sandbox-simulator"
	routes, err := svc.Routes.List(p).Do()
	if err != nil || len(routes.Items) == 0 {
		t.Fatalf("routes: %v %+v", err, routes)
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		code   int
		reason string
	}{
		{"route insert", func() error {
			_, err := svc.Routes.Insert(p, &compute.Route{Name: "r1", Network: "global/networks/default", DestRange: "10.9.0.0/16", NextHopIp: "10.1.1.1"}).Do()
			return err
		}, http.StatusBadRequest, "unsupported"},
		{"route insert, bad name", func() error { _, err := svc.Routes.Insert(p, &compute.Route{Name: "R_1"}).Do(); return err }, http.StatusBadRequest, "invalid"},
		{"route delete", func() error { _, err := svc.Routes.Delete(p, routes.Items[0].Name).Do(); return err }, http.StatusBadRequest, "unsupported"},
		{"route delete, missing", func() error { _, err := svc.Routes.Delete(p, "nosuch").Do(); return err }, http.StatusNotFound, "notFound"},
		{"subnetwork insert", func() error {
			_, err := svc.Subnetworks.Insert(p, region, &compute.Subnetwork{Name: "s1", Network: "global/networks/default", IpCidrRange: "10.9.0.0/24"}).Do()
			return err
		}, http.StatusBadRequest, "unsupported"},
		{"subnetwork insert, no region", func() error {
			_, err := svc.Subnetworks.Insert(p, "nosuch", &compute.Subnetwork{Name: "s1"}).Do()
			return err
		}, http.StatusNotFound, "notFound"},
		{"subnetwork delete", func() error { _, err := svc.Subnetworks.Delete(p, region, "default").Do(); return err }, http.StatusBadRequest, "unsupported"},
		{"subnetwork delete, missing", func() error { _, err := svc.Subnetworks.Delete(p, region, "nosuch").Do(); return err }, http.StatusNotFound, "notFound"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.call(), tc.code, tc.reason) })
	}
	if after, err := svc.Routes.List(p).Do(); err != nil || len(after.Items) != len(routes.Items) {
		t.Fatalf("routes after: %v %+v", err, after)
	}
}
