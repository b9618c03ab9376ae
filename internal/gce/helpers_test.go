package gce

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/gce/internal/csfake"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// testEnv is a gateway over a CloudStack, served over HTTP.
type testEnv struct {
	gw      *Gateway
	srv     *httptest.Server
	token   string
	project string
	fake    *csfake.Server // nil against the real simulator
	cs      *cstest.Server // nil against the fake
}

// newFakeEnv starts a gateway in front of the fake CloudStack.
func newFakeEnv(t testing.TB) *testEnv {
	t.Helper()
	fake := csfake.New()
	cs := httptest.NewServer(fake)
	t.Cleanup(cs.Close)
	env := newEnv(t, cs.URL+"/client/api", csfake.APIKey, csfake.SecretKey, cs.Client())
	env.fake = fake
	return env
}

func newEnv(t testing.TB, url, key, secret string, hc *http.Client) *testEnv {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	gw, err := New(Options{CloudStack: CloudStackConfig{URL: url, APIKey: key, SecretKey: secret, HTTPClient: hc},
		Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	tok, project, err := gw.AdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{gw: gw, srv: srv, token: tok, project: project}
}

// newRealEnv starts a gateway in front of the real CloudStack simulator
// (internal/cloudstack over internal/cloud), reached over HTTP.
func newRealEnv(t testing.TB) *testEnv {
	t.Helper()
	cs := cstest.Start(t, cstest.Options{})
	env := newEnv(t, cs.URL, cs.APIKey, cs.SecretKey, cs.HTTP.Client())
	env.cs = cs
	return env
}
