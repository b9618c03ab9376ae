// Package apiservertest starts a real stratus Kubernetes API server for
// tests: HTTPS on a free loopback port, over an in-memory store, with its
// kubeconfig in a temporary data dir. It stops when the test ends.
package apiservertest

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// Options tune Start; the zero value is fine.
type Options struct {
	// Store, when set, is used instead of a fresh memory store.
	Store store.Store
	// DataDir, when set, is used instead of t.TempDir().
	DataDir string
	// EventTTL is apiserver.Options.EventTTL.
	EventTTL time.Duration
	// ServiceCIDR is apiserver.Options.ServiceCIDR (a test that runs the
	// service proxy takes it from a claimed netslot).
	ServiceCIDR netip.Prefix
	// NoAnonymous is apiserver.Options.NoAnonymous.
	NoAnonymous bool
}

// Start starts a server and registers its shutdown with t.Cleanup.
func Start(t testing.TB) *apiserver.Server { return StartWith(t, Options{}) }

// StartWith starts a server with options.
func StartWith(t testing.TB, o Options) *apiserver.Server {
	t.Helper()
	st := o.Store
	if st == nil {
		mem := memory.New(memory.Options{})
		t.Cleanup(func() { mem.Close() })
		st = mem
	}
	dir := o.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	srv, err := apiserver.New(apiserver.Options{Store: st, DataDir: dir, Addr: "127.0.0.1:0",
		Log: slog.New(slog.DiscardHandler), EventTTL: o.EventTTL, ServiceCIDR: o.ServiceCIDR, NoAnonymous: o.NoAnonymous})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return srv
}

// RESTConfig returns a client-go config that reaches srv over HTTPS, built
// from the kubeconfig the server wrote (what kubectl uses).
func RESTConfig(t testing.TB, srv *apiserver.Server) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", srv.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, -1
	return cfg
}
