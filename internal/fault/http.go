package fault

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// kubeRequest is what a Kubernetes API request is about.
type kubeRequest struct {
	verb, resource, namespace, name string
}

// kubeRequests names requests as kube-apiserver does for authorization
// and audit: the same verbs (watch for any true spelling of ?watch=,
// deletecollection) and "resource/subresource".
var kubeRequests = &request.RequestInfoFactory{
	APIPrefixes:          sets.String(sets.New("api", "apis")),
	GrouplessAPIPrefixes: sets.String(sets.New("api")),
}

// parseKube reads /api/v1/… and /apis/GROUP/VERSION/… paths; ok is false
// for anything else (discovery, /version, health checks).
func parseKube(r *http.Request) (kubeRequest, bool) {
	info, err := kubeRequests.NewRequestInfo(r)
	if err != nil || !info.IsResourceRequest {
		return kubeRequest{}, false
	}
	k := kubeRequest{verb: info.Verb, resource: info.Resource, namespace: info.Namespace, name: info.Name}
	if info.Subresource != "" {
		k.resource += "/" + info.Subresource
	}
	return k, true
}

// Kube wraps the Kubernetes API's handler with the set's kube-api rules.
func (s *Set) Kube(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, ok := parseKube(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		rule := s.hit(KindKube, func(ru *Rule) bool {
			return matches(ru.Verb, k.verb) && matches(ru.Resource, k.resource) && matches(ru.Namespace, k.namespace) &&
				matches(ru.Name, k.name) && strings.Contains(r.UserAgent(), ru.UserAgent) && (ru.DisconnectAfter == 0 || k.verb == "watch")
		})
		if rule == nil {
			next.ServeHTTP(w, r)
			return
		}
		if serve(w, r, rule, kubeStatus) {
			return
		}
		if rule.DisconnectAfter > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), time.Duration(rule.DisconnectAfter))
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// kubeStatus answers as kube-apiserver does: a Status with the reason
// and message it gives for that code.
func kubeStatus(w http.ResponseWriter, rule *Rule) {
	reason, msg := "InternalError", "Internal error occurred: injected fault "+rule.ID
	switch rule.Status {
	case http.StatusTooManyRequests:
		reason, msg = "TooManyRequests", "the server has received too many requests and has asked us to try again later"
	case http.StatusConflict:
		reason, msg = "Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again"
	case http.StatusServiceUnavailable:
		reason, msg = "ServiceUnavailable", "the server is currently unable to handle the request"
	case http.StatusGatewayTimeout:
		reason, msg = "Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"
	case http.StatusNotFound:
		reason, msg = "NotFound", "the server could not find the requested resource"
	case http.StatusForbidden:
		reason, msg = "Forbidden", "forbidden: injected fault "+rule.ID
	}
	st := map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Failure",
		"message": msg, "reason": reason, "code": rule.Status}
	if rule.RetryAfter > 0 {
		st["details"] = map[string]any{"retryAfterSeconds": rule.RetryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rule.Status)
	_ = json.NewEncoder(w).Encode(st)
}

// GCE wraps the GCE gateway's handler with the set's gce-api rules.
func (s *Set) GCE(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule := s.hit(KindGCE, func(ru *Rule) bool {
			return (ru.Method == "" || strings.EqualFold(ru.Method, r.Method)) && strings.Contains(r.URL.Path, ru.Path) &&
				strings.Contains(r.UserAgent(), ru.UserAgent) && (ru.Project == "" || aboutProject(r.URL.Path, ru.Project))
		})
		if rule == nil || !serve(w, r, rule, gceError) {
			next.ServeHTTP(w, r)
		}
	})
}

// gceError answers in Google's error format.
func gceError(w http.ResponseWriter, rule *Rule) {
	reason, status := "backendError", "INTERNAL"
	switch rule.Status {
	case http.StatusTooManyRequests:
		reason, status = "rateLimitExceeded", "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		reason, status = "backendError", "UNAVAILABLE"
	case http.StatusConflict:
		reason, status = "alreadyExists", "ALREADY_EXISTS"
	case http.StatusNotFound:
		reason, status = "notFound", "NOT_FOUND"
	case http.StatusForbidden:
		reason, status = "forbidden", "PERMISSION_DENIED"
	}
	msg := "Injected fault " + rule.ID
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(rule.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": rule.Status, "message": msg, "status": status,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}}}})
}

// aboutProject: the GCE request's path names the project
// (…/projects/NAME or …/projects/NAME/…).
func aboutProject(path, project string) bool {
	_, rest, ok := strings.Cut(path, "/projects/"+project)
	return ok && (rest == "" || rest[0] == '/')
}
