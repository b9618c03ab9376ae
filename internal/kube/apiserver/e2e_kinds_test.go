package apiserver_test

import (
	"fmt"
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestKubectlOpenAPI drives the OpenAPI documents with the kubectl versions
// that read them differently: 1.27 and 1.28 validate from /openapi/v2 (in
// protobuf), 1.29 on from /openapi/v3; explain reads v3.
func TestKubectlOpenAPI(t *testing.T) {
	for _, v := range []string{"1.27", "1.28", "1.29", "1.33"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv := apiservertest.Start(t)
			k := newKubectl(t, v, srv)
			contains(t, "explain", k.ok("explain", "deployment.spec.replicas"),
				"GROUP:", "apps", "KIND:", "Deployment", "FIELD: replicas <integer>", "Number of desired pods.")
			contains(t, "explain pods", k.ok("explain", "pods.spec.containers.ports"),
				"KIND:", "Pod", "containerPort", "<integer> -required-")
			contains(t, "explain recursive", k.ok("explain", "service.spec", "--recursive"), "clusterIP", "sessionAffinityConfig")

			// Default validation: apply goes through, twice, and a changed
			// manifest patches.
			k.file("deploy.yaml", fmt.Sprintf(deployYAML, 2, "nginx:1.27"))
			contains(t, "apply", k.ok("apply", "-f", "deploy.yaml"), "deployment.apps/app created")
			contains(t, "apply again", k.ok("apply", "-f", "deploy.yaml"), "deployment.apps/app unchanged")
			k.file("deploy.yaml", fmt.Sprintf(deployYAML, 3, "nginx:1.28"))
			out, errs, err := k.run("", "apply", "-f", "deploy.yaml", "-v=6")
			if err != nil {
				t.Fatalf("apply changed: %v\n%s", err, errs)
			}
			contains(t, "apply changed", out, "deployment.apps/app configured")
			if v == "1.27" || v == "1.28" {
				// These read the v2 document (protobuf) to learn that the
				// server validates.
				contains(t, "apply -v=6", errs, "/openapi/v2?timeout=32s 200 OK")
			}
			contains(t, "diff", k.ok("diff", "-f", "deploy.yaml"))

			// Unknown fields are refused with default validation.
			k.file("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unk\nfoo: bar\n")
			contains(t, "strict", k.fails("apply", "-f", "unknown.yaml"), `unknown field "foo"`)
		})
	}
}
