package docker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// dialPatience is how long a forwarded connection waits for the container
// to listen: a container that has just started may not have bound its port.
const dialPatience = 3 * time.Second

// openPorts makes each declared TCP port of spec answer on podIP:port on
// this host, forwarded to the sandbox's address. Ports that cannot be
// served are logged and skipped: the container runs regardless, as it
// would in Kubernetes with a port nobody can reach.
func (r *Runtime) openPorts(spec runtime.ContainerSpec, sandboxIP string) []*portProxy {
	if spec.PodIP == "" || len(spec.Ports) == 0 {
		return nil
	}
	var ps []*portProxy
	for _, p := range spec.Ports {
		log := r.log.With("pod", spec.PodNamespace+"/"+spec.PodName, "container", spec.Name, "port", p.Port)
		if p.Protocol != "" && p.Protocol != "TCP" {
			log.Warn("only TCP ports are forwarded", "protocol", p.Protocol)
			continue
		}
		if sandboxIP == "" {
			log.Warn("pod sandbox has no address; port not forwarded")
			continue
		}
		port := strconv.Itoa(int(p.Port))
		px, err := startProxy(net.JoinHostPort(spec.PodIP, port), net.JoinHostPort(sandboxIP, port), log)
		if err != nil {
			log.Warn("port not forwarded", "err", err)
			continue
		}
		ps = append(ps, px)
	}
	return ps
}

// portProxy forwards TCP connections from a host address to a container's.
type portProxy struct {
	ln     net.Listener
	target string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startProxy(listen, target string, log *slog.Logger) (*portProxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &portProxy{ln: ln, target: target, log: log, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *portProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// track records c; false once the proxy is closing.
func (p *portProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *portProxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *portProxy) serve(in net.Conn) {
	defer p.wg.Done()
	defer p.untrack(in)
	defer in.Close()
	out, err := p.dial()
	if err != nil {
		p.log.Debug("forwarded connection not made", "target", p.target, "err", err)
		return
	}
	if !p.track(out) {
		_ = out.Close()
		return
	}
	defer p.untrack(out)
	defer out.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// dial connects to the target, retrying refusals for a short while.
func (p *portProxy) dial() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(p.ctx, dialPatience)
	defer cancel()
	var d net.Dialer
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		c, err := d.DialContext(ctx, "tcp", p.target)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
			return c, err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// Close stops listening, cuts open connections and waits for the
// forwarding goroutines.
func (p *portProxy) Close() {
	p.cancel()
	_ = p.ln.Close()
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}
