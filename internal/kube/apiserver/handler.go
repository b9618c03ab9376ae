package apiserver

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/auth"
	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// requestInfo is a parsed resource path.
type requestInfo struct {
	verb                                                   string
	group, version, namespace, resource, name, subresource string
	res                                                    *registry.Resource
}

// parsePath splits /api/v1/... and /apis/<g>/<v>/... into a requestInfo.
// ok is false for paths that are not resource paths.
func parsePath(path string) (ri requestInfo, ok bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		ri.version, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		ri.group, ri.version, parts = parts[1], parts[2], parts[3:]
	default:
		return ri, false
	}
	if parts[0] == "namespaces" && len(parts) >= 3 && parts[2] != "status" && parts[2] != "finalize" {
		ri.namespace, parts = parts[1], parts[2:]
	}
	ri.resource = parts[0]
	if len(parts) > 1 {
		ri.name = parts[1]
	}
	if len(parts) > 2 {
		ri.subresource = parts[2]
	}
	if len(parts) > 3 || ri.resource == "" {
		return ri, false
	}
	return ri, true
}

func (s *Server) buildHandler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	switch r.URL.Path {
	case "/healthz", "/livez", "/readyz", "/healthz/ping", "/livez/ping", "/readyz/ping":
		if strings.HasPrefix(r.URL.Path, "/readyz") && !s.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
		return
	}
	u, err := s.auth.authn.Authenticate(r)
	if u == nil && err == nil && !s.opts.NoAnonymous {
		// No credentials at all: the anonymous user, allowed what RBAC
		// grants system:unauthenticated (/version, the health checks),
		// as kube-apiserver with --anonymous-auth (its default).
		u = &auth.User{Name: auth.UserAnonymous, Groups: []string{auth.GroupUnauthenticated}}
	}
	if u == nil || err != nil {
		s.writeError(w, newStatus(http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized"))
		s.metrics.requests.WithLabelValues("", "", "401").Inc()
		return
	}
	rw := &statusRecorder{ResponseWriter: w, code: 200}
	verb, resource := s.authorizeAndRoute(rw, r, u)
	if verb != "watch" && verb != "log" {
		s.metrics.latency.WithLabelValues(verb, resource).Observe(time.Since(start).Seconds())
	}
	s.metrics.requests.WithLabelValues(verb, resource, strconv.Itoa(rw.code)).Inc()
}

// statusRecorder remembers the response code for metrics and passes
// flushes through for watches.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection over for pods/exec, attach and portforward,
// whose upgraded streams are passed through to the node.
func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.code, w.wrote = http.StatusSwitchingProtocols, true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) (verb, resource string) {
	p := r.URL.Path
	switch {
	case p == "/version" || p == "/version/":
		s.serveVersion(w, r)
		return "get", "version"
	case p == "/api" || p == "/api/":
		s.serveAPI(w, r)
		return "get", "discovery"
	case p == "/apis" || p == "/apis/":
		s.serveAPIs(w, r)
		return "get", "discovery"
	case strings.HasPrefix(p, "/openapi/"):
		s.serveOpenAPI(w, r)
		return "get", "openapi"
	}
	if strings.HasPrefix(p, metricsPrefix) {
		s.serveMetrics(w, r)
		return "get", "metrics"
	}
	if gv, ok := groupVersionPath(p); ok {
		s.serveResourceList(w, r, gv)
		return "get", "discovery"
	}
	if strings.HasPrefix(p, kubeletServingCertPath) {
		s.serveKubeletServingCert(w, r)
		return "create", "kubelet-serving-certificate"
	}
	ri, ok := parsePath(p)
	if !ok {
		s.writeError(w, notFoundPath())
		return "", ""
	}
	if ri.group == "" && ri.resource == "pods" && ri.name != "" && ri.namespace != "" &&
		(ri.subresource == "exec" || ri.subresource == "attach" || ri.subresource == "portforward") {
		ri.res = s.reg.Lookup("", "v1", "pods")
		s.servePodStream(w, r, ri)
		return ri.subresource, ri.resource
	}
	ri.res = s.reg.Lookup(ri.group, ri.version, ri.resource)
	if ri.res == nil || (ri.subresource != "" && !ri.res.HasSubresource(ri.subresource)) || (ri.namespace != "" && !ri.res.Namespaced) {
		s.writeError(w, notFoundPath())
		return "", ri.resource
	}
	if !ri.res.Namespaced {
		ri.namespace = ""
	}
	q := r.URL.Query()
	if ri.verb, ok = s.resourceVerb(r.Method, ri, q); !ok || (ri.subresource == "" && !slices.Contains(verbsOf(ri.res), ri.verb)) {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return r.Method, ri.resource
	}
	if ri.subresource == "log" {
		if ri.verb != "get" {
			s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
			return ri.verb, ri.resource
		}
		s.serveLog(w, r, ri)
		return "log", ri.resource
	}
	if (ri.verb == "create" && ri.name != "" && ri.subresource == "") || (ri.verb != "create" && ri.verb != "list" && ri.verb != "watch" && ri.verb != "deletecollection" && ri.name == "") {
		s.writeError(w, notFoundPath())
		return ri.verb, ri.resource
	}
	s.serveResource(w, r, ri)
	return ri.verb, ri.resource
}

// notFoundPath is the real server's 404 for a path it does not serve,
// with the empty details it carries (kubectl debug reads them).
func notFoundPath() error {
	err := newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
	err.ErrStatus.Details = &metav1.StatusDetails{}
	return err
}

func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	t, ok := negotiateFor(r.Header.Get("Accept"), ri.res.Custom != nil)
	if !ok {
		s.writeError(w, newStatus(http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable,
			"only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"))
		return
	}
	switch ri.subresource {
	case "scale":
		s.serveScale(w, r, ri, t)
		return
	case "binding":
		if ri.verb != "create" {
			s.writeError(w, notFoundPath())
			return
		}
		s.serveBinding(w, r, ri, t)
		return
	case "eviction":
		if ri.verb != "create" {
			s.writeError(w, notFoundPath())
			return
		}
		s.serveEviction(w, r, ri, t)
		return
	}
	switch ri.verb {
	case "get":
		s.serveGet(w, r, ri, t)
	case "list":
		s.serveList(w, r, ri, t)
	case "watch":
		s.serveWatch(w, r, ri, t)
	case "create":
		if ri.subresource != "" {
			s.writeError(w, notFoundPath())
			return
		}
		s.serveCreate(w, r, ri, t)
	case "update":
		s.serveUpdate(w, r, ri, t)
	case "patch":
		s.servePatch(w, r, ri, t)
	case "delete":
		if ri.subresource != "" {
			s.writeError(w, notFoundPath())
			return
		}
		s.serveDelete(w, r, ri, t)
	case "deletecollection":
		s.serveDeleteCollection(w, r, ri, t)
	}
}

// badRequest is a 400 Status.
func badRequest(msg string) error { return apierrors.NewBadRequest(msg) }

// isWatch tells a watch from a list as the real server's request-info
// resolver does: the watch parameter decoded through the parameter codec,
// so every spelling but "false" and "0" (the Python client sends "True")
// is a watch.
func (s *Server) isWatch(q url.Values) bool {
	if len(q["watch"]) == 0 {
		return false
	}
	var opts metav1.ListOptions
	if err := s.codecs.Params.DecodeParameters(q, metav1.SchemeGroupVersion, &opts); err != nil {
		return false // the list's own decoding reports the error
	}
	return opts.Watch
}
