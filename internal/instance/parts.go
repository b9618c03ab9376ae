package instance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/cloudstack"
	"github.com/stratus-cloud/stratus/internal/dashboard"
	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/gce"
	"github.com/stratus-cloud/stratus/internal/inproc"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
	"github.com/stratus-cloud/stratus/internal/kube/sharedpods"
	"github.com/stratus-cloud/stratus/internal/leader"
	"github.com/stratus-cloud/stratus/internal/proxy"
	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/store/compactor"
)

// build adds every part to the group, in two stages whose parts start
// side by side: first the simulated cloud and the Kubernetes API server,
// which need only the store; then what stands on them: the controllers, the
// node agents and service proxy, the GCE gateway and the dashboard. The
// HTTP front is added last by runUp.
func (w *wiring) build(ctx context.Context) error {
	w.first, w.second = nil, nil
	dc, err := cloud.LoadDatacenter(w.o.Datacenter)
	if err != nil {
		return fmt.Errorf("--datacenter: %w", err)
	}
	w.o.Expiry.applyTo(dc)
	if err := dc.Validate(); err != nil {
		return err
	}
	w.first = append(w.first, compactor.New(compactor.Options{Store: w.store, Interval: w.o.Expiry.Compaction, Log: w.log.With("component", "compactor")}))
	sim, err := cloud.New(ctx, cloud.Options{Store: w.store, Datacenter: dc, Log: w.log.With("component", "cloud"), ID: w.identity()})
	if err != nil {
		return err
	}
	w.sim = sim
	cs := cloudstack.NewHandler(cloudstack.Options{Cloud: sim, Log: w.log.With("component", "cloudstack"), Metrics: w.reg})
	w.first = append(w.first, sim)
	w.http.Handle("/client/api", "cloudstack", cs)
	w.http.Handle("/client/api/", "cloudstack", cs)
	w.stateFns = append(w.stateFns, func(ctx context.Context, s *datadir.State) error {
		key, secret, err := sim.AdminKeys(ctx)
		if err != nil {
			return fmt.Errorf("cloudstack admin keys: %w", err)
		}
		s.CloudStack = &datadir.CloudStackState{APIKey: key, SecretKey: secret}
		return nil
	})

	kc, err := w.buildKube(ctx)
	if err != nil {
		return err
	}
	w.buildGCE(sim, cs)
	if err := w.buildMarathon(); err != nil {
		return err
	}
	w.buildJoin(sim, dc, cs, kc, w.kube)

	// The fault API is read as a client, with the admin token; its handler
	// is made once every part is (Instance.adminHandler).
	faults := &dashboard.FaultAPI{Token: w.adminToken, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.adminAPI.ServeHTTP(rw, r)
	})}
	d, err := dashboard.New(dashboard.Options{CloudStack: cs, Kube: kc, KubeWatch: w.kube.ListerWatcher, CloudChanges: sim.Changed, Marathon: w.marathon, Faults: faults, Log: w.log, Metrics: w.reg}) // it names itself
	if err != nil {
		return err
	}
	w.second = append(w.second, d)
	w.group.Add(
		&app.Parallel{N: "foundations", Parts: w.first, Log: w.log},
		&app.Parallel{N: "services", Parts: w.second, Log: w.log},
	)
	// The dashboard's live streams end when the HTTP front begins to stop.
	w.http.OnShutdown(func() { _ = d.Stop(context.Background()) })
	w.http.Handle("/client/", "dashboard", d.Handler())
	w.http.Handle("GET /client", "dashboard", http.RedirectHandler("/client/", http.StatusMovedPermanently))
	w.http.Handle("GET /{$}", "dashboard", http.RedirectHandler("/client/", http.StatusFound))
	w.stateFns = append(w.stateFns, func(ctx context.Context, s *datadir.State) error { s.Dashboard = true; return nil })
	return nil
}

