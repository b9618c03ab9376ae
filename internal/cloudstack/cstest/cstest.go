// Package cstest starts an in-process CloudStack API server over a memory
// store (or a given one), for tests that drive it with real clients.
package cstest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack"
	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// Server is a running test server.
type Server struct {
	Sim *cloud.Sim
	// URL is the API endpoint, http://127.0.0.1:PORT/client/api.
	URL string
	// APIKey and SecretKey are the root admin's keys.
	APIKey, SecretKey string
	HTTP              *httptest.Server
}

// Options tune the server.
type Options struct {
	// Datacenter overrides the built-in default.
	Datacenter *cloud.Datacenter
	// Log receives the server's logs (default: discarded).
	Log *slog.Logger
	// Store, when set, holds the state instead of a fresh memory store
	// (the test owns it: it is not closed). Several servers on one Store
	// are several management servers on one data center.
	Store store.Store
	// ID names the server among those sharing Store (cloud.Options.ID).
	ID string
	// Metrics, when set, gets the API's metrics.
	Metrics prometheus.Registerer
	// Throttle tunes login throttling (cloudstack.Options.Throttle).
	Throttle cloudstack.ThrottleOptions
	// Clock is the simulator's time source (default the wall clock; a
	// test moves k8s.io/utils/clock/testing's FakeClock by hand).
	Clock cloud.Clock
}

// Start runs a server for the test's lifetime.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dc := opts.Datacenter
	if dc == nil {
		var err error
		if dc, err = cloud.LoadDatacenter(""); err != nil {
			t.Fatal(err)
		}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, own := opts.Store, false
	if st == nil {
		st, own = memory.New(memory.Options{}), true
	}
	ctx := context.Background()
	sim, err := cloud.New(ctx, cloud.Options{Store: st, Datacenter: dc, Log: log, ID: opts.ID, Clock: opts.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h := cloudstack.NewHandler(cloudstack.Options{Cloud: sim, Log: log, Metrics: opts.Metrics, Throttle: opts.Throttle})
	mux := http.NewServeMux()
	mux.Handle("/client/api", h)
	mux.Handle("/client/api/", h)
	srv := httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	key, secret, err := sim.AdminKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sim.Stop(sctx)
		if own {
			_ = st.Close()
		}
	})
	return &Server{Sim: sim, URL: srv.URL + "/client/api", APIKey: key, SecretKey: secret, HTTP: srv}
}
