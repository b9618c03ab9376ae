// Package stratustest runs a whole stratus inside a Go test: the simulated
// data center behind the CloudStack API, the GCE v1 gateway, and the
// Kubernetes API with its scheduler, controllers and simulated nodes, on
// free loopback ports, with a memory store. Each test gets its own, so
// tests run in parallel without sharing state:
//
//	func TestMyController(t *testing.T) {
//		t.Parallel()
//		s := stratustest.Start(t, stratustest.WithSimNodes(3))
//		kc := kubernetes.NewForConfigOrDie(s.KubeConfig)
//		…
//	}
//
// Start stops the instance when the test ends. New and Close do the same
// outside a test (see the examples). The instance is built by the same
// code as `stratus up` (internal/instance), so what a test sees is what a
// user of the binary sees; only the host's node agent and service proxy
// are left out by default, because they bind loopback addresses that
// would limit how many instances a machine holds (WithHostNetwork adds
// them).
package stratustest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stratus-cloud/stratus/internal/fault"
	"github.com/stratus-cloud/stratus/internal/instance"
	"github.com/stratus-cloud/stratus/internal/seed"
)

// Stratus is one running instance and what its clients need.
type Stratus struct {
	// KubeConfig reaches the Kubernetes API over HTTPS as the cluster
	// admin. Each use of it builds its own transport.
	KubeConfig *rest.Config
	// CloudStack is the CloudStack API and the root admin's keys.
	CloudStack CloudStack
	// GCE is the Compute Engine v1 endpoint and an access token.
	GCE GCE
	// HTTPURL is the base URL of the HTTP front (CloudStack, GCE,
	// dashboard, /metrics, /readyz).
	HTTPURL string
	// DataDir is the instance's data directory (a temporary one).
	DataDir string

	in        *instance.Instance
	removeDir string
}

// CloudStack is what a CloudStack client needs, e.g.
// cloudstack.NewAsyncClient(c.URL, c.APIKey, c.SecretKey, false).
type CloudStack struct {
	URL       string
	APIKey    string
	SecretKey string
	// HTTPClient reaches URL.
	HTTPClient *http.Client
}

// GCE is what a Compute Engine client needs: option.WithEndpoint(Endpoint)
// and a static token source with Token.
type GCE struct {
	Endpoint string
	Project  string
	Zone     string
	Token    string
	// HTTPClient reaches Endpoint and sends Token on every request.
	HTTPClient *http.Client
}

type options struct {
	simNodes    int
	datacenter  string
	hostNetwork bool
	log         *slog.Logger
	dataDir     string
	seed        string
	faults      []Fault
}

// Option changes what Start builds.
type Option func(*options)

// WithSimNodes adds n simulated Kubernetes nodes (none by default, so pods
// stay Pending unless a test adds nodes).
func WithSimNodes(n int) Option { return func(o *options) { o.simNodes = n } }

// WithDatacenter uses a data center description file (YAML; `stratus
// datacenter example` prints the built-in one) instead of the built-in
// one.
func WithDatacenter(path string) Option { return func(o *options) { o.datacenter = path } }

// WithHostNetwork runs the host's node agent and the service proxy too, as
// `stratus up` does: services answer on their cluster IPs and node ports,
// and simulated pods answer HTTP on their pod IPs. It claims one of the
// machine's network slots (there are 17), so few instances can have it at
// once.
func WithHostNetwork() Option { return func(o *options) { o.hostNetwork = true } }

// WithSeed applies a seed file (`stratus apply -f`'s format: Kubernetes
// manifests and seed.stratus.io/v1 cloud documents) once the instance is
// up; Reset goes back to the state after it.
func WithSeed(path string) Option { return func(o *options) { o.seed = path } }

// Fault is a fault to inject, with `stratus fault add`'s fields. Kind is
// kube-api (Verb, Resource, Namespace, Name match; Status with RetryAfter,
// Latency or DisconnectAfter act), gce-api (Method and Path match),
// cloudstack (the agent Command answers Value at Host, VM or Zone),
// host-down (Host), vm-start-failure (VM, Zone, Account or every VM),
// node-down (WithSimNodes nodes by Name or Selector stop; Ready turns
// Unknown), node-gone (as node-down, then the Node is deleted),
// node-pressure (they report Conditions True and are tainted), pod-crash
// (pods matched by Namespace, Name and Selector exit with ExitCode at
// once: a CrashLoopBackOff), pod-slow-start (they take Latency to start)
// or pod-image-pull (their starts fail with ErrImagePull). Account also
// limits gce-api faults to the account's project. Count, Probability and
// Duration limit it (cloud kinds take Count only).
type Fault struct {
	Kind                                       string
	Verb, Resource, Namespace, Name, UserAgent string
	Method, Path                               string
	Status, RetryAfter                         int
	Latency, DisconnectAfter, Duration         time.Duration
	Count                                      int
	Probability                                float64
	Command, Value, Host, VM, Zone             string
	// ExitCode is a pod-crash fault's exit code (default 1).
	ExitCode int
	// Account, Selector (labels) and Conditions (MemoryPressure,
	// DiskPressure, PIDPressure): see above.
	Account, Selector string
	Conditions        []string
}

func (f Fault) instance() instance.Fault {
	return instance.Fault{Rule: fault.Rule{Kind: f.Kind, Verb: f.Verb, Resource: f.Resource, Namespace: f.Namespace, Name: f.Name,
		UserAgent: f.UserAgent, Method: f.Method, Path: f.Path, Status: f.Status, RetryAfter: f.RetryAfter,
		Latency: fault.Duration(f.Latency), DisconnectAfter: fault.Duration(f.DisconnectAfter), Duration: fault.Duration(f.Duration),
		Count: f.Count, Probability: f.Probability, Account: f.Account}, Command: f.Command, Value: f.Value, Host: f.Host, VM: f.VM, Zone: f.Zone,
		ExitCode: f.ExitCode, Selector: f.Selector, Conditions: f.Conditions}
}

