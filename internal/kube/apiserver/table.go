package apiserver

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// partial returns obj's metadata as a PartialObjectMetadata.
func partial(obj runtime.Object, version string) *metav1.PartialObjectMetadata {
	m, _ := obj.(metav1.ObjectMetaAccessor)
	p := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/" + version, Kind: "PartialObjectMetadata"}}
	if m != nil {
		if om, ok := m.GetObjectMeta().(*metav1.ObjectMeta); ok {
			p.ObjectMeta = *om
		}
	}
	return p
}

// toTable prints objs as the resource's table. includeObject is "None",
// "Object" or "Metadata" (the default).
func (s *Server) toTable(r *registry.Resource, objs []runtime.Object, version, includeObject string, headers bool) (*metav1.Table, error) {
	if version == "" {
		version = "v1"
	}
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/" + version, Kind: "Table"}}
	if headers {
		t.ColumnDefinitions = r.Columns
	} else {
		t.ColumnDefinitions = []metav1.TableColumnDefinition{}
	}
	t.Rows = make([]metav1.TableRow, 0, len(objs))
	now := s.now()
	for _, obj := range objs {
		row := metav1.TableRow{Cells: r.Row(obj, now)}
		switch includeObject {
		case "None":
		case "Object":
			raw, err := s.encode(target{mediaType: mtJSON}, obj)
			if err != nil {
				return nil, err
			}
			row.Object.Raw = raw
		default:
			p := partial(obj, "v1")
			p.ManagedFields = nil
			raw, err := json.Marshal(p)
			if err != nil {
				return nil, err
			}
			row.Object.Raw = raw
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}