// buildKube adds the Kubernetes API server, the host's node agent and the
// simulated nodes, and returns an in-process client of the API.
func (w *wiring) buildKube(ctx context.Context) (kubernetes.Interface, error) {
	srv, err := apiserver.New(apiserver.Options{Store: w.store, DataDir: w.dir.Path(), Addr: w.o.KubeAddr, Log: w.log, Metrics: w.reg,
		SANs: w.o.TLSSANs, NodeToken: w.o.Token, ServiceCIDR: w.net.ServiceCIDR, EventTTL: w.o.Expiry.EventTTL, Wrap: w.faults.Kube})
	if err != nil {
		return nil, err
	}
	w.first = append(w.first, srv)
	w.kube = srv
	kc, err := kubernetes.NewForConfig(srv.LoopbackConfig())
	if err != nil {
		return nil, err
	}
	w.stateFns = append(w.stateFns, func(ctx context.Context, s *datadir.State) error {
		s.KubeURL = srv.URL()
		s.Kubeconfig = srv.KubeconfigPath()
		s.JoinToken = srv.JoinToken()
		return nil
	})

	// One pod informer for the controllers and the simulated nodes, fed
	// with the API server's own decoded pods: each pod decoded and held
	// once in the process.
	podsLW, err := srv.ListerWatcher("", "v1", "pods")
	if err != nil {
		return nil, err
	}
	pods := sharedpods.NewFrom(podsLW)
	w.second = append(w.second, pods)
	cmc, err := w.kubeClient("kube-controller-manager")
	if err != nil {
		return nil, err
	}
	schedc, err := w.kubeClient("kube-scheduler")
	if err != nil {
		return nil, err
	}
	kubelet, err := w.kubeClient("kubelet")
	if err != nil {
		return nil, err
	}
	cm := controller.New(controller.Options{Client: cmc, SchedulerClient: schedc, Log: w.log, Metrics: w.reg, ClusterCIDR: w.net.PodCIDR.String(), Pods: pods,
		RootCA: srv.CACert(), LegacyTokenSigner: srv.SignLegacyToken, CSRSigner: srv.SignClientCSR, VolumeDir: filepath.Join(w.dir.Path(), "volumes")})
	// Servers sharing a store take turns: only the lease holder runs the
	// scheduler and controllers. The identity is stable per data dir, so a
	// restarted server takes its own lease back at once.
	w.second = append(w.second, leader.New(leader.Options{Client: kc, Identity: w.identity(), Log: w.log}, cm))
	if !w.o.ControlPlaneOnly {
		if err := w.buildHostAgent(ctx, kubelet, localCerts(srv)); err != nil {
			return nil, err
		}
		kp, err := w.kubeClient("kube-proxy")
		if err != nil {
			return nil, err
		}
		w.second = append(w.second, proxy.New(proxy.Options{Client: kp, Log: w.log, NodePortAddress: w.net.NodeAddr.String()}))
		if w.o.IngressAddr != "" {
			w.second = append(w.second, proxy.NewIngress(proxy.IngressOptions{Client: kc, Log: w.log, Addr: w.o.IngressAddr}))
		}
	}
	if w.o.SimNodes > 0 {
		pool, err := agent.NewSimPool(agent.SimPoolOptions{Client: kubelet, Pods: pods, Count: w.o.SimNodes, Runtime: w.simRuntime(sim.Options{Ports: w.claim != nil}), Certs: localCerts(srv), Log: w.log})
		if err != nil {
			return nil, err
		}
		w.second = append(w.second, pool)
		w.simPool = pool
	}
	return kc, nil
}

// kubeClient is an in-process client of the Kubernetes API that names
// itself as the component it serves: the server names a write's field
// manager after the client's user agent, so managedFields say kubelet or
// kube-controller-manager as on a real cluster, and `stratus fault add
// --user-agent kubelet` reaches one component.
func (w *wiring) kubeClient(component string) (kubernetes.Interface, error) {
	cfg := w.kube.LoopbackConfig()
	cfg.UserAgent = component
	return kubernetes.NewForConfig(cfg)
}

// localCerts issues the certificates of agents in this process straight
// from the cluster CA.
func localCerts(srv *apiserver.Server) agent.LocalCerts {
	return agent.LocalCerts{Issue: srv.IssueKubeletServingCert, CA: srv.CACert()}
}

// buildHostAgent adds the node agent of this host. Choosing and opening
// the runtime (asking whether a docker engine answers, cleaning up what a
// crashed run left) starts now, beside the first stage, and the agent
// waits for it in the second.
func (w *wiring) buildHostAgent(ctx context.Context, kc kubernetes.Interface, nodeCerts agent.Certs) error {
	// One docker instance name per data dir: containers a crashed earlier
	// run left behind are cleaned up by the next one.
	sum := sha256.Sum256([]byte(w.dir.Path()))
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "stratus"
	}
	ha := &hostAgent{opened: make(chan struct{})}
	go func() {
		defer close(ha.opened)
		ha.rt, ha.name, ha.err = OpenRuntime(ctx, w.o.Runtime, "stratus-"+hex.EncodeToString(sum[:6]), w.log)
		if s, ok := ha.rt.(*sim.Runtime); ok {
			s.SetFaults(w.podFaults.annotations)
		}
	}()
	ha.newAgent = func(rt runtime.Runtime) (*agent.Agent, error) {
		// The node's address (its log server's) is the slot's, where its
		// node ports listen.
		return agent.New(agent.Options{Client: kc, NodeName: strings.ToLower(host), Runtime: rt, Certs: nodeCerts, Log: w.log,
			Addr: net.JoinHostPort(w.net.NodeAddr.String(), "0")})
	}
	w.second = append(w.second, ha)
	w.host = ha
	return nil
}

