package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// maxProbeOutput bounds what a probe keeps of a body or a command's
// output, as the kubelet does (10 KiB).
const maxProbeOutput = 10 << 10

// probeUserAgent is the kubelet's probe User-Agent for the version nodes
// report.
var probeUserAgent = "kube-probe/" + strings.Join(strings.SplitN(strings.TrimPrefix(KubeletVersion, "v"), ".", 3)[:2], ".")

// probeOutcome is one run of a probe: its result and output (the
// kubelet's event text), a success with a warning, or an error that
// throws the run away.
type probeOutcome struct {
	result  probeResult
	output  string
	warning bool
	err     error
}

func failed(output string) probeOutcome { return probeOutcome{result: resultFailure, output: output} }

// probeOnce runs probe p of container c (run id, pod IP ip) once.
func (e *engine) probeOnce(ctx context.Context, p *corev1.Probe, c *corev1.Container, id, ip string) probeOutcome {
	_, timeout, _, _ := probeTiming(p)
	switch {
	case p.Exec != nil:
		return e.execProbe(ctx, p.Exec.Command, id, timeout)
	case p.HTTPGet != nil:
		return httpProbe(ctx, p.HTTPGet, c, ip, timeout)
	case p.TCPSocket != nil:
		port, err := probePort(p.TCPSocket.Port, c)
		if err != nil {
			return probeOutcome{err: err}
		}
		host := p.TCPSocket.Host
		if host == "" {
			host = ip
		}
		return tcpProbe(ctx, net.JoinHostPort(host, strconv.Itoa(port)), timeout)
	case p.GRPC != nil:
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return grpcProbe(ctx, net.JoinHostPort(ip, strconv.Itoa(int(p.GRPC.Port))), service, timeout)
	}
	return probeOutcome{err: errors.New("missing probe handler")}
}

// probePort is a probe's port: a number, or the name of one of the
// container's ports (else a number written as a string).
func probePort(v intstr.IntOrString, c *corev1.Container) (int, error) {
	port := v.IntValue()
	if v.Type == intstr.String {
		found := false
		for _, cp := range c.Ports {
			if cp.Name == v.StrVal {
				port, found = int(cp.ContainerPort), true
				break
			}
		}
		if !found {
			n, err := strconv.Atoi(v.StrVal)
			if err != nil {
				return 0, err
			}
			port = n
		}
	}
	if port <= 0 || port >= 65536 {
		return 0, fmt.Errorf("invalid port number: %v", port)
	}
	return port, nil
}

// limitBuffer keeps the first maxProbeOutput bytes written to it.
type limitBuffer struct{ b []byte }

func (w *limitBuffer) Write(p []byte) (int, error) {
	if room := maxProbeOutput - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// execProbe runs cmd in the container: exit 0 passes; otherwise its
// output is the failure. A runtime without processes (sim) answers a
// program of the image it does not know with 127: the image's programs
// are taken to succeed there, while its shell's own commands give their
// real status.
func (e *engine) execProbe(ctx context.Context, cmd []string, id string, timeout time.Duration) probeOutcome {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out limitBuffer
	code, err := e.rt.Exec(pctx, id, cmd, runtime.Streams{Stdout: &out, Stderr: &out})
	switch {
	case pctx.Err() != nil && ctx.Err() == nil:
		return failed(fmt.Sprintf("command %q timed out", strings.Join(cmd, " ")))
	case err != nil:
		return failed(err.Error())
	case code == 0 || (code == 127 && !e.rt.Info().Capabilities.Exec):
		return probeOutcome{result: resultSuccess, output: string(out.b)}
	}
	return failed(string(out.b))
}

// probeDialer dials without lingering: a probe's closed connection leaves
// no TIME_WAIT behind (as the kubelet's).
func probeDialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: -1}
}

func lingerOff(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

// tcpProbe passes when a connection to addr opens.
func tcpProbe(ctx context.Context, addr string, timeout time.Duration) probeOutcome {
	conn, err := probeDialer(timeout).DialContext(ctx, "tcp", addr)
	if err != nil {
		return failed(err.Error())
	}
	lingerOff(conn)
	_ = conn.Close()
	return probeOutcome{result: resultSuccess}
}

// httpProbe GETs the action's URL: 200–399 passes. Redirects are followed
// on the same host only; one elsewhere ends the probe with a warning.
func httpProbe(ctx context.Context, a *corev1.HTTPGetAction, c *corev1.Container, ip string, timeout time.Duration) probeOutcome {
	port, err := probePort(a.Port, c)
	if err != nil {
		return probeOutcome{err: err}
	}
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	host := a.Host
	if host == "" {
		host = ip
	}
	u, perr := url.Parse(a.Path)
	if perr != nil {
		u = &url.URL{Path: a.Path}
	}
	u.Scheme, u.Host = scheme, net.JoinHostPort(host, strconv.Itoa(port))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return probeOutcome{err: err}
	}
	for _, h := range a.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", probeUserAgent)
	}
	if _, ok := req.Header["Accept"]; !ok {
		req.Header.Set("Accept", "*/*")
	} else if req.Header.Get("Accept") == "" {
		req.Header.Del("Accept")
	}
	req.Host = req.Header.Get("Host")
	dialer := probeDialer(timeout)
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			// Probes verify no certificate, as the kubelet's do.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: true, DisableCompression: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := dialer.DialContext(ctx, network, addr)
				if err == nil {
					lingerOff(conn)
				}
				return conn, err
			},
		},
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		},
	}
	res, err := client.Do(req)
	if err != nil {
		return failed(err.Error())
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxProbeOutput))
	if err != nil {
		return failed(err.Error())
	}
	switch {
	case res.StatusCode >= http.StatusMultipleChoices && res.StatusCode < http.StatusBadRequest:
		return probeOutcome{result: resultSuccess, warning: true, output: "Probe terminated redirects, Response body: " + string(body)}
	case res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusBadRequest:
		return probeOutcome{result: resultSuccess, output: string(body)}
	}
	return failed(fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode))
}

// grpcProbe asks addr's grpc.health.v1.Health service about service.
func grpcProbe(ctx context.Context, addr, service string, timeout time.Duration) probeOutcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithUserAgent(probeUserAgent),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := probeDialer(timeout).DialContext(ctx, "tcp", addr)
			if err == nil {
				lingerOff(c)
			}
			return c, err
		}))
	if err != nil {
		return failed(fmt.Sprintf("error: failed to connect service at %q: %+v", addr, err))
	}
	defer func() { _ = conn.Close() }()
	// Connect first, as the kubelet's blocking dial does, so a service
	// that does not answer in time is a connection timeout.
	conn.Connect()
	for st := conn.GetState(); st != connectivity.Ready; st = conn.GetState() {
		if !conn.WaitForStateChange(ctx, st) {
			return failed(fmt.Sprintf("timeout: failed to connect service %q within %v: %+v", addr, timeout, ctx.Err()))
		}
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		if st, ok := status.FromError(err); ok {
			switch st.Code() {
			case codes.Unimplemented:
				return failed("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): " + st.Message())
			case codes.DeadlineExceeded:
				return failed(fmt.Sprintf("timeout: health rpc did not complete within %v", timeout))
			}
		}
		return failed(fmt.Sprintf("error: health rpc probe failed: %+v", err))
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return failed(fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String()))
	}
	return probeOutcome{result: resultSuccess, output: "service healthy"}
}
