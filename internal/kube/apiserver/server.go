// Package apiserver serves a lean Kubernetes API over the store: HTTPS with
// bearer tokens, discovery (aggregated and legacy), a minimal OpenAPI v3,
// and the verbs of core/v1, apps/v1, coordination.k8s.io/v1 and
// discovery.k8s.io/v1 resources (create, get, list, watch, update, patch
// including server-side apply, delete, deletecollection) with tables,
// selectors, dry run and field validation, faithful enough that kubectl
// and client-go work unchanged. What each resource is lives in package
// registry; this package is the HTTP side.
package apiserver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/httpserver"
	"github.com/stratus-cloud/stratus/internal/kube/admission"
	"github.com/stratus-cloud/stratus/internal/kube/certs"
	"github.com/stratus-cloud/stratus/internal/kube/openapi"
	"github.com/stratus-cloud/stratus/internal/kube/registry"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Options configure a Server.
type Options struct {
	// Store holds every object (required).
	Store store.Store
	// DataDir receives the kubeconfig, the CA certificate and the node token.
	DataDir string
	// Addr is the HTTPS listen address; port 0 picks a free port.
	Addr string
	Log  *slog.Logger
	// Metrics, when set, receives the server's Prometheus metrics.
	Metrics prometheus.Registerer
	// Clock gives the time; default the wall clock.
	Clock clock.PassiveClock
	// SANs are extra names and addresses the serving certificate carries
	// (beyond loopback, the host's names and its interfaces' addresses).
	SANs []string
	// NodeToken, when set, is the cluster's join token (what agents present)
	// instead of a generated one: a bootstrap token (ID.SECRET), or any
	// other string for the legacy shared node credential. Servers sharing
	// a store must agree on it.
	NodeToken string
	// ServiceCIDR is where cluster IPs come from (zero: 127.100.0.0/16).
	ServiceCIDR netip.Prefix
	// EventTTL is how long an Event lives after its last write
	// (kube-apiserver's --event-ttl); 0 means DefaultEventTTL (1 h),
	// negative keeps Events forever.
	EventTTL time.Duration
	// NoAnonymous refuses requests without credentials with 401, as
	// kube-apiserver --anonymous-auth=false; by default they are
	// system:anonymous in system:unauthenticated, allowed what RBAC grants
	// that group (the health checks and /version).
	NoAnonymous bool
	// Wrap, when set, wraps the handler the HTTPS listener serves (not the
	// in-process clients'): stratus's fault API injects faults there.
	Wrap func(http.Handler) http.Handler
}

// pkiKey is where the cluster's CA and tokens live in the store, so every
// server sharing a store (and every restart) uses the same ones.
const pkiKey = "/stratus/kube/pki"

// Server is the Kubernetes API front. It is an app.Component.
type Server struct {
	opts    Options
	log     *slog.Logger
	codecs  *registry.Codecs
	reg     *registry.Registry
	storage *registry.Storage
	bundle  *certs.Bundle
	auth    authState
	// admission runs webhooks and policies on writes (admission.go).
	admission *admission.Admission
	// nodes is the channel to node agents (nodechannel.go).
	nodes   nodeChannel
	metrics *metrics

	handler http.Handler

	// base is cancelled by Stop; every watch and log stream derives from it.
	base       context.Context
	cancelBase context.CancelFunc
	// watchCaches share each watched resource's events among its streams.
	watchCaches watchCaches
	// eventsDone closes when the Event expiry loop (eventttl.go) ends.
	eventsDone chan struct{}
	// crdsDone closes when the CRD controller (crd.go) ends.
	crdsDone chan struct{}

	mu         sync.Mutex
	ln         net.Listener
	srv        *http.Server
	boundURL   string
	served     chan struct{}
	ready      atomic.Bool
	openapi    *openapi.Spec
	openapiMu  sync.Mutex
	openapiGen int64 // the registry's CustomGeneration openapi was built for
}

var (
	_ app.Component = (*Server)(nil)
	_ app.Readier   = (*Server)(nil)
)

