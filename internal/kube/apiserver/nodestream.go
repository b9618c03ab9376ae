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
// kube-apiserver does: it decodes the options and admits them
// (connectadmission.go), checks the pod and container, then passes the
// upgraded connection (SPDY or WebSocket, whatever the client negotiated)
// through to the node agent's /exec, /attach or /portForward over the
// node channel (nodechannel.go). The client's credentials stay here.
func (s *Server) servePodStream(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return
	}
	q := r.URL.Query()
	if len(q["dryRun"]) != 0 {
		s.writeError(w, apierrors.NewBadRequest("dryRun is not supported"))
		return
	}
	opts, err := s.connectOptions(ri.subresource, q)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if err := s.admitConnect(w, r, ri, opts); err != nil {
		s.writeError(w, err)
		return
	}
	obj, err := s.storage.Get(r.Context(), ri.res, ri.namespace, ri.name)
	if err != nil {
		s.writeError(w, err)
		return
	}
	pod := obj.(*corev1.Pod)
	// What the node is asked for is the options as admission left them.
	params := url.Values{}
	var path string
	switch o := opts.(type) {
	case *corev1.PodPortForwardOptions:
		for _, p := range o.Ports {
			if p == 0 {
				s.writeError(w, apierrors.NewBadRequest(`invalid port "0"`))
				return
			}
			params.Add("port", strconv.Itoa(int(p)))
		}
		path = "/portForward/" + url.PathEscape(pod.Namespace) + "/" + url.PathEscape(pod.Name)
	default:
		verb, sio := "exec into", streamOpts{}
		var command []string
		switch o := opts.(type) {
		case *corev1.PodExecOptions:
			sio = streamOpts{o.Container, o.Stdin, o.Stdout, o.Stderr, o.TTY}
			command = o.Command
		case *corev1.PodAttachOptions:
			verb, sio = "attach", streamOpts{o.Container, o.Stdin, o.Stdout, o.Stderr, o.TTY}
		}
		container, err := streamContainer(pod, sio.container)
		if err != nil {
			s.writeError(w, err)
			return
		}
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("cannot %s a container in a completed pod; current phase is %s", verb, pod.Status.Phase)))
			return
		}
		for _, c := range []struct {
			on   bool
			name string
		}{
			{sio.stdin, corev1.ExecStdinParam}, {sio.stdout, corev1.ExecStdoutParam},
			{sio.stderr, corev1.ExecStderrParam}, {sio.tty, corev1.ExecTTYParam},
		} {
			if c.on {
				params.Set(c.name, "1")
			}
		}
		if ri.subresource == "exec" {
			if len(command) == 0 {
				s.writeError(w, apierrors.NewBadRequest("you must specify at least 1 command"))
				return
			}
			params[corev1.ExecCommandParam] = command
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

// streamOpts are what exec and attach have in common.
type streamOpts struct {
	container                  string
	stdin, stdout, stderr, tty bool
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
