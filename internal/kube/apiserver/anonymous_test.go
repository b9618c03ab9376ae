package apiserver_test

import (
	"io"
	"net/http"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
)

// TestAnonymousAuth: without credentials a request is system:anonymous
// (kube-apiserver's default --anonymous-auth=true), which the bootstrap
// policy lets read /version and the health checks and nothing else
// (TestUnauthenticated checks the Forbidden texts); with NoAnonymous
// (--anonymous-auth=false) it is 401, the health checks staying open. A
// wrong token is 401 either way. (kubectl without any credentials asks
// for a user name on its stdin, so it is not the client here.)
func TestAnonymousAuth(t *testing.T) {
	for _, c := range []struct {
		name        string
		noAnonymous bool
		raw         map[string]int // path → code without credentials
	}{
		{"anonymous", false, map[string]int{"/version": 200, "/healthz": 200, "/livez": 200, "/readyz": 200, "/api": 403, "/apis": 403, "/api/v1/namespaces/default/pods": 403}},
		{"no anonymous", true, map[string]int{"/version": 401, "/healthz": 200, "/api": 401, "/api/v1/namespaces/default/pods": 401}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := apiservertest.StartWith(t, apiservertest.Options{NoAnonymous: c.noAnonymous})
			cfg := apiservertest.RESTConfig(t, srv)
			hc, err := rest.HTTPClientFor(&rest.Config{Host: cfg.Host, TLSClientConfig: cfg.TLSClientConfig})
			if err != nil {
				t.Fatal(err)
			}
			get := func(path, token string) int {
				req, _ := http.NewRequest(http.MethodGet, cfg.Host+path, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				return resp.StatusCode
			}
			for path, code := range c.raw {
				if got := get(path, ""); got != code {
					t.Errorf("GET %s without credentials: %d, want %d", path, got, code)
				}
			}
			if got := get("/version", "wrong"); got != 401 {
				t.Errorf("GET /version with a wrong token: %d, want 401", got)
			}
		})
	}
}
