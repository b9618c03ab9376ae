package agent

import (
	"net/http"
	"strconv"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// nodeHandler serves the kubelet's API paths the API server proxies to
// (HTTPS, only for the API server's client certificate): GET
// /containerLogs/<ns>/<pod>/<container>, /exec, /attach and /portForward
// (stream.go), and /healthz for anyone.
func (e *engine) nodeHandler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", e.serveLogs)
	e.streamRoutes(api)
	api.HandleFunc("GET /stats/usage", e.serveUsage)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.Handle("/", requireAPIServer(api))
	return mux
}

func (e *engine) serveLogs(w http.ResponseWriter, r *http.Request) {
	ns, podName, ctr := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	q := r.URL.Query()
	opts := runtime.LogOptions{TailLines: -1}
	opts.Follow, _ = strconv.ParseBool(q.Get("follow"))
	opts.Timestamps, _ = strconv.ParseBool(q.Get("timestamps"))
	previous, _ := strconv.ParseBool(q.Get("previous"))
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "tailLines: not a non-negative integer", http.StatusBadRequest)
			return
		}
		opts.TailLines = n
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			http.Error(w, "limitBytes: not a positive integer", http.StatusBadRequest)
			return
		}
		opts.LimitBytes = n
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			http.Error(w, "sinceSeconds: not a positive integer", http.StatusBadRequest)
			return
		}
		opts.SinceTime = time.Now().Add(-time.Duration(n) * time.Second)
	}

	e.mu.Lock()
	ps := e.pods[ns+"/"+podName]
	e.mu.Unlock()
	if ps == nil {
		http.Error(w, "pod "+ns+"/"+podName+" is not running on this node", http.StatusNotFound)
		return
	}
	ps.mu.Lock()
	cs := ps.ctrs.get(ctr)
	id := ""
	waiting := "ContainerCreating"
	if cs != nil {
		id = cs.id
		if cs.waitReason != "" {
			waiting = cs.waitReason
		}
		if previous {
			id = cs.lastID
		}
	}
	ps.mu.Unlock()
	if id == "" {
		msg := "container \"" + ctr + "\" in pod \"" + podName + "\" is waiting to start: " + waiting
		if previous {
			msg = "previous terminated container \"" + ctr + "\" in pod \"" + podName + "\" not found"
		}
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if err := e.rt.Logs(r.Context(), id, opts, w); err != nil {
		e.log.Debug("serving logs", "pod", ns+"/"+podName, "container", ctr, "err", err)
	}
}
