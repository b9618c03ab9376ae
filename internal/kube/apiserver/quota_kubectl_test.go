package apiserver_test

import (
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

const updateQuotaYAML = `apiVersion: v1
kind: ResourceQuota
metadata:
  name: q
spec:
  hard:
    services.nodeports: "1"
    services.loadbalancers: "0"
    requests.storage: 2Gi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`

// TestQuotaOnUpdatesWithKubectl: a ResourceQuota counts what an update
// adds, as kube-apiserver's quota admission does for Services (a type
// change takes node ports or a load balancer) and claims (a larger
// request), with the API's 403 text; an update that adds nothing passes.
func TestQuotaOnUpdatesWithKubectl(t *testing.T) {
	srv := apiservertest.Start(t)
	k := newKubectl(t, "1.33", srv)
	k.ok("create", "namespace", "quota")
	kn := func(args ...string) string { return k.ok(append([]string{"-n", "quota"}, args...)...) }
	failsIn := func(args ...string) string { return k.fails(append([]string{"-n", "quota"}, args...)...) }
	kn("apply", "-f", k.file("q.yaml", updateQuotaYAML))
	kn("create", "service", "clusterip", "two", "--tcp=80:80,443:443")
	kn("create", "service", "clusterip", "one", "--tcp=80:80")

	contains(t, "two node ports", failsIn("patch", "service", "two", "-p", `{"spec":{"type":"NodePort"}}`),
		`Error from server (Forbidden): services "two" is forbidden: exceeded quota: q, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1`)
	kn("patch", "service", "one", "-p", `{"spec":{"type":"NodePort"}}`)
	contains(t, "a load balancer", failsIn("patch", "service", "one", "-p", `{"spec":{"type":"LoadBalancer"}}`),
		`services "one" is forbidden: exceeded quota: q, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0`)
	// Nothing more counted: a label on a service at the quota's limit.
	kn("label", "service", "one", "tier=web")
	if got := kn("get", "service", "two", "-o", "jsonpath={.spec.type}"); got != "ClusterIP" {
		t.Errorf("refused update stored: type %s", got)
	}

	contains(t, "a larger claim", failsIn("patch", "pvc", "data", "-p", `{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}`),
		`persistentvolumeclaims "data" is forbidden: exceeded quota: q, requested: requests.storage=2Gi, used: requests.storage=1Gi, limited: requests.storage=2Gi`)
	kn("patch", "pvc", "data", "-p", `{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}`)
	if got := kn("get", "pvc", "data", "-o", "jsonpath={.spec.resources.requests.storage}"); strings.TrimSpace(got) != "2Gi" {
		t.Errorf("claim after the allowed resize: %s", got)
	}
}
