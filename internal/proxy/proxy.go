// Package proxy is the service proxy, a userspace proxy as kube-proxy was
// in its first years: for every TCP port of every service it listens on the
// service's cluster IP (loopback addresses, so no root and no network
// plugin) and, for NodePort and LoadBalancer services, on 127.0.0.1:<node
// port>, and forwards each connection round-robin to the service's ready
// endpoints, trying the next one when a dial fails. Like kube-proxy, it also
// answers on each of a service's spec.externalIPs at the service port (how
// `stratus compose` publishes ports on the host).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/kube/informersync"
)

// Options configure the proxy.
type Options struct {
	Client kubernetes.Interface
	Log    *slog.Logger
	// NodePortAddress is the host address node ports listen on (default
	// 127.0.0.1).
	NodePortAddress string
	// DialTimeout bounds each connection attempt to an endpoint (default 2 s).
	DialTimeout time.Duration
}

// Proxy is the service proxy; it is an app.Component.
type Proxy struct {
	o   Options
	log *slog.Logger

	svcLister corelisters.ServiceLister
	epLister  corelisters.EndpointsLister
	queue     workqueue.TypedInterface[string]

	mu        sync.Mutex
	listeners map[string]*listener // by listen address
	backends  map[string]*backend  // by "ns/svc:portName"

	ready  atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
	conns  sync.WaitGroup
}

var (
	_ app.Component = (*Proxy)(nil)
	_ app.Readier   = (*Proxy)(nil)
)

type listener struct {
	ln      net.Listener
	backend string
}

// backend is the round-robin set of one service port.
type backend struct {
	mu    sync.RWMutex
	addrs []string
	next  atomic.Uint64
}

func (b *backend) set(addrs []string) {
	b.mu.Lock()
	b.addrs = addrs
	b.mu.Unlock()
}

// pick returns the endpoints in the order to try them.
func (b *backend) pick() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := len(b.addrs)
	if n == 0 {
		return nil
	}
	start := int(b.next.Add(1)-1) % n
	out := make([]string, n)
	for i := range n {
		out[i] = b.addrs[(start+i)%n]
	}
	return out
}

// New returns a proxy.
func New(o Options) *Proxy {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.NodePortAddress == "" {
		o.NodePortAddress = "127.0.0.1"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	return &Proxy{o: o, log: o.Log.With("component", "proxy"), listeners: map[string]*listener{}, backends: map[string]*backend{}}
}

// Name implements app.Component.
func (p *Proxy) Name() string { return "service-proxy" }

// Ready implements app.Readier.
func (p *Proxy) Ready() bool { return p.ready.Load() }

// Start watches services and endpoints and keeps the listeners in step.
func (p *Proxy) Start(ctx context.Context) error {
	if p.o.Client == nil {
		return errors.New("proxy: Options.Client is required")
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	f := informers.NewSharedInformerFactory(p.o.Client, 0)
	si, ei := f.Core().V1().Services(), f.Core().V1().Endpoints()
	p.svcLister, p.epLister = si.Lister(), ei.Lister()
	p.queue = workqueue.NewTyped[string]()
	enq := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			p.queue.Add(key)
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: enq, UpdateFunc: func(_, o any) { enq(o) }, DeleteFunc: enq}
	_, _ = si.Informer().AddEventHandler(h)
	_, _ = ei.Informer().AddEventHandler(h)
	f.Start(runCtx.Done())
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer f.Shutdown()
		if !informersync.Wait(runCtx.Done(), si.Informer().HasSynced, ei.Informer().HasSynced) {
			return
		}
		p.ready.Store(true)
		go func() { <-runCtx.Done(); p.queue.ShutDown() }()
		for {
			key, quit := p.queue.Get()
			if quit {
				return
			}
			p.sync(key)
			p.queue.Done(key)
		}
	}()
	return nil
}

// Stop closes every listener and connection.
func (p *Proxy) Stop(ctx context.Context) error {
	p.ready.Store(false)
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	if p.queue != nil {
		p.queue.ShutDown()
	}
	p.mu.Lock()
	for addr, l := range p.listeners {
		_ = l.ln.Close()
		delete(p.listeners, addr)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); p.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("proxy: stop: %w", ctx.Err())
	}
}

// sync brings one service's listeners and backends up to date.
func (p *Proxy) sync(key string) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	svc, err := p.svcLister.Services(ns).Get(name)
	want := map[string]string{} // listen addr → backend key
	if err == nil {
		ep, _ := p.epLister.Endpoints(ns).Get(name)
		for _, sp := range svc.Spec.Ports {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue
			}
			bkey := key + ":" + sp.Name
			p.mu.Lock()
			b := p.backends[bkey]
			if b == nil {
				b = &backend{}
				p.backends[bkey] = b
			}
			p.mu.Unlock()
			b.set(endpointAddrs(ep, sp.Name))
			if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
				want[net.JoinHostPort(ip, strconv.Itoa(int(sp.Port)))] = bkey
			}
			for _, ip := range svc.Spec.ExternalIPs {
				want[net.JoinHostPort(ip, strconv.Itoa(int(sp.Port)))] = bkey
			}
			if sp.NodePort != 0 && (svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer) {
				want[net.JoinHostPort(p.o.NodePortAddress, strconv.Itoa(int(sp.NodePort)))] = bkey
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := key + ":"
	for addr, l := range p.listeners {
		if len(l.backend) >= len(prefix) && l.backend[:len(prefix)] == prefix {
			if b, ok := want[addr]; !ok || b != l.backend {
				_ = l.ln.Close()
				delete(p.listeners, addr)
			}
		}
	}
	for bkey := range p.backends {
		if len(bkey) >= len(prefix) && bkey[:len(prefix)] == prefix {
			used := false
			for _, b := range want {
				used = used || b == bkey
			}
			if !used {
				delete(p.backends, bkey)
			}
		}
	}
	for addr, bkey := range want {
		if _, ok := p.listeners[addr]; ok {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			p.log.Warn("cannot listen for service", "service", key, "addr", addr, "err", err)
			continue
		}
		l := &listener{ln: ln, backend: bkey}
		p.listeners[addr] = l
		p.wg.Add(1)
		go p.serve(l)
		p.log.Debug("proxying", "service", key, "addr", addr)
	}
}

func endpointAddrs(ep *corev1.Endpoints, portName string) []string {
	if ep == nil {
		return nil
	}
	var out []string
	for _, ss := range ep.Subsets {
		for _, port := range ss.Ports {
			if port.Name != portName || (port.Protocol != "" && port.Protocol != corev1.ProtocolTCP) {
				continue
			}
			for _, a := range ss.Addresses {
				out = append(out, net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	return out
}

func (p *Proxy) serve(l *listener) {
	defer p.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		b := p.backends[l.backend]
		p.mu.Unlock()
		p.conns.Add(1)
		go func() {
			defer p.conns.Done()
			p.forward(c, b)
		}()
	}
}

func (p *Proxy) forward(c net.Conn, b *backend) {
	defer c.Close()
	if b == nil {
		return
	}
	var up net.Conn
	for _, addr := range b.pick() {
		var err error
		up, err = net.DialTimeout("tcp", addr, p.o.DialTimeout)
		if err == nil {
			break
		}
		p.log.Debug("endpoint did not answer", "endpoint", addr, "err", err)
	}
	if up == nil {
		return // no endpoint: the client sees the connection close
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(up, c)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	_, _ = io.Copy(c, up)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	// the endpoint is done; give the client a moment to finish its side
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	<-done
}