// WithFaults injects faults once the instance is up (after any seed).
func WithFaults(f ...Fault) Option { return func(o *options) { o.faults = append(o.faults, f...) } }

// WithLogger sends the instance's logs to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Start runs a stratus for the test and stops it when the test ends. It
// fails the test when the instance does not start.
func Start(tb testing.TB, opts ...Option) *Stratus {
	tb.Helper()
	dir, err := os.MkdirTemp("", "stratustest-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	s, err := New(context.Background(), append(opts, func(o *options) { o.dataDir = dir })...)
	if err != nil {
		tb.Fatalf("stratustest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("stratustest: stop: %v", err)
		}
	})
	return s
}

// New runs a stratus until Close, for use outside a test. Unless told
// otherwise its data directory is a new temporary one that Close removes.
func New(ctx context.Context, opts ...Option) (*Stratus, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	removeDir := false
	if o.dataDir == "" {
		d, err := os.MkdirTemp("", "stratustest-")
		if err != nil {
			return nil, err
		}
		o.dataDir, removeDir = d, true
	}
	io := instance.Options{
		DataDir: o.dataDir, HTTPAddr: "127.0.0.1:0", KubeAddr: "127.0.0.1:0", Store: "memory",
		SimNodes: o.simNodes, Datacenter: o.datacenter, Log: o.log, Runtime: "sim",
		ControlPlaneOnly: !o.hostNetwork,
	}
	if !o.hostNetwork {
		io.NetSlot = "none"
	}
	if o.seed != "" {
		b, err := os.ReadFile(o.seed)
		if err != nil {
			return nil, err
		}
		if io.Seed, err = seed.Parse(filepath.Base(o.seed), b); err != nil {
			return nil, err
		}
	}
	in, err := startGated(ctx, io)
	if err != nil {
		if removeDir {
			_ = os.RemoveAll(o.dataDir)
		}
		return nil, err
	}
	s := &Stratus{in: in, HTTPURL: in.HTTPURL(), DataDir: in.DataDir()}
	if removeDir {
		s.removeDir = o.dataDir
	}
	if err := s.fill(); err != nil {
		_ = s.Close()
		return nil, err
	}
	for _, f := range o.faults {
		if _, err := in.AddFault(ctx, f.instance()); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Stratus) fill() error {
	st := s.in.State()
	cfg, err := clientcmd.BuildConfigFromFlags("", st.Kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000 // a test's client is not a noisy neighbour
	s.KubeConfig = cfg
	if st.CloudStack != nil {
		s.CloudStack = CloudStack{URL: st.HTTPURL + "/client/api", APIKey: st.CloudStack.APIKey, SecretKey: st.CloudStack.SecretKey,
			HTTPClient: &http.Client{Timeout: time.Minute}}
	}
	if st.GCE != nil {
		tok, err := os.ReadFile(st.GCE.TokenFile)
		if err != nil {
			return err
		}
		token := strings.TrimSpace(string(tok))
		s.GCE = GCE{Endpoint: st.HTTPURL + "/compute/v1/", Project: st.GCE.Project, Zone: st.GCE.Zone, Token: token,
			HTTPClient: &http.Client{Timeout: time.Minute, Transport: bearer{token: token, next: http.DefaultTransport}}}
	}
	return nil
}

// Close stops the instance and removes a data directory New created.
func (s *Stratus) Close() error {
	if s.in == nil {
		return nil
	}
	err := s.in.Stop(context.Background())
	s.in = nil
	if s.removeDir != "" {
		_ = os.RemoveAll(s.removeDir)
	}
	return err
}

// starting bounds how many instances of this process start at once, to
// the CPUs Go uses: starting is CPU work (certificates, informers, the data
// center), and a hundred parallel tests starting together otherwise starve
// each other's first requests (TLS handshakes time out after 10 s). It is
// process-wide on purpose, as the CPUs are; it holds no state beyond the
// count of starts under way.
var starting = make(chan struct{}, goruntime.GOMAXPROCS(0))

func startGated(ctx context.Context, o instance.Options) (*instance.Instance, error) {
	select {
	case starting <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-starting }()
	return instance.Start(ctx, o)
}

// bearer adds an OAuth2 bearer token to each request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Reset puts every API back to the state the instance started in, without
// a restart: what the test created is gone, and watchers are told 410 and
// relist, as after an etcd restore.
func (s *Stratus) Reset(ctx context.Context) error {
	_, err := s.in.Reset(ctx)
	return err
}

// AddFault injects a fault and returns its id, for RemoveFault.
func (s *Stratus) AddFault(ctx context.Context, f Fault) (string, error) {
	out, err := s.in.AddFault(ctx, f.instance())
	return out.ID, err
}

// RemoveFault removes a fault.
func (s *Stratus) RemoveFault(ctx context.Context, id string) error { return s.in.RemoveFault(ctx, id) }

// SaveSnapshot keeps the whole state (every API) under name.
func (s *Stratus) SaveSnapshot(ctx context.Context, name string) error {
	_, err := s.in.SaveSnapshot(ctx, name)
	return err
}

// RestoreSnapshot puts the whole state back to the snapshot called name.
func (s *Stratus) RestoreSnapshot(ctx context.Context, name string) error {
	_, err := s.in.RestoreSnapshot(ctx, name)
	return err
}
