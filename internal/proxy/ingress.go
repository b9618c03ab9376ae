package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	netlisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/kube/informersync"
)

// The ingress controller routes HTTP on one address by the host and path
// rules of the Ingresses of its class, to the ready endpoints of each
// rule's Service, as an ingress controller such as ingress-nginx does:
//   - at start it creates its IngressClass ("stratus", controller
//     stratus.io/ingress, annotated default) when missing; it serves the
//     Ingresses of that class and those naming none while it is default;
//   - a host matches exactly or, for "*.example.com", one label in its
//     place; a path matches Exact, or Prefix by whole "/" elements
//     (ImplementationSpecific as Prefix); the longest path wins, Exact
//     over Prefix; then spec.defaultBackend; else 404;
//   - each served Ingress gets the address in status.loadBalancer, so
//     `kubectl get ingress` shows it.
//
// Shortcuts: no TLS (spec.tls is ignored), no resource backends, no
// annotations (rewrites and the like).

const (
	// IngressClassName is the class the ingress controller serves.
	IngressClassName = "stratus"
	// IngressController is its controller name.
	IngressController      = "stratus.io/ingress"
	annDefaultIngressClass = "ingressclass.kubernetes.io/is-default-class"
)

// IngressOptions configure the ingress controller.
type IngressOptions struct {
	Client kubernetes.Interface
	Log    *slog.Logger
	// Addr is where HTTP is served (required; port 0 picks one).
	Addr string
}

// Ingress is the ingress controller; it is an app.Component.
type Ingress struct {
	o       IngressOptions
	log     *slog.Logger
	ings    netlisters.IngressLister
	classes netlisters.IngressClassLister
	svcs    corelisters.ServiceLister
	eps     corelisters.EndpointsLister
	factory informers.SharedInformerFactory
	srv     *http.Server
	addr    atomic.Value // string
	next    atomic.Uint64
	ready   atomic.Bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var (
	_ app.Component = (*Ingress)(nil)
	_ app.Readier   = (*Ingress)(nil)
)

// NewIngress returns the ingress controller; nothing runs before Start.
func NewIngress(o IngressOptions) *Ingress {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Ingress{o: o, log: o.Log.With("component", "ingress")}
}

// Name implements app.Component.
func (g *Ingress) Name() string { return "ingress" }

// Ready implements app.Readier.
func (g *Ingress) Ready() bool { return g.ready.Load() }

// Addr is the address HTTP is served on (after Start).
func (g *Ingress) Addr() string { s, _ := g.addr.Load().(string); return s }

// Start listens, starts the informers and, once synced, publishes the
// address on the Ingresses it serves.
func (g *Ingress) Start(ctx context.Context) error {
	if g.o.Client == nil || g.o.Addr == "" {
		return errors.New("ingress: Client and Addr are required")
	}
	ln, err := net.Listen("tcp", g.o.Addr)
	if err != nil {
		return fmt.Errorf("ingress: %w", err)
	}
	g.addr.Store(ln.Addr().String())
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	g.factory = informers.NewSharedInformerFactory(g.o.Client, 0)
	ii := g.factory.Networking().V1().Ingresses()
	g.ings, g.classes = ii.Lister(), g.factory.Networking().V1().IngressClasses().Lister()
	g.svcs, g.eps = g.factory.Core().V1().Services().Lister(), g.factory.Core().V1().Endpoints().Lister()
	changed := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	_, _ = ii.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }})
	_, _ = g.factory.Networking().V1().IngressClasses().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: poke})
	g.factory.Start(runCtx.Done())
	g.srv = &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return runCtx }}
	g.wg.Add(2)
	go func() {
		defer g.wg.Done()
		if err := g.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("serving", "err", err)
		}
	}()
	go func() {
		defer g.wg.Done()
		if !informersync.Factory(runCtx.Done(), g.factory) {
			return
		}
		g.ensureClass(runCtx)
		g.ready.Store(true)
		for {
			g.publish(runCtx)
			select {
			case <-runCtx.Done():
				return
			case <-changed:
			}
		}
	}()
	return nil
}

// Stop stops serving and the informers.
func (g *Ingress) Stop(ctx context.Context) error {
	g.ready.Store(false)
	if g.cancel == nil {
		return nil
	}
	err := g.srv.Shutdown(ctx)
	g.cancel()
	g.wg.Wait()
	g.factory.Shutdown()
	return err
}

func (g *Ingress) ensureClass(ctx context.Context) {
	if _, err := g.classes.Get(IngressClassName); err == nil {
		return
	}
	c := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: IngressClassName,
		Annotations: map[string]string{annDefaultIngressClass: "true"}}, Spec: networkingv1.IngressClassSpec{Controller: IngressController}}
	if _, err := g.o.Client.NetworkingV1().IngressClasses().Create(ctx, c, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) && ctx.Err() == nil {
		g.log.Warn("creating the IngressClass", "err", err)
	}
}

