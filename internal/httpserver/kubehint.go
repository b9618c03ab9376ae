package httpserver

import (
	"encoding/json"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KubeHintPatterns are the Kubernetes API paths a client tries first
// (discovery and /version). kubectl with no kubeconfig talks to
// localhost:8080, which is this front, so they are answered with a hint.
var KubeHintPatterns = []string{"/api", "/api/", "/apis", "/apis/", "GET /version", "GET /version/"}

// KubeHint answers a Kubernetes client that reached the HTTP front instead
// of the Kubernetes API: a 403 Status whose message says where the API is
// and which command points the client at it. message is called per
// request (the API's address is known only once it listens).
//
// 403 because it is the one code client-go keeps the server's words for:
// discovery reads bodies raw, so a Status is never decoded there, and of
// the codes it does not decode it keeps the message only for 403 (404 would
// even be read as "no legacy API" and end in "the server doesn't have a
// resource type"). client-go sends "<program>/<version> (<os>/<arch>)
// kubernetes/<commit>" as its user agent; those clients get the message as
// text, which client-go shows whole; every other client gets the Status.
func KubeHint(message func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := message()
		if strings.Contains(r.UserAgent(), " kubernetes/") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(msg + "\n"))
			return
		}
		st := metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure,
			Message:  msg,
			Reason:   metav1.StatusReasonForbidden,
			Code:     http.StatusForbidden,
		}
		b, _ := json.Marshal(st)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(append(b, '\n'))
	})
}
