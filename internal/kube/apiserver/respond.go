package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Media types.
const (
	mtJSON     = "application/json"
	mtYAML     = "application/yaml"
	mtProtobuf = "application/vnd.kubernetes.protobuf"
)

// target is what the client asked to receive.
type target struct {
	mediaType string // mtJSON, mtYAML or mtProtobuf
	// as is "" (the object), "Table", "PartialObjectMetadata" or "PartialObjectMetadataList".
	as      string
	version string // of meta.k8s.io for as=
}

// negotiateFor picks the first acceptable entry of the Accept header for a
// resource; custom resources, like the real server's, have no protobuf form
// (but their tables and metadata do).
func negotiateFor(accept string, custom bool) (target, bool) {
	if strings.TrimSpace(accept) == "" {
		return target{mediaType: mtJSON}, true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		var t target
		switch mt {
		case mtJSON, "*/*", "application/*", "application/json-patch+json", "application/merge-patch+json":
			t.mediaType = mtJSON
		case mtYAML:
			t.mediaType = mtYAML
		case mtProtobuf:
			t.mediaType = mtProtobuf
		default:
			continue
		}
		if as := params["as"]; as != "" {
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			switch as {
			case "Table":
				if t.mediaType != mtJSON {
					continue
				}
			case "PartialObjectMetadata", "PartialObjectMetadataList":
			default:
				continue
			}
			t.as, t.version = as, params["v"]
		}
		if custom && t.mediaType == mtProtobuf && t.as == "" {
			continue
		}
		return t, true
	}
	return target{}, false
}

func (t target) contentType() string {
	if t.as != "" {
		return t.mediaType + ";as=" + t.as + ";v=" + t.version + ";g=meta.k8s.io"
	}
	return t.mediaType
}

// encode writes obj in the target media type.
func (s *Server) encode(t target, obj runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch t.mediaType {
	case mtProtobuf:
		err = s.codecs.Protobuf.Encode(obj, &buf)
	case mtYAML:
		err = s.codecs.YAML.Encode(obj, &buf)
	default:
		err = s.codecs.JSON.Encode(obj, &buf)
	}
	return buf.Bytes(), err
}

// writeObject writes obj with the given status code.
func (s *Server) writeObject(w http.ResponseWriter, t target, code int, obj runtime.Object) {
	data, err := s.encode(t, obj)
	if err != nil {
		s.writeError(w, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", t.contentType())
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// writeRaw writes already-encoded JSON.
func writeRaw(w http.ResponseWriter, contentType string, code int, data []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// statusOf turns any error into the API's Status.
func statusOf(err error) *metav1.Status {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		s := st.Status()
		return &s
	}
	s := apierrors.NewInternalError(err).Status()
	return &s
}

// writeError writes err as a Status object (always JSON, which every
// client decodes whatever it asked for).
func (s *Server) writeError(w http.ResponseWriter, err error) {
	st := statusOf(err)
	st.Kind, st.APIVersion = "Status", "v1"
	if st.Status == "" {
		st.Status = metav1.StatusFailure
	}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if st.Code >= 500 {
		s.log.Error("request failed", "code", st.Code, "reason", st.Reason, "err", st.Message)
	}
	data, merr := json.Marshal(st)
	if merr != nil {
		data = fmt.Appendf(nil, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"code":500}`, merr.Error())
	}
	data = append(data, '\n')
	writeRaw(w, mtJSON, int(st.Code), data)
}

// newStatus builds a Status error with the given code, reason and message.
func newStatus(code int32, reason metav1.StatusReason, msg string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg}}
}
