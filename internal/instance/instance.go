// Package instance builds and runs one whole stratus: the data directory,
// the store, the simulated cloud with its CloudStack API, the Kubernetes API
// server, controllers and agents, the GCE gateway, the dashboard and the
// HTTP front. `stratus up` and `stratus server` run one per process; the
// public stratustest package runs one per test, in the test's process.
// There is one way to build a stratus, and it is here.
package instance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/dashboard"
	"github.com/stratus-cloud/stratus/internal/datadir"
	"github.com/stratus-cloud/stratus/internal/fault"
	"github.com/stratus-cloud/stratus/internal/httpserver"
	"github.com/stratus-cloud/stratus/internal/kube/apiserver"
	"github.com/stratus-cloud/stratus/internal/netslot"
	"github.com/stratus-cloud/stratus/internal/seed"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Options say what to build. The zero value of each field is the default
// of the `stratus up` flag of the same name.
type Options struct {
	// DataDir is the data directory (required).
	DataDir string
	// HTTPAddr is the HTTP front's address (CloudStack, GCE, dashboard,
	// /metrics, /healthz, /readyz); port 0 picks a free one.
	HTTPAddr string
	// KubeAddr is the Kubernetes API's HTTPS address; port 0 picks a free one.
	KubeAddr string
	// IngressAddr is where the ingress controller serves the Ingresses
	// of class "stratus" over HTTP (empty: no ingress controller).
	IngressAddr string
	// Store is the store backend spec: bolt (default), memory, etcd://….
	Store string
	// Runtime is the host agent's pod runtime: sim (default), exec, docker
	// or auto. Unless RuntimeSet, a runtime kept in the data dir by an
	// earlier start wins over it.
	Runtime string
	// RuntimeSet says Runtime was chosen explicitly (`up --runtime`): it is
	// used and kept in the data dir's settings for the next starts.
	RuntimeSet bool
	// SimNodes is the number of extra simulated Kubernetes nodes.
	SimNodes int
	// Datacenter is a data center description file ("": the built-in one).
	Datacenter string
	// TLSSANs are extra names of the Kubernetes API's certificate.
	TLSSANs []string
	// Token is the cluster's join token ("": generated once, kept in the store).
	Token string
	// ControlPlaneOnly leaves out the host's node agent and service proxy
	// (`stratus server`).
	ControlPlaneOnly bool
	// NetSlot picks this instance's share of loopback (internal/netslot):
	// "" or "auto" (the one its store recorded, else the lowest free one),
	// a slot number, or "none" (only with ControlPlaneOnly: nothing is
	// bound on loopback ranges, and simulated pods do not answer on ports).
	NetSlot string
	// Seed is a seed file (internal/seed) applied once every part is up;
	// on a fresh data dir the state after it is what a reset goes back to.
	Seed *seed.File
	// Expiry holds the retention settings (zero: the real systems' defaults).
	Expiry Expiry
	// Log receives every part's logs (default: discarded).
	Log *slog.Logger
	// EnvLine is the shell line that points a client ("kubectl") at this
	// instance, for the hint the HTTP front gives Kubernetes clients that
	// reach it (default: `eval "$(stratus env CLIENT --data-dir DIR)"`).
	EnvLine func(client string) string
}

// Instance is one running stratus.
type Instance struct {
	dir   *datadir.Dir
	store store.Store
	group app.Group
	http  *httpserver.Server
	reg   *prometheus.Registry
	state datadir.State
	claim *netslot.Claim
	w     *wiring
	admin *admin
	// faults are the fault API's HTTP rules (the simulator keeps its own);
	// nodeFaults the node faults (id → fault).
	faults     *fault.Set
	downMu     sync.Mutex
	nodeFaults map[string]Fault
	// faultSave asks the fault keeper to write the faults to the store.
	faultSave chan struct{}
	faultDone chan struct{}
	saveMu    sync.Mutex
	keeper    sync.WaitGroup
	// runtimeFrom says where the pod runtime's choice came from.
	runtimeFrom string
}

