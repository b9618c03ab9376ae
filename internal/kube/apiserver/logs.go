package apiserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// serveLog proxies pods/log to the node agent the pod runs on, as
// kube-apiserver proxies to the kubelet, over the node channel
// (nodechannel.go): GET https://<InternalIP>:<kubeletEndpoint port>/containerLogs/<ns>/<pod>/<container>.
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	opts, err := parseLogOptions(r.URL.Query())
	if err != nil {
		s.writeError(w, err)
		return
	}
	var obj runtime.Object
	obj, err = s.storage.Get(r.Context(), ri.res, ri.namespace, ri.name)
	if err != nil {
		s.writeError(w, err)
		return
	}
	pod := obj.(*corev1.Pod)
	container := opts.Container
	if container == "" {
		if len(pod.Spec.Containers) != 1 {
			names := make([]string, 0, len(pod.Spec.Containers))
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)))
			return
		}
		container = pod.Spec.Containers[0].Name
	}
	found := false
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		found = found || c.Name == container
	}
	if !found {
		s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, pod.Name)))
		return
	}
	if pod.Spec.NodeName == "" {
		s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", container, pod.Name)))
		return
	}
	hostPort, err := s.nodeAddress(r, pod.Spec.NodeName)
	if err != nil {
		s.writeError(w, err)
		return
	}
	q := url.Values{}
	q.Set("follow", strconv.FormatBool(opts.Follow))
	q.Set("timestamps", strconv.FormatBool(opts.Timestamps))
	q.Set("previous", strconv.FormatBool(opts.Previous))
	if opts.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*opts.TailLines, 10))
	}
	if opts.SinceSeconds != nil {
		q.Set("sinceSeconds", strconv.FormatInt(*opts.SinceSeconds, 10))
	}
	if opts.LimitBytes != nil {
		q.Set("limitBytes", strconv.FormatInt(*opts.LimitBytes, 10))
	}
	u := url.URL{Scheme: "https", Host: hostPort,
		Path: "/containerLogs/" + url.PathEscape(pod.Namespace) + "/" + url.PathEscape(pod.Name) + "/" + url.PathEscape(container), RawQuery: q.Encode()}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.base, cancel)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		s.writeError(w, apierrors.NewInternalError(err))
		return
	}
	resp, err := s.nodes.client.Do(req)
	if err != nil {
		s.writeError(w, newStatus(http.StatusInternalServerError, metav1.StatusReasonInternalError,
			fmt.Sprintf("Get %q: %v", "https://"+u.Host+"/containerLogs/...", err)))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		code := resp.StatusCode
		if code == http.StatusNotFound {
			s.writeError(w, apierrors.NewBadRequest(string(msg)))
			return
		}
		s.writeError(w, newStatus(int32(code), metav1.StatusReasonInternalError, string(msg)))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if rerr != nil {
			return
		}
	}
}

// parseLogOptions reads PodLogOptions from the query.
func parseLogOptions(q url.Values) (corev1.PodLogOptions, error) {
	var o corev1.PodLogOptions
	o.Container = q.Get("container")
	boolOpt := func(name string, dst *bool) error {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return apierrors.NewBadRequest(fmt.Sprintf("invalid %s: %q", name, v))
			}
			*dst = b
		}
		return nil
	}
	intOpt := func(name string, dst **int64) error {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return apierrors.NewBadRequest(fmt.Sprintf("invalid %s: %q", name, v))
			}
			*dst = &n
		}
		return nil
	}
	for _, err := range []error{
		boolOpt("follow", &o.Follow), boolOpt("previous", &o.Previous), boolOpt("timestamps", &o.Timestamps),
		intOpt("tailLines", &o.TailLines), intOpt("sinceSeconds", &o.SinceSeconds), intOpt("limitBytes", &o.LimitBytes),
	} {
		if err != nil {
			return o, err
		}
	}
	return o, nil
}