// serves reports whether ing is of this controller's class.
func (g *Ingress) serves(ing *networkingv1.Ingress) bool {
	name := ""
	if ing.Spec.IngressClassName != nil {
		name = *ing.Spec.IngressClassName
	} else if a := ing.Annotations["kubernetes.io/ingress.class"]; a != "" {
		name = a
	}
	if name == "" {
		c, err := g.classes.Get(IngressClassName)
		return err == nil && c.Annotations[annDefaultIngressClass] == "true"
	}
	c, err := g.classes.Get(name)
	return err == nil && c.Spec.Controller == IngressController
}

// publish writes the address into the status of each served Ingress.
func (g *Ingress) publish(ctx context.Context) {
	host, _, _ := net.SplitHostPort(g.Addr())
	lb := networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: host}}}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		lb.Ingress[0] = networkingv1.IngressLoadBalancerIngress{IP: "127.0.0.1"}
	}
	all, _ := g.ings.List(labels.Everything())
	for _, ing := range all {
		if !g.serves(ing) || len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == lb.Ingress[0].IP {
			continue
		}
		upd := ing.DeepCopy()
		upd.Status.LoadBalancer = lb
		if _, err := g.o.Client.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
			g.log.Debug("ingress status", "ingress", ing.Namespace+"/"+ing.Name, "err", err)
		}
	}
}

// HostMatches is the Ingress host rule: exact, or a wildcard standing for
// exactly one leading label.
func HostMatches(rule, host string) bool {
	if rule == "" {
		return true
	}
	if suffix, ok := strings.CutPrefix(rule, "*."); ok {
		first, rest, found := strings.Cut(host, ".")
		return found && first != "" && rest == suffix
	}
	return rule == host
}

// PathMatches is the Ingress path rule: Exact compares whole paths;
// Prefix (and ImplementationSpecific here) matches by "/" elements, so
// /foo matches /foo and /foo/bar, not /foobar.
func PathMatches(typ networkingv1.PathType, rule, path string) bool {
	if typ == networkingv1.PathTypeExact {
		return rule == path
	}
	rule = strings.TrimSuffix(rule, "/")
	if rule == "" {
		return true
	}
	return path == rule || strings.HasPrefix(path, rule+"/")
}

type route struct {
	ns      string
	backend *networkingv1.IngressBackend
	exact   bool
	pathLen int
}

// Route finds the backend for host and path among the served Ingresses.
func (g *Ingress) route(host, path string) *route {
	all, _ := g.ings.List(labels.Everything())
	sort.Slice(all, func(i, j int) bool { // the oldest Ingress wins ties, as ingress-nginx
		return all[i].CreationTimestamp.Before(&all[j].CreationTimestamp)
	})
	var best, def *route
	for _, ing := range all {
		if !g.serves(ing) {
			continue
		}
		if ing.Spec.DefaultBackend != nil && def == nil {
			def = &route{ns: ing.Namespace, backend: ing.Spec.DefaultBackend}
		}
		for _, rule := range ing.Spec.Rules {
			if !HostMatches(rule.Host, host) || rule.HTTP == nil {
				continue
			}
			for i := range rule.HTTP.Paths {
				p := &rule.HTTP.Paths[i]
				typ := networkingv1.PathTypePrefix
				if p.PathType != nil {
					typ = *p.PathType
				}
				rp := p.Path
				if rp == "" {
					rp = "/"
				}
				if !PathMatches(typ, rp, path) {
					continue
				}
				r := &route{ns: ing.Namespace, backend: &p.Backend, exact: typ == networkingv1.PathTypeExact, pathLen: len(rp)}
				if best == nil || r.exact && !best.exact || r.exact == best.exact && r.pathLen > best.pathLen {
					best = r
				}
			}
		}
	}
	if best != nil {
		return best
	}
	return def
}

// endpoint picks a ready endpoint of the backend's Service port.
func (g *Ingress) endpoint(r *route) (string, error) {
	sb := r.backend.Service
	if sb == nil {
		return "", errors.New("resource backends are not supported")
	}
	svc, err := g.svcs.Services(r.ns).Get(sb.Name)
	if err != nil {
		return "", err
	}
	portName := ""
	found := false
	for _, sp := range svc.Spec.Ports {
		if (sb.Port.Name != "" && sp.Name == sb.Port.Name) || (sb.Port.Name == "" && sp.Port == sb.Port.Number) {
			portName, found = sp.Name, true
		}
	}
	if !found {
		return "", fmt.Errorf("service %s/%s has no port %s", r.ns, sb.Name, portString(sb.Port))
	}
	ep, err := g.eps.Endpoints(r.ns).Get(sb.Name)
	if err != nil {
		return "", err
	}
	addrs := endpointAddrs(ep, portName)
	if len(addrs) == 0 {
		return "", fmt.Errorf("service %s/%s has no ready endpoints", r.ns, sb.Name)
	}
	return addrs[int(g.next.Add(1)-1)%len(addrs)], nil
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

// ServeHTTP routes one request.
func (g *Ingress) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	r := g.route(strings.ToLower(host), req.URL.Path)
	if r == nil {
		http.Error(w, "default backend - 404", http.StatusNotFound)
		return
	}
	addr, err := g.endpoint(r)
	if err != nil {
		g.log.Debug("no backend", "host", host, "path", req.URL.Path, "err", err)
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", addr
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			g.log.Debug("backend failed", "addr", addr, "err", err)
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, req)
}
