// Package httpserver is stratus's plain-HTTP front: one listener (by
// default 127.0.0.1:8080) on which the API fronts mount their handlers
// (CloudStack at /client/api, GCE at /compute/…, the dashboard at
// /client/), next to /healthz, /readyz and Prometheus /metrics. Every
// request is counted and timed by route.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratus-cloud/stratus/internal/app"
)

// ReadyFunc reports readiness and, when not ready, what is missing.
type ReadyFunc func() (bool, []string)

// Options configure a Server.
type Options struct {
	// Addr to listen on; default 127.0.0.1:8080. Port 0 picks a free port.
	Addr string
	Log  *slog.Logger
	// Registry collects metrics; /metrics serves it. Required.
	Registry *prometheus.Registry
	// Ready backs /readyz; nil means ready once started.
	Ready ReadyFunc
	// Parts, when set, backs /readyz instead of Ready: ready when every
	// part is, and /readyz?verbose lists each part as kube-apiserver lists
	// its checks ("[+]name ok", "[-]name not ready").
	Parts func() []app.PartStatus
	// Timeouts limit connections and requests (zero: DefaultTimeouts);
	// server-sent event streams and watches are exempt from Read and Write.
	Timeouts Timeouts
}

// Server is the HTTP front. Mount handlers before Start.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	srv     *http.Server
	ln      net.Listener
	done    chan error
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec

	mu          sync.Mutex
	metricsJSON http.Handler // SetMetricsJSON
	routes      []string
	onShutdown  []func()
}

// OnShutdown registers f to run when Stop begins, before in-flight requests
// are waited for: parts with long-lived streams (server-sent events) end
// them there, so a clean stop does not wait out its timeout.
func (s *Server) OnShutdown(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onShutdown = append(s.onShutdown, f)
}

// New returns a server with /healthz, /readyz and /metrics mounted.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stratus_http_requests_total",
		Help: "HTTP requests served on the main address, by route, method and status code.",
	}, []string{"route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "stratus_http_request_duration_seconds",
		Help:    "Time to serve HTTP requests on the main address, by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
	}, []string{"route"})
	opts.Registry.MustRegister(s.reqs, s.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	prom := promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{Registry: opts.Registry})
	s.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		j := s.metricsJSON
		s.mu.Unlock()
		if j != nil && wantsJSON(r.Header.Values("Accept")) {
			j.ServeHTTP(w, r)
			return
		}
		prom.ServeHTTP(w, r)
	})
	return s
}

// SetMetricsJSON has h answer GET /metrics to clients that ask for JSON
// (Accept: application/json and no Prometheus text format): Marathon's
// clients read its Dropwizard metrics there, while Prometheus scrapers
// (text/plain or OpenMetrics) keep getting the registry.
func (s *Server) SetMetricsJSON(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metricsJSON = h
}

// wantsJSON reports whether Accept asks for application/json and not for a
// Prometheus text format.
func wantsJSON(accept []string) bool {
	json := false
	for _, v := range accept {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/json":
				json = true
			case "text/plain", "application/openmetrics-text", "application/vnd.google.protobuf":
				return false
			}
		}
	}
	return json
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ok, missing := true, []string(nil)
	var parts []app.PartStatus
	switch {
	case s.opts.Parts != nil:
		parts = s.opts.Parts()
		missing = app.NotReady(parts)
		ok = len(missing) == 0
	case s.opts.Ready != nil:
		ok, missing = s.opts.Ready()
	}
	if _, verbose := r.URL.Query()["verbose"]; verbose {
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		for _, p := range parts {
			if p.Ready {
				fmt.Fprintf(w, "[+]%s ok\n", p.Name)
			} else {
				fmt.Fprintf(w, "[-]%s not ready\n", p.Name)
			}
		}
		if ok {
			fmt.Fprintln(w, "readyz check passed")
		} else {
			fmt.Fprintf(w, "readyz check failed: not ready: %s\n", strings.Join(missing, ", "))
		}
		return
	}
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.Join(missing, ", "))
		return
	}
	fmt.Fprintln(w, "ok")
}

// Handle mounts h at pattern (http.ServeMux syntax), counted and timed under
// the route label name.
func (s *Server) Handle(pattern, name string, h http.Handler) {
	s.mu.Lock()
	s.routes = append(s.routes, pattern)
	s.mu.Unlock()
	s.mux.Handle(pattern, s.instrument(name, h))
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and friends.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through for streaming handlers.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) instrument(route string, h http.Handler) http.Handler {
	obs := s.latency.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		obs.Observe(time.Since(t0).Seconds())
		s.reqs.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
	})
}

// Name implements app.Component.
func (s *Server) Name() string { return "http" }

// Start listens and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:     s.opts.Timeouts.Deadlines(s.mux, StreamLongRunning),
		ErrorLog:    slog.NewLogLogger(s.opts.Log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.opts.Timeouts.Apply(s.srv)
	s.mu.Lock()
	for _, f := range s.onShutdown {
		s.srv.RegisterOnShutdown(f)
	}
	s.mu.Unlock()
	s.done = make(chan error, 1)
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr is the address actually bound (after Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.opts.Addr
	}
	return s.ln.Addr().String()
}

// URL is the base URL of the bound address.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Stop lets in-flight requests finish within ctx, then closes.
func (s *Server) Stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if serr := <-s.done; serr != nil && err == nil {
		err = serr
	}
	return err
}
