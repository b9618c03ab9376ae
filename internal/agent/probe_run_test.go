package agent

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestHTTPProbe: the kubelet's rules for an httpGet probe: 200–399 pass,
// a redirect elsewhere passes with a warning, other codes fail with the
// kubelet's text, headers and the Host override reach the server, a
// named port resolves through the container's ports.
func TestHTTPProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("User-Agent") != probeUserAgent || r.Header.Get("Accept") != "*/*" {
				w.WriteHeader(http.StatusTeapot)
			}
		case "/headers":
			if r.Header.Get("X-Probe") != "yes" || r.Host != "example.test" {
				w.WriteHeader(http.StatusBadRequest)
			}
		case "/here":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/elsewhere":
			http.Redirect(w, r, "http://other.test/", http.StatusFound)
		case "/slow":
			time.Sleep(1500 * time.Millisecond)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	tests := []struct {
		name    string
		action  corev1.HTTPGetAction
		result  probeResult
		output  string
		warning bool
		err     string
	}{
		{"ok by number", corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(port)}, resultSuccess, "", false, ""},
		{"ok by name", corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("http")}, resultSuccess, "", false, ""},
		{"headers", corev1.HTTPGetAction{Path: "/headers", Port: intstr.FromInt(port),
			HTTPHeaders: []corev1.HTTPHeader{{Name: "X-Probe", Value: "yes"}, {Name: "Host", Value: "example.test"}}}, resultSuccess, "", false, ""},
		{"redirect followed", corev1.HTTPGetAction{Path: "/here", Port: intstr.FromInt(port)}, resultSuccess, "", false, ""},
		{"redirect elsewhere", corev1.HTTPGetAction{Path: "/elsewhere", Port: intstr.FromInt(port)}, resultSuccess, "Probe terminated redirects, Response body: ", true, ""},
		{"500", corev1.HTTPGetAction{Path: "/fail", Port: intstr.FromInt(port)}, resultFailure, "HTTP probe failed with statuscode: 500", false, ""},
		{"timeout", corev1.HTTPGetAction{Path: "/slow", Port: intstr.FromInt(port)}, resultFailure, "(Client.Timeout exceeded while awaiting headers)", false, ""},
		{"unknown port name", corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("web")}, 0, "", false, `strconv.Atoi: parsing "web": invalid syntax`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := httpProbe(context.Background(), &tc.action, c, host, time.Second)
			if tc.err != "" {
				if out.err == nil || out.err.Error() != tc.err {
					t.Fatalf("err %v, want %s", out.err, tc.err)
				}
				return
			}
			if out.err != nil || out.result != tc.result || out.warning != tc.warning || !strings.Contains(out.output, tc.output) {
				t.Fatalf("got %+v", out)
			}
		})
	}
	// nothing listening: the dial error, as the kubelet reports it
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	_ = ln.Close()
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	out := httpProbe(context.Background(), &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt(n)}, c, "127.0.0.1", time.Second)
	if want := `Get "http://` + addr + `/": dial tcp ` + addr + `: connect: connection refused`; out.result != resultFailure || out.output != want {
		t.Fatalf("got %q, want %q", out.output, want)
	}
	if out := tcpProbe(context.Background(), addr, time.Second); out.result != resultFailure || out.output != "dial tcp "+addr+": connect: connection refused" {
		t.Fatalf("tcp to nothing: %+v", out)
	}
	if out := tcpProbe(context.Background(), srv.Listener.Addr().String(), time.Second); out.result != resultSuccess {
		t.Fatalf("tcp: %+v", out)
	}
}

// TestGRPCProbe: a grpc probe asks the standard health service.
func TestGRPCProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := health.NewServer()
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()
	addr := ln.Addr().String()
	if out := grpcProbe(context.Background(), addr, "", time.Second); out.result != resultSuccess {
		t.Fatalf("serving: %+v", out)
	}
	if out := grpcProbe(context.Background(), addr, "db", time.Second); out.result != resultFailure || out.output != `service unhealthy (responded with "NOT_SERVING")` {
		t.Fatalf("not serving: %+v", out)
	}
	gs.Stop()
	if out := grpcProbe(context.Background(), addr, "", 300*time.Millisecond); out.result != resultFailure || !strings.HasPrefix(out.output, "timeout: failed to connect service") {
		t.Fatalf("gone: %+v", out)
	}
}
