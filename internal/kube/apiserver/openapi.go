package apiserver

import (
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/openapi"
)

// OpenAPI media types: the protobuf form kubectl 1.27 and 1.28 ask for, and
// the content type kube-openapi answers it with.
const (
	mtOpenAPIv2PB      = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	mtOpenAPIv2PBReply = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
)

// openAPISpec returns the documents of the served resources; they are built
// on the first request for one of them after a change of the CRDs.
func (s *Server) openAPISpec() *openapi.Spec {
	gen := s.reg.CustomGeneration()
	s.openapiMu.Lock()
	defer s.openapiMu.Unlock()
	if s.openapi == nil || s.openapiGen != gen {
		s.openapiGen = gen
		var rs []openapi.Resource
		for _, r := range s.reg.All() {
			or := openapi.Resource{Group: r.Group, Version: r.Version, Name: r.Name, Kind: r.Kind, Namespaced: r.Namespaced, Verbs: verbsOf(r)}
			if r.Custom != nil {
				defs, err := customDefs(r)
				if err != nil {
					s.log.Warn("openapi: custom resource", "crd", r.Custom.CRD, "version", r.Version, "err", err)
					continue
				}
				or.Defs = defs
			}
			for _, sub := range r.Subresources {
				g, v, k := subresourceKind(r, sub)
				or.Subresources = append(or.Subresources, openapi.Subresource{Name: sub, Kind: openapi.GVK{Group: g, Version: v, Kind: k}, Verbs: subresourceVerbs(sub)})
			}
			rs = append(rs, or)
		}
		s.openapi = openapi.New(kubeGit, rs)
	}
	return s.openapi
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	spec := s.openAPISpec()
	p := strings.TrimPrefix(r.URL.Path, "/openapi/")
	switch {
	case p == "v2" || p == "v2/":
		s.serveOpenAPIv2(w, r, spec)
		return
	case p == "v3" || p == "v3/":
		root, err := spec.V3Index()
		if err != nil {
			s.writeError(w, err)
			return
		}
		writeOpenAPI(w, r, mtJSON, openapi.Hash(root), root)
		return
	case strings.HasPrefix(p, "v3/"):
		name := strings.TrimSuffix(strings.TrimPrefix(p, "v3/"), "/")
		doc, h, ok, err := spec.V3(name)
		if err != nil {
			s.writeError(w, err)
			return
		}
		if !ok {
			break
		}
		if !accepts(r, mtJSON) {
			s.writeError(w, newStatus(http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable, "only application/json is served for OpenAPI v3"))
			return
		}
		if q := r.URL.Query().Get("hash"); q != "" {
			if q != h {
				http.Redirect(w, r, "/openapi/v3/"+name+"?hash="+h, http.StatusMovedPermanently)
				return
			}
			// The hash names this content for good.
			w.Header().Set("Cache-Control", "public, immutable")
			w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
		}
		w.Header().Set("Vary", "Accept")
		writeOpenAPI(w, r, mtJSON, h, doc)
		return
	}
	s.writeError(w, notFoundPath())
}

func (s *Server) serveOpenAPIv2(w http.ResponseWriter, r *http.Request, spec *openapi.Spec) {
	w.Header().Set("Vary", "Accept")
	switch {
	case accepts(r, mtOpenAPIv2PB) || accepts(r, mtOpenAPIv2PBReply):
		pb, err := spec.V2Protobuf()
		if err != nil {
			s.writeError(w, err)
			return
		}
		writeOpenAPI(w, r, mtOpenAPIv2PBReply, openapi.Hash(pb), pb)
	case accepts(r, mtJSON):
		js, err := spec.V2()
		if err != nil {
			s.writeError(w, err)
			return
		}
		writeOpenAPI(w, r, mtJSON, openapi.Hash(js), js)
	default:
		s.writeError(w, newStatus(http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable, "only application/json and "+mtOpenAPIv2PB+" are served for OpenAPI v2"))
	}
}

// accepts reports whether the request's Accept header allows mediaType
// (no header, */* and application/* allow everything).
func accepts(r *http.Request, mediaType string) bool {
	h := r.Header.Get("Accept")
	if h == "" {
		return true
	}
	for _, part := range strings.Split(h, ",") {
		mt := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if mt == mediaType || mt == "*/*" || mt == "application/*" {
			return true
		}
	}
	return false
}

// writeOpenAPI answers with a document and its ETag, or 304 when the client
// already has it.
func writeOpenAPI(w http.ResponseWriter, r *http.Request, contentType, hash string, data []byte) {
	etag := `"` + hash + `"`
	w.Header().Set("Etag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeRaw(w, contentType, http.StatusOK, data)
}
