package etcd_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/etcd"
	"github.com/stratus-cloud/stratus/internal/store/etcd/etcdtest"
	"github.com/stratus-cloud/stratus/internal/store/storetest"
)

// One etcd for the whole test binary; each test gets its own key prefix.
var (
	shared   etcdtest.Shared
	prefixes atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}

func open(t testing.TB) store.Store { return openWith(t, etcd.Options{}) }

// openWith opens a store on the shared etcd under a fresh prefix; the test
// closes it.
func openWith(t testing.TB, opts etcd.Options) store.Store {
	srv := shared.Get(t)
	opts.Endpoints = srv.Endpoints
	opts.Prefix = fmt.Sprintf("/test-%d-%d/", os.Getpid(), prefixes.Add(1))
	s, err := etcd.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestNewUnreachable(t *testing.T) {
	start := time.Now()
	_, err := etcd.New(context.Background(), etcd.Options{Endpoints: []string{"127.0.0.1:1"}, DialTimeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}