// New builds a server: the scheme, the registry, and the cluster identity
// (CA and tokens, created in the store on first use). It does not listen.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("apiserver: Options.Store is required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:6443"
	}
	codecs := registry.NewCodecs()
	reg, err := registry.New(codecs)
	if err != nil {
		return nil, err
	}
	st := registry.NewStorage(o.Store, reg)
	st.Clock = o.Clock
	if o.ServiceCIDR.IsValid() {
		if err := st.SetServiceCIDR(o.ServiceCIDR); err != nil {
			return nil, err
		}
	}
	s := &Server{opts: o, log: o.Log.With("component", "kube-apiserver"), codecs: codecs, reg: reg, storage: st}
	s.base, s.cancelBase = context.WithCancel(context.Background())
	if s.bundle, err = loadBundle(context.Background(), o.Store, o.Clock.Now(), o.NodeToken); err != nil {
		return nil, err
	}
	if err := s.setupAuth(context.Background()); err != nil {
		return nil, err
	}
	if s.nodes, err = newNodeChannel(s.bundle, o.Clock.Now()); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(o.Metrics)
	s.handler = s.buildHandler()
	return s, nil
}

// loadBundle reads the cluster identity from the store, creating it on
// first start, and gives it a bootstrap join token when it has none. A
// nodeToken given is the join token when it has a bootstrap token's form,
// else it replaces the legacy node token.
func loadBundle(ctx context.Context, st store.Store, now time.Time, nodeToken string) (*certs.Bundle, error) {
	fix := func(b *certs.Bundle) (changed bool, err error) {
		switch {
		case bootstraputil.IsValidBootstrapToken(nodeToken):
			changed = b.JoinToken != nodeToken
			b.JoinToken = nodeToken
		case nodeToken != "":
			changed = b.NodeToken != nodeToken
			b.NodeToken = nodeToken
		}
		if b.JoinToken == "" {
			if b.JoinToken, err = bootstraputil.GenerateBootstrapToken(); err != nil {
				return false, err
			}
			changed = true
		}
		return changed, nil
	}
	for range 3 {
		kv, err := st.Get(ctx, pkiKey)
		if err == nil {
			var b certs.Bundle
			if err := json.Unmarshal(kv.Value, &b); err != nil {
				return nil, fmt.Errorf("apiserver: stored credentials: %w", err)
			}
			if err := b.Validate(); err != nil {
				return nil, err
			}
			changed, err := fix(&b)
			if err != nil || !changed {
				return &b, err
			}
			data, _ := json.Marshal(&b)
			if _, err := st.Txn(ctx, store.Update(pkiKey, data, kv.ModRev)); err == nil {
				return &b, nil
			} else if !errors.Is(err, store.ErrConflict) {
				return nil, err
			}
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		b, err := certs.NewBundle(now)
		if err != nil {
			return nil, err
		}
		if _, err := fix(b); err != nil {
			return nil, err
		}
		data, _ := json.Marshal(b)
		if _, err := st.Txn(ctx, store.Create(pkiKey, data)); err == nil {
			return b, nil
		} else if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, errors.New("apiserver: could not store credentials")
}

// Name implements app.Component.
func (s *Server) Name() string { return "kube-apiserver" }

// Ready implements app.Readier: true once the server listens and the
// built-in namespaces and the kubernetes service exist.
func (s *Server) Ready() bool { return s.ready.Load() }

// Handler returns the authenticated HTTP handler (for tests and in-process use).
func (s *Server) Handler() http.Handler { return s.handler }

// AdminToken is the bearer token of user admin (group system:masters).
func (s *Server) AdminToken() string { return s.bundle.AdminToken }

// NodeToken is the legacy shared node credential (user system:node with
// the node role cluster-wide). JoinToken is what agents should be given.
func (s *Server) NodeToken() string { return s.bundle.NodeToken }

// JoinToken is the token of `stratus agent --token`: the cluster's
// bootstrap token, good only for exchanging for a node's own certificate,
// unless the operator chose a legacy one (Options.NodeToken not of a
// bootstrap token's form), which is then what agents are given.
func (s *Server) JoinToken() string {
	if t := s.opts.NodeToken; t != "" && !bootstraputil.IsValidBootstrapToken(t) {
		return t
	}
	return s.bundle.JoinToken
}

// CACert is the PEM CA certificate clients must trust.
func (s *Server) CACert() []byte { return append([]byte(nil), s.bundle.CACertPEM...) }

// KubeconfigPath is the kubeconfig file Start writes (mode 0600).
func (s *Server) KubeconfigPath() string { return filepath.Join(s.opts.DataDir, "kubeconfig") }

// URL is the https:// address the server listens on (after Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.boundURL
}

// Registry exposes the served resources (for in-process users).
func (s *Server) Registry() *registry.Registry { return s.reg }

// Start listens on Options.Addr, creates the built-in objects, writes the
// kubeconfig and serves HTTPS until Stop.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("apiserver: listen: %w", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := "https://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	ips, names := certs.HostSANs(append([]string{addr.IP.String()}, s.opts.SANs...)...)
	cert, err := s.bundle.ServingCert(s.now(), ips, names)
	if err != nil {
		ln.Close()
		return err
	}
	if err := s.bootstrap(ctx, addr); err != nil {
		ln.Close()
		return fmt.Errorf("apiserver: bootstrap: %w", err)
	}
	if err := s.startAuthz(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("apiserver: authorization: %w", err)
	}
	if err := s.writeFiles(url); err != nil {
		ln.Close()
		return err
	}
	s.startEventExpiry()
	crds := s.newCRDController()
	rev, err := crds.sync(ctx)
	if err != nil {
		ln.Close()
		return fmt.Errorf("apiserver: custom resource definitions: %w", err)
	}
	s.crdsDone = make(chan struct{})
	go func() {
		defer close(s.crdsDone)
		crds.run(s.base, rev)
	}()
	// Idle, header, read and write limits; watches, logs, exec, attach,
	// port forwarding and proxies are exempt from the per-request ones, as
	// kube-apiserver exempts them from its request timeout.
	timeouts := httpserver.DefaultTimeouts()
	h := s.handler
	if s.opts.Wrap != nil {
		h = s.opts.Wrap(h)
	}
	srv := &http.Server{
		Handler: timeouts.Deadlines(h, httpserver.KubeLongRunning),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"},
			ClientAuth: tls.RequestClientCert}, // verified by auth.Authenticator
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context { return s.base },
	}
	timeouts.Apply(srv)
	s.mu.Lock()
	s.ln, s.srv, s.boundURL, s.served = ln, srv, url, make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.served)
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	s.ready.Store(true)
	s.log.Info("kubernetes API listening", "url", url, "kubeconfig", s.KubeconfigPath())
	return nil
}

func (s *Server) writeFiles(url string) error {
	if s.opts.DataDir == "" {
		return nil
	}
	if err := certs.WriteFile(s.KubeconfigPath(), s.bundle.Kubeconfig(url)); err != nil {
		return fmt.Errorf("apiserver: write kubeconfig: %w", err)
	}
	if err := certs.WriteFile(filepath.Join(s.opts.DataDir, "kube", "ca.crt"), s.bundle.CACertPEM); err != nil {
		return err
	}
	return certs.WriteFile(filepath.Join(s.opts.DataDir, "kube", "node-token"), []byte(s.bundle.NodeToken+"\n"))
}

// Stop ends every watch and log stream and shuts the HTTPS server down.
func (s *Server) Stop(ctx context.Context) error {
	s.ready.Store(false)
	s.cancelBase()
	s.stopWatchCaches()
	for _, done := range []chan struct{}{s.eventsDone, s.crdsDone} {
		if done != nil {
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
	}
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	// In-flight requests are short (watches and log streams already ended
	// with base), so a brief grace is enough before closing what is left.
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = srv.Close()
	}
	select {
	case <-served:
	case <-ctx.Done():
	}
	return err
}

// now is the server's time.
func (s *Server) now() time.Time { return s.opts.Clock.Now() }
