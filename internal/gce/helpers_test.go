package gce

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/internal/cloudstack/cstest"
	"github.com/stratus-cloud/stratus/internal/store/memory"
)

// testEnv is a gateway in front of a CloudStack, served over HTTP.
type testEnv struct {
	gw      *Gateway
	srv     *httptest.Server
	token   string
	project string
	cs      *cstest.Server // the CloudStack behind it
}

func newEnv(t testing.TB, url, key, secret string, hc *http.Client) *testEnv {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	gw, err := New(Options{CloudStack: CloudStackConfig{URL: url, APIKey: key, SecretKey: secret, HTTPClient: hc},
		Store: st, Log: slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
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

// testLogWriter shows the gateway's warnings in the test log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
