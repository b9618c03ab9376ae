package openapi

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

var crud = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

func testResources() []Resource {
	sub := func(name, g, v, k string, verbs ...string) Subresource {
		return Subresource{Name: name, Kind: GVK{g, v, k}, Verbs: verbs}
	}
	return []Resource{
		{Version: "v1", Name: "pods", Kind: "Pod", Namespaced: true, Verbs: crud, Subresources: []Subresource{
			sub("status", "", "v1", "Pod", "get", "patch", "update"), sub("log", "", "v1", "Pod", "get"), sub("binding", "", "v1", "Binding", "create")}},
		{Version: "v1", Name: "nodes", Kind: "Node", Verbs: crud},
		{Group: "apps", Version: "v1", Name: "deployments", Kind: "Deployment", Namespaced: true, Verbs: crud, Subresources: []Subresource{
			sub("scale", "autoscaling", "v1", "Scale", "get", "patch", "update")}},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Name: "clusterroles", Kind: "ClusterRole", Verbs: crud},
	}
}

var refRE = regexp.MustCompile(`"\$ref":"([^"]+)"`)

// checkRefs fails when a reference in doc has no target.
func checkRefs(t *testing.T, what string, doc []byte, prefix string, defs map[string]json.RawMessage) {
	t.Helper()
	for _, m := range refRE.FindAllSubmatch(doc, -1) {
		ref := string(m[1])
		if !strings.HasPrefix(ref, prefix) {
			t.Fatalf("%s: reference %s outside %s", what, ref, prefix)
		}
		if _, ok := defs[strings.TrimPrefix(ref, prefix)]; !ok {
			t.Fatalf("%s: reference %s has no definition", what, ref)
		}
	}
}

func TestV2(t *testing.T) {
	s := New("v1.33.0-test", testResources())
	js, err := s.V2()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Swagger     string                                `json:"swagger"`
		Paths       map[string]map[string]json.RawMessage `json:"paths"`
		Definitions map[string]json.RawMessage            `json:"definitions"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	checkRefs(t, "v2", js, "#/definitions/", doc.Definitions)
	if doc.Swagger != "2.0" {
		t.Errorf("swagger = %q", doc.Swagger)
	}
	tests := []struct {
		path, method, opID string
		want               []string
	}{
		{"/api/v1/namespaces/{namespace}/pods/{name}", "patch", "patchCoreV1NamespacedPod", []string{`"name":"fieldValidation"`, `"kind":"Pod"`, `"application/apply-patch+yaml"`}},
		{"/api/v1/namespaces/{namespace}/pods", "get", "listCoreV1NamespacedPod", []string{`"name":"labelSelector"`, `#/definitions/io.k8s.api.core.v1.PodList`}},
		{"/api/v1/pods", "get", "listCoreV1PodForAllNamespaces", nil},
		{"/api/v1/nodes/{name}", "put", "replaceCoreV1Node", []string{`#/definitions/io.k8s.api.core.v1.Node"`}},
		{"/api/v1/namespaces/{namespace}/pods/{name}/log", "get", "readCoreV1NamespacedPodLog", []string{`"type":"string"`}},
		{"/api/v1/namespaces/{namespace}/pods/{name}/binding", "post", "createCoreV1NamespacedPodBinding", []string{`io.k8s.api.core.v1.Binding`}},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "patch", "patchAppsV1NamespacedDeploymentScale", []string{`"group":"autoscaling"`, `io.k8s.api.autoscaling.v1.Scale`}},
		{"/apis/apps/v1/watch/namespaces/{namespace}/deployments", "get", "watchAppsV1NamespacedDeploymentList", []string{`io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent`}},
		{"/apis/rbac.authorization.k8s.io/v1/clusterroles", "delete", "deleteRbacAuthorizationV1CollectionClusterRole", []string{`"name":"propagationPolicy"`}},
	}
	for _, tt := range tests {
		op, ok := doc.Paths[tt.path][tt.method]
		if !ok {
			t.Errorf("%s %s missing", tt.method, tt.path)
			continue
		}
		for _, w := range append(tt.want, `"operationId":"`+tt.opID+`"`) {
			if !bytes.Contains(op, []byte(w)) {
				t.Errorf("%s %s lacks %s:\n%s", tt.method, tt.path, w, op)
			}
		}
	}
	// Full schemas, descriptions included, and only what is reachable.
	if !bytes.Contains(doc.Definitions["io.k8s.api.core.v1.PodSpec"], []byte(`"description":"List of containers belonging to the pod.`)) {
		t.Error("PodSpec lacks its descriptions")
	}
	if _, ok := doc.Definitions["io.k8s.api.batch.v1.Job"]; ok {
		t.Error("a kind that is not served is published")
	}

	// The protobuf form carries the same document.
	pb, err := s.V2Protobuf()
	if err != nil {
		t.Fatal(err)
	}
	var d openapiv2.Document
	if err := proto.Unmarshal(pb, &d); err != nil {
		t.Fatal(err)
	}
	if got, want := len(d.GetPaths().GetPath()), len(doc.Paths); got != want {
		t.Errorf("protobuf has %d paths, JSON %d", got, want)
	}
	if got, want := len(d.GetDefinitions().GetAdditionalProperties()), len(doc.Definitions); got != want {
		t.Errorf("protobuf has %d definitions, JSON %d", got, want)
	}
}

func TestV3(t *testing.T) {
	s := New("v1.33.0-test", testResources())
	idx, err := s.V3Index()
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Paths map[string]struct {
			URL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(idx, &index); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"} {
		data, hash, ok, err := s.V3(name)
		if err != nil || !ok {
			t.Fatalf("V3(%s): %v %v", name, ok, err)
		}
		if want := "/openapi/v3/" + name + "?hash=" + hash; index.Paths[name].URL != want || hash != Hash(data) {
			t.Errorf("index of %s = %q, want %q", name, index.Paths[name].URL, want)
		}
		var doc struct {
			OpenAPI    string `json:"openapi"`
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		checkRefs(t, name, data, "#/components/schemas/", doc.Components.Schemas)
		if doc.OpenAPI != "3.0.0" {
			t.Errorf("%s: openapi = %q", name, doc.OpenAPI)
		}
	}
	data, _, _, _ := s.V3("apis/apps/v1")
	for _, w := range []string{
		`"x-kubernetes-group-version-kind":[{"group":"apps","kind":"Deployment","version":"v1"}]`,
		`"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]`,
		`"operationId":"patchAppsV1NamespacedDeployment"`,
	} {
		if !bytes.Contains(data, []byte(w)) {
			t.Errorf("apps/v1 document lacks %s", w)
		}
	}
	if bytes.Contains(data, []byte(`io.k8s.api.core.v1.Node"`)) {
		t.Error("apps/v1 carries core's Node")
	}
	if _, _, ok, _ := s.V3("apis/batch/v1"); ok {
		t.Error("a group version that is not served has a document")
	}
}

func TestUnknownKind(t *testing.T) {
	s := New("v", []Resource{{Group: "example.com", Version: "v1", Name: "widgets", Kind: "Widget"}})
	if _, err := s.V2(); err == nil || !strings.Contains(err.Error(), "no definition for example.com/v1 Widget") {
		t.Fatalf("V2 = %v", err)
	}
}

func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		s := New("v", testResources())
		if _, err := s.V2(); err != nil {
			b.Fatal(err)
		}
	}
}
