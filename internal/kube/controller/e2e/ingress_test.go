package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/proxy"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// backendYAML is a Service without selector whose Endpoints name a test
// HTTP server (no runtime needed to answer).
func backendYAML(name, ip, port string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  ports:
  - name: http
    port: 80
---
apiVersion: v1
kind: Endpoints
metadata:
  name: %[1]s
subsets:
- addresses:
  - ip: %[2]s
  ports:
  - name: http
    port: %[3]s
`, name, ip, port)
}

// TestIngressRoutingWithKubectl: Ingresses made with `kubectl create
// ingress` (1.27 and 1.33) route by host and path (Exact over Prefix,
// longest prefix, wildcard hosts, the default backend, 404 otherwise) on
// the ingress address, whose IngressClass is created at start and whose
// address shows in `kubectl get ingress`.
func TestIngressRoutingWithKubectl(t *testing.T) {
	c := startCluster(t, controller.Options{})
	ing := proxy.NewIngress(proxy.IngressOptions{Client: c.cs, Log: testenv.Logger(), Addr: "127.0.0.1:0"})
	if err := ing.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopWithTimeout(t, "ingress", ing.Stop)
	testenv.Eventually(t, 20*time.Second, "ingress ready", ing.Ready)
	backends := map[string]string{}
	for _, name := range []string{"web", "api", "apiv2", "fallback", "wild"} {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s %s", name, r.Host, r.URL.Path)
		}))
		t.Cleanup(s.Close)
		backends[name] = strings.TrimPrefix(s.URL, "http://")
	}
	get := func(host, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+ing.Addr()+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, v := range []string{"1.27", "1.33"} {
		t.Run(v, func(t *testing.T) {
			bin := testenv.LookPath(t, "/usr/lib/google-cloud-sdk/bin/kubectl."+v, "the Google Cloud SDK's versioned kubectl binaries")
			k := &kubectl{t: t, bin: bin, kubeconfig: c.srv.KubeconfigPath(), home: t.TempDir()}
			ns := "v" + strings.ReplaceAll(v, ".", "-")
			k.must("create", "namespace", ns)
			kn := func(args ...string) string { return k.must(append([]string{"-n", ns}, args...)...) }
			for name, addr := range backends {
				ip, port, _ := net.SplitHostPort(addr)
				if out, err := k.runIn(backendYAML(name, ip, port), "-n", ns, "apply", "-f", "-"); err != nil {
					t.Fatalf("apply: %v\n%s", err, out)
				}
			}
			if out := k.must("get", "ingressclass"); !strings.Contains(out, proxy.IngressClassName) || !strings.Contains(out, proxy.IngressController) {
				t.Errorf("get ingressclass:\n%s", out)
			}
			host := ns + ".example.com"
			kn("create", "ingress", "site", "--rule="+host+"/*=web:80", "--rule="+host+"/api/*=api:http", "--rule="+host+"/api/v2=apiv2:80",
				"--rule=*."+ns+".test/*=wild:80")
			if v == "1.27" { // one default backend for the whole controller
				kn("create", "ingress", "fallback", "--default-backend=fallback:80")
			}
			k.eventually(20*time.Second, "address shown", func(out string) bool { return strings.Contains(out, "127.0.0.1") },
				"-n", ns, "get", "ingress", "site")
			if out := kn("get", "ingress", "site"); !strings.Contains(out, proxy.IngressClassName) && !strings.Contains(out, "<none>") {
				t.Errorf("get ingress:\n%s", out)
			}
			for _, tc := range []struct {
				host, path string
				code       int
				body       string
			}{
				{host, "/", 200, "web " + host + " /"},
				{host, "/index.html", 200, "web"},
				{host, "/api", 200, "api"},
				{host, "/api/users", 200, "api"},
				{host, "/apiary", 200, "web"}, // not under /api by elements
				{host, "/api/v2", 200, "apiv2"},
				{host, "/api/v2/x", 200, "api"}, // Exact only
				{"a." + ns + ".test", "/x", 200, "wild"},
				{"a.b." + ns + ".test", "/x", 200, "fallback"}, // one label only
				{"other.example.com", "/", 200, "fallback"},
			} {
				code, body := get(tc.host, tc.path)
				if code != tc.code || !strings.HasPrefix(body, tc.body) {
					t.Errorf("%s%s: %d %q, want %d %q", tc.host, tc.path, code, body, tc.code, tc.body)
				}
			}
			kn("delete", "service", "api")
			if code, _ := get(host, "/api/x"); code != http.StatusServiceUnavailable {
				t.Errorf("a backend Service gone: %d", code)
			}
		})
	}
	// no default backend once it is deleted
	k := newKubectl(t, c.srv.KubeconfigPath())
	k.must("-n", "v1-27", "delete", "ingress", "fallback")
	testenv.Eventually(t, 10*time.Second, "404 with no default backend", func() bool {
		code, body := get("nowhere.example.com", "/")
		return code == http.StatusNotFound && strings.Contains(body, "default backend - 404")
	})
}
