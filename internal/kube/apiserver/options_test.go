package apiserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestRequestOptionsDecodedAsTheRealServer sends query parameters and
// delete bodies the way assorted clients spell them; each must be read as
// kube-apiserver reads it (the parameter codec, then apimachinery's
// validation of the options type), with its status code and message.
func TestRequestOptionsDecodedAsTheRealServer(t *testing.T) {
	srv := apiservertest.Start(t)
	cfg := apiservertest.RESTConfig(t, srv)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := cfg.Host + "/api/v1/namespaces/default/configmaps"
	do := func(method, url, ctype, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cm := func(name string) string {
		return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"}}`
	}
	if code, body := do("POST", base, "application/json", cm("a")); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var uid string
	{
		code, body := do("GET", base+"/a", "", "")
		if code != 200 {
			t.Fatalf("get: %d %s", code, body)
		}
		var m metav1.PartialObjectMetadata
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		uid = string(m.UID)
	}

	for _, tc := range []struct {
		name, method, url, ctype, body string
		code                           int
		contains                       string
	}{
		{"dry run spelled wrong", "POST", base + "?dryRun=Some", "application/json", cm("b"), 422,
			`CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Some\"]: supported values: \"All\"`},
		{"field manager with a control character", "POST", base + "?fieldManager=a%01b", "application/json", cm("b"), 422,
			`fieldManager: Invalid value: \"a\\x01b\": invalid character U+0001`},
		{"unknown field validation", "PUT", base + "/a?fieldValidation=Loud", "application/json", cm("a"), 422,
			`fieldValidation: Unsupported value: \"Loud\"`},
		{"force on a merge patch", "PATCH", base + "/a?force=true", "application/merge-patch+json", `{}`, 422,
			`force: Forbidden: may not be specified for non-apply patch`},
		{"apply without a field manager", "PATCH", base + "/a", "application/apply-patch+yaml", cm("a"), 422,
			`fieldManager: Required value: is required for apply patch`},
		{"apply with force spelled True", "PATCH", base + "/a?fieldManager=m&force=True", "application/apply-patch+yaml", cm("a"), 200, `"name":"a"`},
		{"delete body in YAML with a wrong uid", "DELETE", base + "/a", "application/yaml",
			"kind: DeleteOptions\napiVersion: v1\npreconditions:\n  uid: not-the-uid\n", 409, `Precondition failed: UID in precondition: not-the-uid`},
		{"delete propagation not supported", "DELETE", base + "/a?propagationPolicy=Sideways", "", "", 422,
			`propagationPolicy: Unsupported value: \"Sideways\"`},
		{"delete with both orphan and propagation", "DELETE", base + "/a?propagationPolicy=Orphan&orphanDependents=false", "", "", 422,
			`orphanDependents and deletionPropagation cannot be both set`},
		{"delete body that is not DeleteOptions", "DELETE", base + "/a", "application/json", `{"kind":"ConfigMap","apiVersion":"v1"}`, 400, ``},
		{"delete with the right uid", "DELETE", base + "/a", "application/json",
			`{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1","preconditions":{"uid":"` + uid + `"}}`, 200, `"status":"Success"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(tc.method, tc.url, tc.ctype, tc.body)
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Fatalf("got %d %s\nwant %d containing %s", code, body, tc.code, tc.contains)
			}
		})
	}
	// Nothing a refused request asked for happened.
	if code, body := do("GET", base+"/b", "", ""); code != 404 {
		t.Fatalf("refused create left b: %d %s", code, body)
	}
}
