// Package agent is the node agent (stratus's kubelet): it registers its
// node with capacity, keeps it alive with lease renewals (and a full status
// now and then), runs the pods bound to it through a container runtime,
// reports their status as the kubelet does (phase, conditions, container
// statuses, IPs, restart counts), restarts containers per restartPolicy
// with back-off, terminates pods gracefully and serves container logs to
// the API server.
//
// One engine serves any number of nodes: Agent is an engine with one node
// (the host), SimPool an engine with many simulated nodes. Either way there
// is one pod informer, one work queue with a fixed pool of workers, one
// delay queue for heartbeats and one log server, kwok style, so 5,000 nodes
// cost no more goroutines than one.
package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	goruntime "runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Timing holds the agent's intervals; zero fields take the kubelet's
// defaults.
type Timing struct {
	// LeaseDuration is the node lease's duration (40 s).
	LeaseDuration time.Duration
	// RenewInterval is how often the lease is renewed (a quarter of
	// LeaseDuration, 10 s).
	RenewInterval time.Duration
	// StatusReportInterval is how often the full node status is written
	// when nothing changed (5 min).
	StatusReportInterval time.Duration
	// BackoffBase and BackoffMax bound container restart back-off (10 s,
	// 5 min).
	BackoffBase, BackoffMax time.Duration
	// ResyncInterval is how often every pod is synced even without changes
	// (1 min).
	ResyncInterval time.Duration
}

func (t Timing) withDefaults() Timing {
	if t.LeaseDuration <= 0 {
		t.LeaseDuration = 40 * time.Second
	}
	if t.RenewInterval <= 0 {
		t.RenewInterval = t.LeaseDuration / 4
	}
	if t.StatusReportInterval <= 0 {
		t.StatusReportInterval = 5 * time.Minute
	}
	if t.BackoffBase <= 0 {
		t.BackoffBase = 10 * time.Second
	}
	if t.BackoffMax <= 0 {
		t.BackoffMax = 5 * time.Minute
	}
	if t.ResyncInterval <= 0 {
		t.ResyncInterval = time.Minute
	}
	return t
}

// Options configure an Agent for one node.
type Options struct {
	// Client reaches the Kubernetes API (required).
	Client kubernetes.Interface
	// NodeName is the node's name (required).
	NodeName string
	// Runtime runs the containers (required). The agent owns it: Stop
	// closes it when it is an io.Closer.
	Runtime runtime.Runtime
	// Certs are the node server's certificates (required): HTTPS, and only
	// the API server's client certificate is let in.
	Certs Certs
	// Addr is the log server's listen address (default "127.0.0.1:0").
	Addr string
	// InternalIP is the node address published in its status (default: the
	// log server's host).
	InternalIP string
	// Capacity overrides the node's capacity (default: this host's CPUs
	// and memory, 110 pods).
	Capacity corev1.ResourceList
	// Labels and Taints are added to the node at registration.
	Labels map[string]string
	Taints []corev1.Taint
	// Workers sync pods in parallel (default 4).
	Workers int
	Timing  Timing
	// Clock is injected for tests (default real).
	Clock clock.WithTicker
	Log   *slog.Logger
}

// Agent is the node agent of one node; it is an app.Component.
type Agent struct {
	e *engine
}

var (
	_ app.Component = (*Agent)(nil)
	_ app.Readier   = (*Agent)(nil)
)

// New returns an agent for one node.
func New(o Options) (*Agent, error) {
	if o.Client == nil || o.NodeName == "" || o.Runtime == nil || o.Certs == nil {
		return nil, errors.New("agent: Client, NodeName, Runtime and Certs are required")
	}
	capacity := o.Capacity
	if capacity == nil {
		capacity = hostCapacity()
	}
	e := newEngine(engineConfig{
		client: o.Client, rt: o.Runtime, certs: o.Certs, addr: o.Addr, internalIP: o.InternalIP,
		workers: o.Workers, timing: o.Timing, clock: o.Clock, log: o.Log, name: "agent",
		single: o.NodeName,
		nodes:  []nodeConfig{{name: o.NodeName, capacity: capacity, labels: o.Labels, taints: o.Taints}},
	})
	return &Agent{e: e}, nil
}

// Name implements app.Component.
func (a *Agent) Name() string { return "agent" }

// Start registers the node, starts the log server and begins syncing pods.
func (a *Agent) Start(ctx context.Context) error { return a.e.start(ctx) }

// Stop stops syncing, stops the node's containers and closes the runtime.
// The node is left registered; without heartbeats it turns NotReady.
func (a *Agent) Stop(ctx context.Context) error { return a.e.stop(ctx) }

// Ready implements app.Readier: the node is registered and pods are synced.
func (a *Agent) Ready() bool { return a.e.ready.Load() }

// LogAddr is the log server's address once started.
func (a *Agent) LogAddr() net.Addr { return a.e.logAddr() }

func hostCapacity() corev1.ResourceList {
	mem := int64(8 << 30)
	if m := physMemory(); m > 0 {
		mem = m
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(mem, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(110, resource.DecimalSI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(100<<30, resource.BinarySI),
	}
}
