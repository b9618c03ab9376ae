package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/runtime"
)

// SimPoolOptions configure a pool of simulated nodes.
type SimPoolOptions struct {
	// Client reaches the Kubernetes API (required).
	Client kubernetes.Interface
	// Count is the number of nodes (required, > 0).
	Count int
	// Prefix names the nodes Prefix0, Prefix1, … (default "sim-node-").
	Prefix string
	// Runtime runs every node's containers (required; normally
	// sim.New). The pool owns it and closes it on Stop.
	Runtime runtime.Runtime
	// Capacity of each node (default 32 CPUs, 256 GiB, 110 pods, as kwok).
	Capacity corev1.ResourceList
	// Labels and Taints are added to every node.
	Labels map[string]string
	Taints []corev1.Taint
	// Token, Addr: the shared log server (see Options).
	Token string
	Addr  string
	// Workers sync pods and heartbeats (default 16).
	Workers int
	Timing  Timing
	Clock   clock.WithTicker
	Log     *slog.Logger
}

// SimPool runs many simulated nodes in one engine; it is an app.Component.
type SimPool struct {
	e *engine
}

var (
	_ app.Component = (*SimPool)(nil)
	_ app.Readier   = (*SimPool)(nil)
)

// SimCapacity is the default capacity of a simulated node.
func SimCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("32"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
}

// NewSimPool returns a pool of Count simulated nodes.
func NewSimPool(o SimPoolOptions) (*SimPool, error) {
	if o.Client == nil || o.Runtime == nil || o.Count <= 0 {
		return nil, errors.New("agent: sim pool needs Client, Runtime and Count > 0")
	}
	if o.Prefix == "" {
		o.Prefix = "sim-node-"
	}
	if o.Capacity == nil {
		o.Capacity = SimCapacity()
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	labels := map[string]string{"node.stratus.io/simulated": "true"}
	for k, v := range o.Labels {
		labels[k] = v
	}
	nodes := make([]nodeConfig, o.Count)
	for i := range nodes {
		nodes[i] = nodeConfig{name: fmt.Sprintf("%s%d", o.Prefix, i), capacity: o.Capacity, labels: labels, taints: o.Taints}
	}
	e := newEngine(engineConfig{
		client: o.Client, rt: o.Runtime, token: o.Token, addr: o.Addr,
		workers: o.Workers, timing: o.Timing, clock: o.Clock, log: o.Log, name: "simpool", nodes: nodes,
	})
	return &SimPool{e: e}, nil
}

// Name implements app.Component.
func (p *SimPool) Name() string { return "sim-nodes" }

// Start registers every node and begins syncing their pods.
func (p *SimPool) Start(ctx context.Context) error { return p.e.start(ctx) }

// Stop stops the pool and closes its runtime.
func (p *SimPool) Stop(ctx context.Context) error { return p.e.stop(ctx) }

// Ready implements app.Readier.
func (p *SimPool) Ready() bool { return p.e.ready.Load() }

// LogAddr is the shared log server's address once started.
func (p *SimPool) LogAddr() net.Addr { return p.e.logAddr() }

// NodeNames lists the pool's nodes.
func (p *SimPool) NodeNames() []string {
	names := make([]string, 0, len(p.e.nodes))
	for _, n := range p.e.nodeList {
		names = append(names, n.name)
	}
	return names
}
