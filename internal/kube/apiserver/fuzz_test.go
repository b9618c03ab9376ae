package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

var contentTypes = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "text/plain", ""}

func do(t testing.TB, srv *apiserver.Server, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec
}

// checkStatus asserts a failed answer is a Status object with the same code.
func checkStatus(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	var st struct {
		Kind, APIVersion, Status string
		Code                     int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" || st.Code != rec.Code {
		t.Fatalf("error answer %d is not a Status: %s", rec.Code, rec.Body.String())
	}
	if rec.Code >= 500 {
		t.Fatalf("server error for bad input: %s", rec.Body.String())
	}
}

// FuzzCreateBody posts arbitrary bodies as pods: every answer is 201 or a
// 4xx Status, and a failed request writes nothing.
func FuzzCreateBody(f *testing.F) {
	f.Add([]byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}]}}`), uint8(0))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: y\nspec:\n  containers:\n  - name: c\n    image: i\n"), uint8(1))
	f.Add([]byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"b"},"spec":{"containers":[{"name":"c"}]}}`), uint8(0))
	f.Add([]byte(`{"kind":"Service","apiVersion":"v1"}`), uint8(0))
	f.Add([]byte(`{"metadata":{"name":"x","resourceVersion":"5"}}`), uint8(0))
	f.Add([]byte("k8s\x00\x0a\x02v1"), uint8(2))
	f.Add([]byte(`{"spec":{"foo":1}}`), uint8(0))
	f.Add([]byte(`[]`), uint8(3))
	mem := memory.New(memory.Options{})
	f.Cleanup(func() { mem.Close() })
	srv := apiservertest.StartWith(f, apiservertest.Options{Store: mem})
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		before, _ := mem.Rev(context.Background())
		rec := do(t, srv, http.MethodPost, "/api/v1/namespaces/default/pods?fieldValidation=Strict", contentTypes[int(ct)%len(contentTypes)], body)
		if rec.Code == http.StatusCreated {
			return
		}
		checkStatus(t, rec)
		if after, _ := mem.Rev(context.Background()); after != before {
			t.Fatalf("failed create (%d) changed the store: %s", rec.Code, rec.Body.String())
		}
	})
}

var patchTypes = []string{"application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"}

// FuzzPatch sends arbitrary patches of every type to a deployment: failures
// are 4xx Status answers and leave the object as it was.
func FuzzPatch(f *testing.F) {
	f.Add([]byte(`{"metadata":{"labels":{"a":"b"}}}`), uint8(0))
	f.Add([]byte(`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"name":"c","image":"x"}]}}}}`), uint8(1))
	f.Add([]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"c","$patch":"delete"}]}}}}`), uint8(1))
	f.Add([]byte(`[{"op":"replace","path":"/spec/replicas","value":-1}]`), uint8(2))
	f.Add([]byte(`[{"op":"remove","path":"/metadata/name"}]`), uint8(2))
	f.Add([]byte(`{"metadata":{"resourceVersion":"1"}}`), uint8(0))
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 2\n"), uint8(3))
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\n"), uint8(3))
	f.Add([]byte(`{"spec":{"selector":null}}`), uint8(0))
	mem := memory.New(memory.Options{})
	f.Cleanup(func() { mem.Close() })
	srv := apiservertest.StartWith(f, apiservertest.Options{Store: mem})
	dep := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`)
	if rec := do(f, srv, http.MethodPost, "/apis/apps/v1/namespaces/default/deployments", "application/json", dep); rec.Code != http.StatusCreated {
		f.Fatalf("setup: %s", rec.Body.String())
	}
	f.Fuzz(func(t *testing.T, patch []byte, pt uint8) {
		before, _ := mem.Rev(context.Background())
		rec := do(t, srv, http.MethodPatch, "/apis/apps/v1/namespaces/default/deployments/d?fieldManager=fuzz&fieldValidation=Strict", patchTypes[int(pt)%len(patchTypes)], patch)
		if rec.Code == http.StatusOK || rec.Code == http.StatusCreated {
			return
		}
		checkStatus(t, rec)
		if after, _ := mem.Rev(context.Background()); after != before {
			t.Fatalf("failed patch (%d) changed the store: %s", rec.Code, rec.Body.String())
		}
	})
}
