package apiserver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// crdYAML is a CRD as operators ship them: two versions (v1 stored, v1beta1
// served, conversion None), status and scale subresources, printer
// columns, defaults, a CEL rule, short names and a category.
const crdYAML = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Size
      type: string
      description: How big the widget is.
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: WidgetSpec says what a widget should be.
            x-kubernetes-validations:
            - rule: "self.replicas <= 10"
              message: at most ten replicas
            properties:
              size:
                type: string
                description: Size of the widget.
                enum: [small, large]
                default: small
              replicas:
                type: integer
                minimum: 0
                default: 1
          status:
            type: object
            properties:
              replicas:
                type: integer
              phase:
                type: string
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

const widgetYAML = `apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
spec:
  size: large
  replicas: 2
`

func TestKubectlCRD(t *testing.T) {
	srv := apiservertest.Start(t)
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			k := newKubectl(t, v, srv)
			ns := "crd-" + strings.ReplaceAll(v, ".", "")
			k.ok("create", "namespace", ns)
			contains(t, "apply crd", k.ok("apply", "-f", k.file("crd.yaml", crdYAML)), "customresourcedefinition.apiextensions.k8s.io/widgets.example.com")
			k.ok("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s")
			contains(t, "get crd", k.ok("get", "crd"), "widgets.example.com")
			contains(t, "api-resources", k.ok("api-resources", "--api-group=example.com"), "widgets", "wd", "example.com/v1", "true", "Widget")

			contains(t, "apply cr", k.ok("apply", "-n", ns, "-f", k.file("w.yaml", widgetYAML)), "widget.example.com/w1 created")
			// A second client-side apply patches (merge patch for CRs); diff works.
			changed := strings.ReplaceAll(widgetYAML, "replicas: 2", "replicas: 6")
			k.run("", "diff", "-n", ns, "-f", k.file("w-diff.yaml", changed)) // exit 1: differences
			contains(t, "re-apply", k.ok("apply", "-n", ns, "-f", k.file("w-changed.yaml", changed)), "widget.example.com/w1 configured")
			k.ok("apply", "-n", ns, "-f", k.file("w.yaml", widgetYAML))
			out := k.ok("get", "-n", ns, "wd")
			contains(t, "get printer columns", out, "NAME", "SIZE", "REPLICAS", "AGE", "w1", "large", "2")

			// Defaults and pruning: an unknown field is dropped with a warning.
			_, errs, err := k.run("", "apply", "-n", ns, "--validate=false", "-f", k.file("w2.yaml", strings.ReplaceAll(
				strings.ReplaceAll(widgetYAML, "w1", "w2"), "  size: large\n  replicas: 2\n", "  bogus: 1\n")))
			if err != nil {
				t.Fatalf("apply w2: %v %s", err, errs)
			}
			got := k.ok("get", "-n", ns, "widget", "w2", "-o", "jsonpath={.spec}")
			if !strings.Contains(got, `"size":"small"`) || !strings.Contains(got, `"replicas":1`) || strings.Contains(got, "bogus") {
				t.Errorf("w2 spec = %s, want defaults and no bogus", got)
			}

			// The schema's real messages.
			bad := strings.ReplaceAll(strings.ReplaceAll(widgetYAML, "w1", "bad"), "size: large", "size: huge")
			contains(t, "bad enum", k.fails("apply", "-n", ns, "-f", k.file("bad.yaml", bad)),
				`The Widget "bad" is invalid`, `spec.size: Unsupported value: "huge": supported values: "small", "large"`,
				"some validation rules were not checked because the object was invalid")
			bad = strings.ReplaceAll(strings.ReplaceAll(widgetYAML, "w1", "bad2"), "replicas: 2", "replicas: 20")
			contains(t, "cel", k.fails("apply", "-n", ns, "-f", k.file("bad2.yaml", bad)), `The Widget "bad2" is invalid: spec: Invalid value: at most ten replicas`)
			bad = strings.ReplaceAll(strings.ReplaceAll(widgetYAML, "w1", "bad3"), "replicas: 2", "replicas: two")
			contains(t, "type", k.fails("apply", "-n", ns, "--validate=false", "-f", k.file("bad3.yaml", bad)),
				`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`)

			// Patch (merge and json), scale, status.
			k.ok("patch", "-n", ns, "widget", "w1", "--type=merge", "-p", `{"spec":{"replicas":3}}`)
			k.ok("patch", "-n", ns, "widget", "w1", "--type=json", "-p", `[{"op":"replace","path":"/spec/size","value":"small"}]`)
			contains(t, "strategic", k.fails("patch", "-n", ns, "widget", "w1", "-p", `{"spec":{"replicas":4}}`), "application/strategic-merge-patch+json is not supported")
			k.ok("scale", "-n", ns, "widget", "w1", "--replicas=5")
			contains(t, "after scale", k.ok("get", "-n", ns, "widget", "w1", "-o", "jsonpath={.spec.replicas} {.spec.size} {.metadata.generation}"), "5 small 6")
			if v == "1.33" {
				k.ok("patch", "-n", ns, "widget", "w1", "--subresource=status", "--type=merge", "-p", `{"status":{"replicas":5,"phase":"Ready"}}`)
				contains(t, "status", k.ok("get", "-n", ns, "widget", "w1", "-o", "jsonpath={.status.phase} {.metadata.generation}"), "Ready 6")
			}
			// Server-side apply.
			k.ok("apply", "--server-side", "-n", ns, "-f", k.file("w3.yaml", strings.ReplaceAll(widgetYAML, "w1", "w3")))
			// The other version reads the same objects.
			contains(t, "v1beta1", k.ok("get", "-n", ns, "widgets.v1beta1.example.com", "w1", "-o", "jsonpath={.apiVersion}"), "example.com/v1beta1")
			// explain reads the CRD's OpenAPI.
			contains(t, "explain", k.ok("explain", "widget.spec.size"), "Size of the widget.")
			// get all includes the category.
			contains(t, "get all", k.ok("get", "all", "-n", ns), "widget.example.com/w1")
			k.ok("delete", "-n", ns, "widget", "w3")
		})
	}
	// Deleting the CRD deletes its objects and stops serving it.
	k := newKubectl(t, "1.33", srv)
	k.ok("delete", "crd", "widgets.example.com", "--timeout=20s")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, errs, err := k.run("", "get", "widgets", "-A")
		if err != nil && (strings.Contains(errs, "the server doesn't have a resource type") || strings.Contains(errs, "the server could not find the requested resource")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("widgets still served after the CRD's deletion: %s", errs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
