package apiserver

import (
	"encoding/json"

	"k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder"

	"github.com/stratus-cloud/stratus/internal/kube/openapi"
	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// customDefs builds a custom resource's OpenAPI definitions as
// apiextensions-apiserver's OpenAPI controllers do (v2 and v3, from the
// CRD's schema of that version), so `kubectl explain`, client-side
// validation and Helm see them.
func customDefs(r *registry.Resource) (*openapi.Defs, error) {
	crd := r.Custom.V1
	v2, err := builder.BuildOpenAPIV2(crd, r.Version, builder.Options{V2: true, IncludeSelectableFields: true})
	if err != nil {
		return nil, err
	}
	v3, err := builder.BuildOpenAPIV3(crd, r.Version, builder.Options{V2: false, IncludeSelectableFields: true})
	if err != nil {
		return nil, err
	}
	d := &openapi.Defs{V2: map[string]json.RawMessage{}, V3: map[string]json.RawMessage{}}
	for name, sch := range v2.Definitions {
		raw, err := json.Marshal(sch)
		if err != nil {
			return nil, err
		}
		d.V2[name] = raw
		if gvkOf(raw, r.Group, r.Version, r.Kind) {
			d.Kind = name
		} else if gvkOf(raw, r.Group, r.Version, r.ListKind) {
			d.List = name
		}
	}
	if v3.Components != nil {
		for name, sch := range v3.Components.Schemas {
			raw, err := json.Marshal(sch)
			if err != nil {
				return nil, err
			}
			d.V3[name] = raw
		}
	}
	return d, nil
}

// gvkOf reports whether a definition declares group/version/kind in its
// x-kubernetes-group-version-kind.
func gvkOf(raw []byte, group, version, kind string) bool {
	var ext struct {
		GVKs []openapi.GVK `json:"x-kubernetes-group-version-kind"`
	}
	if json.Unmarshal(raw, &ext) != nil {
		return false
	}
	for _, g := range ext.GVKs {
		if g.Group == group && g.Version == version && g.Kind == kind {
			return true
		}
	}
	return false
}
