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
	obj, err := s.storage.Get(r.Context(), ri.res, ri.namespace, ri.name)
	if err != nil {
		s.writeError(w, err)
		return
	}
	pod := obj.(*corev1.Pod)
	container, err := logContainer(pod, opts.Container)
	if err != nil {
		s.writeError(w, err)
		return
	}
	hostPort, err := s.nodeAddress(r, pod.Spec.NodeName)
	if err != nil {
		s.writeError(w, err)
		return
	}
	q := kubeletLogQuery(opts)
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
	copyFlushing(w, resp.Body)
}

// logContainer is the container whose log a request asks for: the one
// named (ephemeral ones too: kubectl debug reads them), or the pod's only
// one; the errors are kube-apiserver's.
func logContainer(pod *corev1.Pod, name string) (string, error) {
	name, err := streamContainer(pod, name)
	if err != nil {
		return "", err
	}
	if pod.Spec.NodeName == "" {
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", name, pod.Name))
	}
	return name, nil
}

// kubeletLogQuery is the kubelet's containerLogs query for opts.
func kubeletLogQuery(opts corev1.PodLogOptions) url.Values {
	q := url.Values{}
	q.Set("follow", strconv.FormatBool(opts.Follow))
	q.Set("timestamps", strconv.FormatBool(opts.Timestamps))
	q.Set("previous", strconv.FormatBool(opts.Previous))
	for name, v := range map[string]*int64{"tailLines": opts.TailLines, "sinceSeconds": opts.SinceSeconds, "limitBytes": opts.LimitBytes} {
		if v != nil {
			q.Set(name, strconv.FormatInt(*v, 10))
		}
	}
	return q
}

// copyFlushing streams body to w, flushing each read so a followed log
// reaches the client line by line; it ends when either side does.
func copyFlushing(w http.ResponseWriter, body io.Reader) {
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := body.Read(buf)
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
