package apiserver

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"
)

// decodeCustomJSON decodes a custom resource's JSON body as the strict JSON
// serializer does into an *unstructured.Unstructured (one case-sensitive
// parse keeping integers), without the serializer's first pass, which
// parses the whole body once more only to read apiVersion and kind that
// decoding into an Unstructured then ignores.
//
// It answers only for a body that pass would accept and that has no
// strict errors: ok is false for anything else (bad JSON, a non-string or
// differently cased apiVersion or kind, an apiVersion with two slashes, a
// missing kind, duplicate fields), and the caller decodes with the
// serializer, which then gives its own error texts.
func decodeCustomJSON(data []byte) (*unstructured.Unstructured, *schema.GroupVersionKind, bool) {
	m := map[string]any{}
	strictErrs, err := kjson.UnmarshalStrict(data, &m, kjson.DisallowDuplicateFields)
	if err != nil || len(strictErrs) > 0 {
		return nil, nil, false
	}
	for k, v := range m {
		if !strings.EqualFold(k, "apiVersion") && !strings.EqualFold(k, "kind") {
			continue
		}
		if _, ok := v.(string); (!ok && v != nil) || (k != "apiVersion" && k != "kind") {
			return nil, nil, false
		}
	}
	u := &unstructured.Unstructured{Object: m}
	if _, err := schema.ParseGroupVersion(u.GetAPIVersion()); err != nil {
		return nil, nil, false
	}
	gvk := u.GroupVersionKind()
	if gvk.Kind == "" {
		return nil, nil, false
	}
	return u, &gvk, true
}
