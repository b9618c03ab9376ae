package apiserver

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// TestDecodeCustomJSON checks the custom resources' one-pass decoding
// against the strict JSON serializer: where it answers, it answers as the
// serializer does; every body the serializer refuses or warns about is
// left to the serializer.
func TestDecodeCustomJSON(t *testing.T) {
	strict := registry.NewCodecs().Strict
	gvk := schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
	for _, tc := range []struct {
		name, body string
		fast       bool
	}{
		{"plain", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":3,"ratio":0.5,"big":12345678901234567890}}`, true},
		{"other version", `{"apiVersion":"example.com/v1beta1","kind":"Widget","metadata":{"name":"w"}}`, true},
		{"null apiVersion", `{"apiVersion":null,"kind":"Widget"}`, true},
		{"no kind", `{"apiVersion":"example.com/v1","metadata":{"name":"w"}}`, false},
		{"kind not a string", `{"apiVersion":"example.com/v1","kind":5}`, false},
		{"apiVersion not a string", `{"apiVersion":["x"],"kind":"Widget"}`, false},
		{"cased kind", `{"apiVersion":"example.com/v1","Kind":"Widget","kind":"Widget"}`, false},
		{"two slashes", `{"apiVersion":"a/b/c","kind":"Widget"}`, false},
		{"duplicate field", `{"apiVersion":"example.com/v1","kind":"Widget","spec":{"a":1,"a":2}}`, false},
		{"bad json", `{"apiVersion":"example.com/v1","kind":"Widget"`, false},
		{"not an object", `[1,2]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, actual, ok := decodeCustomJSON([]byte(tc.body))
			if ok != tc.fast {
				t.Fatalf("fast = %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			want, wantGVK, err := strict.Decode([]byte(tc.body), &gvk, &unstructured.Unstructured{})
			if err != nil {
				t.Fatalf("the serializer refused what the fast path took: %v", err)
			}
			if *actual != *wantGVK {
				t.Errorf("gvk %v, want %v", actual, wantGVK)
			}
			if !equality.Semantic.DeepEqual(u.Object, want.(*unstructured.Unstructured).Object) {
				t.Errorf("got %#v, want %#v", u.Object, want.(*unstructured.Unstructured).Object)
			}
		})
	}
}
