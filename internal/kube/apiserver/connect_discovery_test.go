package apiserver_test

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestConnectSubresourcesDiscovered: the subresources the server answers
// outside the stored kinds (pods' exec, attach and portforward, streamed
// to the node; serviceaccounts' token) are in discovery, in both forms,
// with kube-apiserver's kinds and verbs, sorted as it sorts them; the
// proxy subresources, not served, are not listed. kubectl grants them in
// roles.
func TestConnectSubresourcesDiscovered(t *testing.T) {
	srv := apiservertest.Start(t)
	dc := discovery.NewDiscoveryClientForConfigOrDie(apiservertest.RESTConfig(t, srv))
	want := map[string]string{ // name → group/version kind verbs
		"pods/attach":              "/ PodAttachOptions create,get",
		"pods/exec":                "/ PodExecOptions create,get",
		"pods/portforward":         "/ PodPortForwardOptions create,get",
		"pods/log":                 "/ Pod get",
		"pods/eviction":            "policy/v1 Eviction create",
		"serviceaccounts/token":    "authentication.k8s.io/v1 TokenRequest create",
		"pods/proxy":               "",
		"services/proxy":           "",
		"nodes/proxy":              "",
		"pods/ephemeralcontainers": "/ Pod get,patch,update",
	}
	check := func(form string, list []metav1.APIResource) {
		t.Helper()
		var names []string
		got := map[string]string{}
		for _, r := range list {
			gv := r.Group + "/" + r.Version
			got[r.Name] = gv + " " + r.Kind + " " + strings.Join(r.Verbs, ",")
			if strings.HasPrefix(r.Name, "pods/") {
				names = append(names, r.Name)
			}
		}
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s: %s is %q, want %q", form, name, got[name], w)
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s: pods' subresources not sorted: %v", form, names)
		}
	}
	// The legacy form (GET /api/v1): group and version only where they
	// differ from the resource's.
	legacy, err := dc.ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	check("/api/v1", legacy.APIResources)
	// The aggregated form, which client-go and kubectl 1.30+ read; its
	// converted resources carry every group and version.
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lists {
		if l.GroupVersion != "v1" {
			continue
		}
		agg := slices.Clone(l.APIResources)
		for i := range agg {
			if agg[i].Group == "" && agg[i].Version == "v1" {
				agg[i].Version = ""
			}
		}
		check("aggregated", agg)
	}

	for _, v := range []string{"1.27", "1.29", "1.33"} {
		k := newKubectl(t, v, srv)
		k.ok("create", "role", "execer-"+strings.ReplaceAll(v, ".", ""), "--verb=create,get", "--resource=pods/exec,pods/attach,pods/portforward,serviceaccounts/token")
		contains(t, "api-resources", k.ok("get", "role", "execer-"+strings.ReplaceAll(v, ".", ""), "-o", "yaml"), "pods/exec", "pods/portforward", "serviceaccounts/token")
	}
}
