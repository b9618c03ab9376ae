package apiserver_test

import (
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestRequestsDefaultFromLimits: a pod's container with limits and no
// requests gets the limits as requests (the HPA, the scheduler and quota
// read requests), and a pod template keeps what it was given, as
// kube-apiserver does.
func TestRequestsDefaultFromLimits(t *testing.T) {
	srv := apiservertest.Start(t)
	k := newKubectl(t, "1.33", srv)
	k.ok("apply", "-f", k.file("limits.yaml", `apiVersion: v1
kind: Pod
metadata: {name: limited}
spec:
  containers:
  - name: c
    image: nginx
    resources:
      limits: {cpu: 200m, memory: 128Mi}
      requests: {memory: 64Mi}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: tmpl}
template:
  spec:
    containers:
    - name: c
      image: nginx
      resources: {limits: {cpu: 200m}}
`))
	if got := k.ok("get", "pod", "limited", "-o", "jsonpath={.spec.containers[0].resources.requests}"); got != `{"cpu":"200m","memory":"64Mi"}` {
		t.Errorf("pod requests: %s", got)
	}
	if got := k.ok("get", "podtemplate", "tmpl", "-o", "jsonpath={.template.spec.containers[0].resources}"); got != `{"limits":{"cpu":"200m"}}` {
		t.Errorf("template resources: %s", got)
	}
}
