package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/proxy"
)

// servePodStream serves pods/exec, pods/attach and pods/portforward as
// kube-apiserver does: it checks the pod and container, then passes the
// upgraded connection (SPDY or WebSocket, whatever the client negotiated)
// through to the node agent's /exec, /attach or /portForward over the
// node channel (nodechannel.go). The client's credentials stay here.
func (s *Server) servePodStream(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return
	}
	obj, err := s.storage.Get(r.Context(), ri.res, ri.namespace, ri.name)
	if err != nil {
		s.writeError(w, err)
		return
	}
	pod := obj.(*corev1.Pod)
	q := r.URL.Query()
	params := url.Values{}
	var path string
	switch ri.subresource {
	case "portforward":
		for _, p := range q["ports"] {
			if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
				s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("invalid port %q", p)))
				return
			}
			params.Add("port", p)
		}
		path = "/portForward/" + url.PathEscape(pod.Namespace) + "/" + url.PathEscape(pod.Name)
	default:
		verb := "exec into"
		if ri.subresource == "attach" {
			verb = "attach"
		}
		container, err := streamContainer(pod, q.Get("container"))
		if err != nil {
			s.writeError(w, err)
			return
		}
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("cannot %s a container in a completed pod; current phase is %s", verb, pod.Status.Phase)))
			return
		}
		for _, c := range []struct{ from, to string }{
			{"stdin", corev1.ExecStdinParam}, {"stdout", corev1.ExecStdoutParam},
			{"stderr", corev1.ExecStderrParam}, {"tty", corev1.ExecTTYParam},
		} {
			if b, _ := strconv.ParseBool(q.Get(c.from)); b {
				params.Set(c.to, "1")
			}
		}
		if ri.subresource == "exec" {
			if len(q["command"]) == 0 {
				s.writeError(w, apierrors.NewBadRequest("you must specify at least 1 command"))
				return
			}
			params[corev1.ExecCommandParam] = q["command"]
		}
		path = "/" + ri.subresource + "/" + url.PathEscape(pod.Namespace) + "/" + url.PathEscape(pod.Name) + "/" + url.PathEscape(container)
	}
	if pod.Spec.NodeName == "" {
		s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name)))
		return
	}
	hostPort, err := s.nodeAddress(r, pod.Spec.NodeName)
	if err != nil {
		s.writeError(w, err)
		return
	}
	loc := &url.URL{Scheme: "https", Host: hostPort, Path: path, RawQuery: params.Encode()}
	// Only what the protocols need goes on: never the client's
	// credentials (kube-apiserver drops them once it has authenticated).
	out := r.Clone(r.Context())
	for _, h := range []string{"Authorization", "Cookie", "Impersonate-User", "Impersonate-Group", "Impersonate-Uid", "Proxy-Authorization"} {
		out.Header.Del(h)
	}
	for k := range out.Header {
		if len(k) > len("Impersonate-Extra-") && http.CanonicalHeaderKey(k[:len("Impersonate-Extra-")]) == "Impersonate-Extra-" {
			out.Header.Del(k)
		}
	}
	h := proxy.NewUpgradeAwareHandler(loc, s.nodes.transport, false, true, streamResponder{s})
	h.UpgradeTransport = nil
	h.ServeHTTP(w, out)
}

// streamContainer picks the container as kube-apiserver does: the one
// named (a container, init container or ephemeral container), else the
// only one.
func streamContainer(pod *corev1.Pod, name string) (string, error) {
	if name == "" {
		if len(pod.Spec.Containers) == 1 {
			return pod.Spec.Containers[0].Name, nil
		}
		names := make([]string, 0, len(pod.Spec.Containers))
		for _, c := range pod.Spec.Containers {
			names = append(names, c.Name)
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names))
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return name, nil
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return name, nil
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return name, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// streamResponder writes proxy errors as a Status.
type streamResponder struct{ s *Server }

func (sr streamResponder) Error(w http.ResponseWriter, _ *http.Request, err error) {
	sr.s.writeError(w, newStatus(http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error()))
}
