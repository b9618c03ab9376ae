package apiserver

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

func patchTypeOf(contentType string) (types.PatchType, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = contentType
	}
	switch types.PatchType(mt) {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType:
		return types.PatchType(mt), nil
	}
	return "", newStatus(http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType,
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s, %s",
			types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType))
}

// applyJSONPatch applies a non-apply patch to the JSON of an object.
func applyJSONPatch(pt types.PatchType, cur, patch []byte, schema runtime.Object) ([]byte, error) {
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		out, err := p.Apply(cur)
		if err != nil {
			return nil, newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, err.Error())
		}
		return out, nil
	case types.MergePatchType:
		out, err := jsonpatch.MergePatch(cur, patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		return out, nil
	case types.StrategicMergePatchType:
		out, err := strategicpatch.StrategicMergePatch(cur, withoutTypeMeta(patch), schema)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		return out, nil
	}
	return nil, apierrors.NewBadRequest("unsupported patch type " + string(pt))
}

func (s *Server) servePatch(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	pt, err := patchTypeOf(r.Header.Get("Content-Type"))
	if err == nil && pt == types.StrategicMergePatchType && ri.res.Custom != nil {
		// Custom resources have no Go types to read patch strategies from.
		err = newStatus(http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType,
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s",
				types.JSONPatchType, types.MergePatchType, types.ApplyYAMLPatchType))
	}
	if err != nil {
		s.writeError(w, err)
		return
	}
	o, err := s.parseWriteOpts(r, "patch", pt)
	if err != nil {
		s.writeError(w, err)
		return
	}
	patch, err := readBody(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	force := o.force
	if ri.subresource == "finalize" {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return
	}
	var warnings []string
	wo := o.storage(ri.subresource)
	wo.Admission = s.admitter(w, r, ri, o.dryRun, o.fieldManager, nil)
	var fn registry.UpdateFunc
	if pt == types.ApplyYAMLPatchType {
		applied, err := s.decodeApply(patch, ri)
		if err != nil {
			s.writeError(w, err)
			return
		}
		fm := ri.res.FieldManager(ri.subresource)
		if fm == nil {
			s.writeError(w, apierrors.NewBadRequest("server-side apply is not supported on this subresource"))
			return
		}
		wo.SkipManagedFields = true
		wo.CreateIfMissing = ri.subresource == ""
		fn = func(cur runtime.Object) (runtime.Object, error) {
			live := cur
			if live == nil {
				live = ri.res.New()
				m, _ := meta.Accessor(live)
				m.SetName(ri.name)
				m.SetNamespace(ri.namespace)
				live.GetObjectKind().SetGroupVersionKind(ri.res.GVK())
			}
			out, err := fm.Apply(live, applied.DeepCopy(), o.fieldManager, force)
			if err != nil {
				if _, ok := err.(apierrors.APIStatus); ok {
					return nil, err
				}
				return nil, apierrors.NewBadRequest(err.Error())
			}
			return out, nil
		}
	} else {
		fn = func(cur runtime.Object) (runtime.Object, error) {
			curJSON, err := s.encode(target{mediaType: mtJSON}, cur)
			if err != nil {
				return nil, apierrors.NewInternalError(err)
			}
			patched, err := applyJSONPatch(pt, curJSON, patch, ri.res.New())
			if err != nil {
				return nil, err
			}
			obj, warns, err := s.decodeObject(mtJSON, patched, ri.res, o.fieldValidation)
			if err != nil {
				return nil, err
			}
			warnings = warns
			m, _ := meta.Accessor(obj)
			if m.GetName() != ri.name {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), ri.name))
			}
			if ri.res.Namespaced && m.GetNamespace() != ri.namespace {
				return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
			}
			return obj, nil
		}
	}
	out, created, err := s.storage.Update(r.Context(), ri.res, ri.namespace, ri.name, fn, wo)
	if err != nil {
		s.writeError(w, err)
		return
	}
	addWarnings(w, warnings)
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	s.respond(w, r, ri, target{mediaType: t.mediaType}, code, out)
}

// decodeApply reads an apply configuration (YAML or JSON) and checks it
// names the object of the URL.
func (s *Server) decodeApply(patch []byte, ri requestInfo) (*unstructured.Unstructured, error) {
	js, err := yaml.YAMLToJSON(patch)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding apply configuration: %v", err))
	}
	gvk := u.GroupVersionKind()
	if gvk.GroupVersion() != ri.res.GVK().GroupVersion() {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", gvk.GroupVersion(), ri.res.GVK().GroupVersion()))
	}
	if gvk.Kind != ri.res.Kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (%s)", gvk.Kind, ri.res.Kind))
	}
	if u.GetName() != ri.name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", u.GetName(), ri.name))
	}
	if ri.res.Namespaced {
		if u.GetNamespace() == "" {
			u.SetNamespace(ri.namespace)
		} else if u.GetNamespace() != ri.namespace {
			return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	}
	if len(u.GetManagedFields()) > 0 {
		return nil, apierrors.NewBadRequest("metadata.managedFields must be nil")
	}
	return u, nil
}

// withoutTypeMeta drops a strategic merge patch's top-level kind and
// apiVersion. kube-apiserver merges such a patch into the object's fields
// (runtime.DefaultUnstructuredConverter), where they change nothing: the
// Kubernetes Python client's scale patch (Ansible's k8s_scale) names the
// parent's kind on a Scale, and the real server scales. Anything that is
// not a JSON object is left for the patch to refuse.
func withoutTypeMeta(patch []byte) []byte {
	var top map[string]json.RawMessage
	if json.Unmarshal(patch, &top) != nil {
		return patch
	}
	_, kind := top["kind"]
	_, version := top["apiVersion"]
	if !kind && !version {
		return patch
	}
	delete(top, "kind")
	delete(top, "apiVersion")
	out, err := json.Marshal(top)
	if err != nil {
		return patch
	}
	return out
}