// hostAgent is the host's node agent, created once its runtime is open.
type hostAgent struct {
	opened   chan struct{} // closed when rt or err is set
	rt       runtime.Runtime
	name     string // the runtime chosen (auto resolves to sim or docker)
	err      error
	newAgent func(runtime.Runtime) (*agent.Agent, error)
	ag       atomic.Pointer[agent.Agent]
}

func (h *hostAgent) Name() string { return "agent" }

func (h *hostAgent) Start(ctx context.Context) error {
	select {
	case <-h.opened:
	case <-ctx.Done():
		return ctx.Err()
	}
	if h.err != nil {
		return h.err
	}
	ag, err := h.newAgent(h.rt)
	if err != nil {
		closeRuntime(h.rt)
		return err
	}
	if err := ag.Start(ctx); err != nil {
		return err
	}
	h.ag.Store(ag)
	return nil
}

// Stop stops the agent, or closes a runtime opened for an agent that never
// started.
func (h *hostAgent) Stop(ctx context.Context) error {
	if ag := h.ag.Load(); ag != nil {
		return ag.Stop(ctx)
	}
	select {
	case <-h.opened:
		if h.err == nil {
			closeRuntime(h.rt)
		}
	case <-ctx.Done():
	}
	return nil
}

func (h *hostAgent) Ready() bool {
	ag := h.ag.Load()
	return ag != nil && ag.Ready()
}

func closeRuntime(rt runtime.Runtime) {
	if c, ok := rt.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// identity names this server for leader election: host name and data dir.
func (w *wiring) identity() string {
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(w.dir.Path()))
	return host + "-" + hex.EncodeToString(sum[:4])
}

// buildGCE adds the GCE gateway. It needs the root admin's keys, which
// exist once the simulator has started, so it is built in its own Start.
func (w *wiring) buildGCE(sim *cloud.Sim, cs http.Handler) {
	var h lateHandler
	var gw atomic.Pointer[gce.Gateway]
	w.second = append(w.second, app.Func{
		N: "gce",
		StartFn: func(ctx context.Context) error {
			key, secret, err := sim.AdminKeys(ctx)
			if err != nil {
				return err
			}
			g, err := gce.New(gce.Options{
				CloudStack:   gce.CloudStackConfig{URL: "http://stratus.inproc/client/api", APIKey: key, SecretKey: secret, HTTPClient: inproc.Client(cs)},
				Store:        w.store,
				Log:          w.log.With("component", "gce"),
				OperationTTL: w.o.Expiry.GCEOperationTTL,
				Metrics:      w.reg,
			})
			if err != nil {
				return err
			}
			if err := g.Start(ctx); err != nil {
				return err
			}
			gw.Store(g)
			h.set(g.Handler())
			return nil
		},
		StopFn: func(ctx context.Context) error {
			if g := gw.Load(); g != nil {
				return g.Stop(ctx)
			}
			return nil
		},
	})
	gh := w.faults.GCE(&h)
	w.http.Handle("/compute/", "gce", gh)
	w.http.Handle("/batch/compute/v1", "gce", gh)
	w.http.Handle("/oauth2/", "gce", &h)
	w.stateFns = append(w.stateFns, func(ctx context.Context, s *datadir.State) error {
		g := gw.Load()
		token, project, err := g.AdminToken(ctx)
		if err != nil {
			return fmt.Errorf("gce admin token: %w", err)
		}
		tokenFile := w.dir.File("gcloud-token")
		if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
			return err
		}
		zone, err := g.DefaultZone(ctx)
		if err != nil {
			return fmt.Errorf("gce default zone: %w", err)
		}
		s.GCE = &datadir.GCEState{Project: project, Zone: zone, TokenFile: tokenFile}
		return nil
	})
}

// lateHandler serves with a handler set after the routes are mounted, and
// 503 until then.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, "starting", http.StatusServiceUnavailable)
}
