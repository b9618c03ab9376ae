// Package marathontest starts, for tests, a whole cluster behind the
// Marathon API: the real Kubernetes API server on a memory store, the
// controller manager, a pool of simulated nodes and the marathon server on
// a loopback HTTP listener. Everything stops when the test ends.
package marathontest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/marathon"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
)

// Cluster is a running cluster with the Marathon API.
type Cluster struct {
	URL                string // the Marathon API's base URL
	Username, Password string
	Kube               kubernetes.Interface
	Kubeconfig         string
	Server             *marathon.Server
	log                *slog.Logger
}

// Options tune Start.
type Options struct {
	Nodes int  // simulated nodes (default 3)
	Ports bool // sim containers answer on their ports
	// Runtime runs the nodes' containers (default sim); the exec runtime
	// runs tasks as processes, whose health checks then really run.
	Runtime runtime.Runtime
}

// Start starts a cluster.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	srv := apiservertest.Start(t)
	cfg := srv.LoopbackConfig()
	cfg.QPS, cfg.Burst = -1, -1
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := testenv.Logger()
	cm := controller.New(controller.Options{Client: kc, Log: log})
	start(t, "controllers", cm.Start, cm.Stop)
	rt := o.Runtime
	if rt == nil {
		rt = sim.New(sim.Options{Ports: o.Ports})
	}
	pool, err := agent.NewSimPool(agent.SimPoolOptions{Client: kc, Count: o.Nodes, Runtime: rt, Certs: agent.LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	start(t, "sim nodes", pool.Start, pool.Stop)
	c := &Cluster{Username: "marathon", Password: "s3cret", Kube: kc, Kubeconfig: srv.KubeconfigPath(), log: log}
	c.startMarathon(t)
	testenv.Eventually(t, 30*time.Second, "cluster ready", func() bool { return cm.Ready() && pool.Ready() })
	return c
}

// startMarathon starts a marathon server on its own listener.
func (c *Cluster) startMarathon(t testing.TB) {
	t.Helper()
	ms, err := marathon.New(marathon.Options{Client: c.Kube, Username: c.Username, Password: c.Password, Log: c.log})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ms.Handler())
	t.Cleanup(hs.Close)
	// Stopped before the listener closes: that ends the event streams,
	// which Close would wait for.
	start(t, "marathon", ms.Start, ms.Stop)
	c.URL, c.Server = hs.URL, ms
}

// Restart stops the marathon server, as a killed process stops (nothing
// is finished on the way out), and starts a new one on the same cluster;
// URL and Server change to the new one's.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Server.Stop(ctx); err != nil {
		t.Fatalf("stop marathon: %v", err)
	}
	c.startMarathon(t)
}

func start(t testing.TB, name string, startFn, stopFn func(context.Context) error) {
	t.Helper()
	if err := startFn(context.Background()); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stopFn(ctx); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
}
