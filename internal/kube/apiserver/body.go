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
	"k8s.io/apimachinery/pkg/runtime"

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
}

func parseWriteOpts(r *http.Request) (writeOpts, error) {
	q := r.URL.Query()
	var o writeOpts
	for _, d := range q["dryRun"] {
		if d != metav1.DryRunAll {
			return o, apierrors.NewBadRequest(fmt.Sprintf("Invalid dryRun: Unsupported value: %q: supported values: \"All\"", d))
		}
		o.dryRun = true
	}
	o.fieldManager = q.Get("fieldManager")
	if len(o.fieldManager) > 128 {
		return o, apierrors.NewBadRequest("fieldManager: Too long: may not be longer than 128")
	}
	if o.fieldManager == "" {
		ua := r.Header.Get("User-Agent")
		if i := strings.IndexByte(ua, '/'); i >= 0 {
			ua = ua[:i]
		}
		if len(ua) > 128 {
			ua = ua[:128]
		}
		o.fieldManager = ua
	}
	switch v := q.Get("fieldValidation"); v {
	case "":
		o.fieldValidation = "Warn"
	case "Strict", "Warn", "Ignore":
		o.fieldValidation = v
	default:
		return o, apierrors.NewBadRequest(fmt.Sprintf("fieldValidation parameter unsupported: %s", v))
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
		dec = s.codecs.Protobuf
	default:
		return nil, nil, unsupportedMedia(contentType)
	}
	obj, actual, err := dec.Decode(data, &gvk, res.New())
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