// Start builds every part and starts them all, or none: when one fails,
// what had started is stopped again and the error returned. Once Start
// returns, every API answers, /readyz says so and the data directory's
// state file records the addresses and credentials for `stratus env`.
func Start(ctx context.Context, o Options) (*Instance, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Store == "" {
		o.Store = "bolt"
	}
	log := o.Log
	ctx = withClientGoLogger(ctx, log)
	dir, err := datadir.Open(o.DataDir)
	if err != nil {
		return nil, err
	}
	in := &Instance{dir: dir, reg: prometheus.NewRegistry(), faults: &fault.Set{}}
	in.group.Log = log
	ok := false
	defer func() {
		if !ok {
			in.close()
		}
	}()
	if !o.ControlPlaneOnly {
		if o.Runtime, in.runtimeFrom, err = chooseRuntime(dir, o.Runtime, o.RuntimeSet); err != nil {
			return nil, err
		}
	}
	if o.EnvLine == nil {
		o.EnvLine = func(client string) string {
			return `eval "$(stratus env ` + client + ` --data-dir '` + dir.Path() + `')"`
		}
	}
	// Ports are checked before anything starts (a busy one used to be
	// found only once everything else was up); port 0 is always free.
	if err := checkPorts([2]string{"--http-addr", o.HTTPAddr}, [2]string{"--kube-addr", o.KubeAddr}); err != nil {
		return nil, err
	}
	if in.store, err = openStore(ctx, o.Store, dir.Path(), log, in.reg); err != nil {
		return nil, err
	}
	// A store at revision 0 is a fresh one: once up, its state is the
	// seed a reset goes back to.
	rev0, err := in.store.Rev(ctx)
	if err != nil {
		return nil, err
	}
	if in.admin, err = newAdmin(dir.Path()); err != nil {
		return nil, err
	}

	// Ready once every part is and what they offer is recorded for
	// `stratus env`, so a client that saw /readyz can use env at once.
	// /readyz?verbose names each part.
	var recorded atomic.Bool
	parts := func() []app.PartStatus {
		return append(in.group.Statuses(), app.PartStatus{Name: "state", Ready: recorded.Load()})
	}
	in.http = httpserver.New(httpserver.Options{Addr: o.HTTPAddr, Log: log.With("component", "http"), Registry: in.reg, Parts: parts})
	w := &wiring{o: o, log: log, reg: in.reg, store: in.store, dir: dir, http: in.http, group: &in.group, faults: in.faults,
		adminToken: in.admin.token}
	if w.net, in.claim, err = network(ctx, in.store, o); err != nil {
		return nil, err
	}
	w.claim = in.claim
	in.w = w
	if err := w.build(ctx); err != nil {
		return nil, err
	}
	w.adminAPI = in.adminHandler()
	in.http.Handle(adminPrefix, "admin", w.adminAPI)
	w.mountKubeHint()
	// The HTTP front starts last, so /readyz answers only once every part
	// behind it has started.
	in.group.Add(in.http)
	in.watchFaults()
	if err := in.group.Start(ctx); err != nil {
		return nil, err
	}
	if err := in.startFaultKeeper(ctx); err != nil {
		in.stopFaultKeeper(ctx)
		_ = in.stopGroup(ctx)
		return nil, err
	}
	// Recording the state is part of starting: a cancel that arrives
	// meanwhile waits for it, then everything stops cleanly.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	in.state, err = w.state(sctx)
	if err == nil && o.Seed != nil {
		if _, err = in.apply(sctx, o.Seed, false); err != nil {
			err = fmt.Errorf("seed: %w", err)
		}
	}
	if err == nil && rev0 == 0 {
		err = in.saveSeed(sctx)
	}
	cancel()
	if err == nil {
		in.state.PID = os.Getpid()
		in.state.AdminTokenFile = in.admin.tokenFile
		if err = dir.WriteState(in.state); err != nil {
			err = fmt.Errorf("record state in %s: %w", dir.Path(), err)
		}
	}
	if err != nil {
		in.stopFaultKeeper(ctx)
		_ = in.stopGroup(ctx)
		return nil, err
	}
	recorded.Store(true)
	ok = true
	return in, nil
}

// State is what the instance offers: addresses and credentials.
func (in *Instance) State() datadir.State { return in.state }

// DataDir is the data directory's absolute path.
func (in *Instance) DataDir() string { return in.dir.Path() }

// HTTPURL is the HTTP front's base URL.
func (in *Instance) HTTPURL() string { return in.http.URL() }

// Runtime is the pod runtime of this host's node agent ("" without one)
// and where the choice came from: "--runtime" (Options.RuntimeSet), "kept
// in the data dir" or "default".
func (in *Instance) Runtime() (name, from string) { return in.w.runtimeName(), in.runtimeFrom }

