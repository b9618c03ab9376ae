package apiserver

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// maxBody is the largest request body accepted (as kube-apiserver: 3 MiB).
const maxBody = 3 << 20

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBody))
	}
	return data, nil
}

// writeOpts are the query parameters every write takes.
type writeOpts struct {
	dryRun          bool
	fieldManager    string
	fieldValidation string // Strict, Warn or Ignore
	force           bool   // server-side apply only
}

// parseWriteOpts decodes a write's query parameters as the real server
// does: through the parameter codec into the verb's options type
// (CreateOptions, UpdateOptions or PatchOptions), then apimachinery's
// validation of that type, so spellings, defaults and error texts are the
// real ones. patchType is the body's type for a patch, "" otherwise.
func (s *Server) parseWriteOpts(r *http.Request, verb string, patchType types.PatchType) (writeOpts, error) {
	q := r.URL.Query()
	var (
		o    writeOpts
		errs field.ErrorList
		kind string
	)
	switch verb {
	case "create":
		var co metav1.CreateOptions
		if err := s.codecs.Params.DecodeParameters(q, metav1.SchemeGroupVersion, &co); err != nil {
			return o, apierrors.NewBadRequest(err.Error())
		}
		kind, errs = "CreateOptions", metav1validation.ValidateCreateOptions(&co)
		o.dryRun, o.fieldManager, o.fieldValidation = len(co.DryRun) > 0, co.FieldManager, co.FieldValidation
	case "patch":
		var po metav1.PatchOptions
		if err := s.codecs.Params.DecodeParameters(q, metav1.SchemeGroupVersion, &po); err != nil {
			return o, apierrors.NewBadRequest(err.Error())
		}
		kind, errs = "PatchOptions", metav1validation.ValidatePatchOptions(&po, patchType)
		o.dryRun, o.fieldManager, o.fieldValidation = len(po.DryRun) > 0, po.FieldManager, po.FieldValidation
		o.force = po.Force != nil && *po.Force
	default: // update, and the subresources written with PUT or POST
		var uo metav1.UpdateOptions
		if err := s.codecs.Params.DecodeParameters(q, metav1.SchemeGroupVersion, &uo); err != nil {
			return o, apierrors.NewBadRequest(err.Error())
		}
		kind, errs = "UpdateOptions", metav1validation.ValidateUpdateOptions(&uo)
		o.dryRun, o.fieldManager, o.fieldValidation = len(uo.DryRun) > 0, uo.FieldManager, uo.FieldValidation
	}
	if len(errs) > 0 {
		return o, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: kind}, "", errs)
	}
	if o.fieldManager == "" && patchType != types.ApplyYAMLPatchType {
		// As the real server: a manager named after the client's user agent.
		ua := r.Header.Get("User-Agent")
		if i := strings.IndexByte(ua, '/'); i >= 0 {
			ua = ua[:i]
		}
		if len(ua) > 128 {
			ua = ua[:128]
		}
		o.fieldManager = ua
	}
	if o.fieldValidation == "" {
		o.fieldValidation = metav1.FieldValidationWarn
	}
	return o, nil
}

func (o writeOpts) storage(sub string) registry.WriteOptions {
	return registry.WriteOptions{DryRun: o.dryRun, FieldManager: o.fieldManager, Subresource: sub}
}

// decodeObject decodes a request body into a new object of the resource,
// honouring fieldValidation. It returns the warnings to send.
func (s *Server) decodeObject(contentType string, data []byte, res *registry.Resource, validation string) (runtime.Object, []string, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = mtJSON, nil
	}
	if err != nil {
		return nil, nil, unsupportedMedia(contentType)
	}
	gvk := res.GVK()
	strict := validation != "Ignore"
	var dec runtime.Decoder
	switch mt {
	case mtJSON:
		dec = s.codecs.JSON
		if strict {
			dec = s.codecs.Strict
		}
	case mtYAML:
		dec = s.codecs.YAML
		if strict {
			dec = s.codecs.StrictYAML
		}
	case mtProtobuf:
		if res.Custom != nil {
			return nil, nil, unsupportedMedia(contentType)
		}
		dec = s.codecs.Protobuf
	default:
		return nil, nil, unsupportedMedia(contentType)
	}
	var obj runtime.Object
	var actual *schema.GroupVersionKind
	if res.Custom != nil && mt == mtJSON && strict {
		if u, a, ok := decodeCustomJSON(data); ok {
			obj, actual = u, a
		}
	}
	if obj == nil {
		obj, actual, err = dec.Decode(data, &gvk, res.New())
	}
	var warnings []string
	if err != nil {
		if se, ok := runtime.AsStrictDecodingError(err); ok && obj != nil {
			if validation == "Strict" {
				return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, se))
			}
			for _, e := range se.Errors() {
				warnings = append(warnings, e.Error())
			}
		} else {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err))
		}
	}
	if actual != nil && (actual.Group != gvk.Group || actual.Version != gvk.Version) {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", actual.GroupVersion(), gvk.GroupVersion()))
	}
	if actual != nil && actual.Kind != gvk.Kind {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (%s)", actual.Kind, gvk.Kind))
	}
	if u, ok := obj.(*unstructured.Unstructured); ok && res.Custom != nil {
		// As the real server's decoder: unknown fields are pruned, and
		// reported as strict decoding errors.
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("Object 'Kind' is missing in '%s'", truncate(data)))
		}
		unknown, err := res.Custom.Coerce(u, validation != "Ignore")
		if err != nil {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err))
		}
		var errs []error
		for _, path := range unknown {
			errs = append(errs, fmt.Errorf(`unknown field "%s"`, path))
		}
		if len(errs) > 0 {
			se := runtime.NewStrictDecodingError(errs)
			if validation == "Strict" {
				return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, se))
			}
			for _, e := range errs {
				warnings = append(warnings, e.Error())
			}
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		return obj, warnings, nil
	}
	if _, ok := obj.(metav1.ObjectMetaAccessor); !ok {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("unable to decode body as %s", gvk.Kind))
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, warnings, nil
}

func unsupportedMedia(ct string) error {
	return newStatus(http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType,
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got %q)", ct))
}

// addWarnings sets the Warning headers the way kube-apiserver does.
func addWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", "299 - "+strconv.Quote(msg))
	}
}

func truncate(data []byte) string {
	if len(data) > 256 {
		return string(data[:256])
	}
	return string(data)
}