// Stop stops every part, closes the store and releases the data directory.
// It waits at most 10 s for the parts, even when ctx is already done.
func (in *Instance) Stop(ctx context.Context) error {
	in.stopFaultKeeper(ctx)
	err := in.stopGroup(ctx)
	in.close()
	return err
}

func (in *Instance) stopGroup(ctx context.Context) error { return in.group.StopWithin(ctx) }

func (in *Instance) close() {
	if in.store != nil {
		_ = in.store.Close()
	}
	_ = in.claim.Release()
	_ = in.dir.Close()
}

// netSlotKey records in the store the slot whose addresses its services
// and nodes were given, so a restart (or another server on the same store)
// keeps them.
const netSlotKey = "/stratus/netslot"

// network decides the instance's loopback ranges and, when it binds any,
// claims them.
func network(ctx context.Context, st store.Store, o Options) (netslot.Ranges, *netslot.Claim, error) {
	recorded := -1
	kv, err := st.Get(ctx, netSlotKey)
	switch {
	case err == nil:
		var r netslot.Ranges
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return netslot.Ranges{}, nil, fmt.Errorf("%s: %w", netSlotKey, err)
		}
		recorded = r.Slot
	case !errors.Is(err, store.ErrNotFound):
		return netslot.Ranges{}, nil, err
	}
	want := -1
	binds := !o.ControlPlaneOnly || o.SimNodes > 0
	switch o.NetSlot {
	case "", "auto":
	case "none":
		if !o.ControlPlaneOnly {
			return netslot.Ranges{}, nil, errors.New("--net-slot none: only without a node agent and service proxy on this host")
		}
		binds = false
	default:
		if want, err = strconv.Atoi(o.NetSlot); err != nil {
			return netslot.Ranges{}, nil, fmt.Errorf("--net-slot %q: want auto, none or a number 0-%d", o.NetSlot, netslot.Count-1)
		}
		if recorded >= 0 && want != recorded {
			return netslot.Ranges{}, nil, fmt.Errorf("--net-slot %d: the store's services and nodes have the addresses of slot %d", want, recorded)
		}
	}
	if want < 0 {
		want = recorded
	}
	var claim *netslot.Claim
	var r netslot.Ranges
	if binds {
		if claim, err = netslot.Take("", want); err != nil {
			return r, nil, err
		}
		r = claim.Ranges
	} else if r, err = netslot.At(max(want, 0)); err != nil {
		return r, nil, err
	}
	if recorded < 0 {
		b, _ := json.Marshal(r)
		if _, err := st.Txn(ctx, store.Create(netSlotKey, b)); err != nil {
			_ = claim.Release()
			return r, nil, fmt.Errorf("record network slot: %w", err)
		}
	}
	return r, claim, nil
}

// wiring builds the parts of an instance and knows what each offers.
type wiring struct {
	o     Options
	log   *slog.Logger
	reg   *prometheus.Registry
	store store.Store
	dir   *datadir.Dir
	http  *httpserver.Server
	group *app.Group
	// net are the instance's loopback ranges; claim holds them (nil when
	// nothing is bound on them).
	net   netslot.Ranges
	claim *netslot.Claim
	// sim and kube are the parts a reset or restore tells.
	sim  *cloud.Sim
	kube *apiserver.Server
	// faults wrap the Kubernetes and GCE fronts.
	faults *fault.Set
	// adminAPI is the admin API's handler, and adminToken its token (the
	// dashboard reads the faults through it).
	adminAPI   http.Handler
	adminToken string
	// podFaults are the fault API's pod faults, which its sim runtimes ask.
	podFaults podFaults
	// simPool runs the --sim-nodes nodes (nil without).
	simPool *agent.SimPool
	// host is this host's node agent (nil for `stratus server`).
	host *hostAgent
	// first and second are the two start stages build fills.
	first, second []app.Component
	// marathon is the Marathon API the dashboard shows (buildMarathon).
	marathon *dashboard.MarathonAPI

	// stateFns add what each part offers to the recorded state.
	stateFns []func(ctx context.Context, s *datadir.State) error
}

func (w *wiring) state(ctx context.Context) (datadir.State, error) {
	s := datadir.State{HTTPURL: w.http.URL(), Network: &datadir.NetworkState{Slot: w.net.Slot,
		ServiceCIDR: w.net.ServiceCIDR.String(), PodCIDR: w.net.PodCIDR.String(), NodeAddress: w.net.NodeAddr.String()}}
	for _, fn := range w.stateFns {
		if err := fn(ctx, &s); err != nil {
			return s, err
		}
	}
	return s, nil
}
