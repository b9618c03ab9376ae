package cloudinit

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// ProviderID names the VM of a node that joined through CloudStack user
// data. A VM the GCE gateway made (it carries csclient.GCEInstanceTag) is
// named as GCE names it, gce://<project>/<zone>/<instance>, so that tools
// written for GCE's cloud provider read it; any other VM is
// cloudstack://<zone name>/<VM id>. The cloud controller
// (internal/kube/cloudprovider) finds the VM again with the same function.
func ProviderID(vm *csclient.VirtualMachine) string {
	if g := csclient.TagValue(vm.Tags, csclient.GCEInstanceTag); g != "" {
		return "gce://" + g
	}
	return "cloudstack://" + vm.ZoneName + "/" + vm.ID
}

// IsProviderID reports whether id is in one of ProviderID's forms.
func IsProviderID(id string) bool {
	parts := 0 // zone/id or project/zone/instance
	rest, ok := strings.CutPrefix(id, "cloudstack://")
	if ok {
		parts = 2
	} else if rest, ok = strings.CutPrefix(id, "gce://"); ok {
		parts = 3
	}
	f := strings.Split(rest, "/")
	return ok && len(f) == parts && !slices.Contains(f, "")
}

// bootWorkers bounds the VMs whose boot one pass handles at a time.
const bootWorkers = 32

// DefaultRegion is CloudStack's region when listRegions names none: a
// single-region installation's region is called "Local".
const DefaultRegion = "Local"

// VMLister lists VMs through the CloudStack API (csclient.Client does).
type VMLister interface {
	ListVirtualMachines(ctx context.Context, params url.Values) ([]csclient.VirtualMachine, error)
}

// EventLister lists CloudStack events (csclient.Client does). A
// CloudStack client that also lists events lets the follower see reboots,
// which leave a VM Running.
type EventLister interface {
	ListEvents(ctx context.Context, params url.Values) ([]csclient.Event, error)
}

// Pool runs the nodes of joined VMs (agent.SimPool does).
type Pool interface {
	AddNode(ctx context.Context, s agent.NodeSpec) error
	RemoveNode(name string) bool
	// RestartNode restarts a node as its machine's reboot does: NotReady,
	// then Ready.
	RestartNode(ctx context.Context, name string) error
}

// Console takes what a VM's guest writes to its console (cloud.Sim's
// WriteConsole; CloudStack's getVirtualMachineConsoleOutput and GCE's
// serial port output show it).
type Console interface {
	WriteConsole(vmID, text string)
}

// Options configure a Follower.
type Options struct {
	// Console, if set, gets the lines the join writes at each boot: the
	// command run and whether the node registered, or why not.
	Console Console
	// CloudStack lists every VM (an admin's key pair; required).
	CloudStack VMLister
	// Pool runs the joined VMs' nodes (required).
	Pool Pool
	// Servers are this cluster's API URLs and Token its join token: a
	// join line naming neither server nor token joins nothing.
	Servers []string
	Token   string
	// Region labels the nodes (default DefaultRegion).
	Region string
	// Interval between two looks at the VMs (default 1 s).
	Interval time.Duration
	// Changed, if set, is the cloud's change feed (cloud.Sim.Changed): a
	// change brings the next look forward, to WakeGap after the last
	// (default 200 ms), so a VM that reaches Running joins within a fifth
	// of a second rather than a second, and a burst of deploys costs a
	// look per WakeGap.
	Changed func() <-chan struct{}
	WakeGap time.Duration
	Log     *slog.Logger
	// Metrics, if set, gets stratus_cloudinit_joins_total.
	Metrics prometheus.Registerer
}

// Follower follows the cloud's VMs and runs a node for each Running VM
// whose user data joins this cluster. It is an app.Component.
type Follower struct {
	o    Options
	log  *slog.Logger
	loop *app.Loop
	// joins counts boots with a join line by result: joined, refused
	// (wrong server or token), error (unreadable user data, failed
	// registration)
	joins *prometheus.CounterVec

	mu  sync.Mutex
	vms map[string]*vmState // by VM id
	// reboots are the VM.REBOOT events of the last look (nil before the
	// first: reboots before the follower started are history)
	reboots map[string]bool
}

var _ app.Component = (*Follower)(nil)

// vmState is what the follower knows of one VM.
type vmState struct {
	state  string
	joined string // the node name while the VM runs a node
	// why the VM's join failed ("" when it joined or has no join line)
	failure string
}

// New returns a follower.
func New(o Options) (*Follower, error) {
	if o.CloudStack == nil || o.Pool == nil {
		return nil, errors.New("cloudinit: CloudStack and Pool are required")
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.WakeGap <= 0 {
		o.WakeGap = 200 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	f := &Follower{o: o, log: o.Log.With("component", "cloudinit"), vms: map[string]*vmState{},
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_cloudinit_joins_total", Help: "VM boots whose user data ran the join command, by result (joined, refused, error).",
		}, []string{"result"})}
	if o.Metrics != nil {
		if err := o.Metrics.Register(f.joins); err != nil {
			f.log.Warn("cannot register metrics", "err", err)
		}
	}
	f.loop = &app.Loop{N: "cloudinit", Interval: o.Interval, Fn: f.Sync, Log: f.log, Wake: o.Changed, MinGap: o.WakeGap}
	return f, nil
}

// Name implements app.Component.
func (f *Follower) Name() string { return "cloudinit" }

// Start begins the passes.
func (f *Follower) Start(ctx context.Context) error {
	return f.loop.Start(ctx)
}

// Stop ends them.
func (f *Follower) Stop(ctx context.Context) error {
	return f.loop.Stop(ctx)
}

// Failure returns why the VM's join line joined nothing ("" if it joined,
// has none, or is unknown): what its console would show.
func (f *Follower) Failure(vmID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.vms[vmID]; s != nil {
		return s.failure
	}
	return ""
}

// Sync looks at every VM once: a VM that reached Running has its user
// data read (once per boot, as cloud-init runs once per boot) and joins;
// a VM that left Running, or is gone, loses its node.
func (f *Follower) Sync(ctx context.Context) error {
	vms, err := f.o.CloudStack.ListVirtualMachines(ctx, csclient.Params("listall", "true"))
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(vms))
	type boot struct {
		vm *csclient.VirtualMachine
		s  *vmState
	}
	var boots []boot
	for i := range vms {
		vm := &vms[i]
		seen[vm.ID] = true
		f.mu.Lock()
		s := f.vms[vm.ID]
		if s == nil {
			s = &vmState{}
			f.vms[vm.ID] = s
		}
		booted := vm.State == "Running" && s.state != "Running"
		left := vm.State != "Running" && s.state == "Running"
		s.state = vm.State
		node := s.joined
		f.mu.Unlock()
		switch {
		case booted:
			boots = append(boots, boot{vm, s})
		case left && node != "":
			f.o.Pool.RemoveNode(node)
			f.mu.Lock()
			s.joined = ""
			f.mu.Unlock()
			f.log.Info("VM left Running; its node stopped", "vm", vm.Name, "state", vm.State)
		}
	}
	// many VMs boot at once when a group is deployed: read their user data
	// and register their nodes side by side
	sem := make(chan struct{}, bootWorkers)
	var wg sync.WaitGroup
	for _, b := range boots {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f.boot(ctx, b.vm, b.s)
		}()
	}
	wg.Wait()
	f.mu.Lock()
	var gone []string
	for id, s := range f.vms {
		if !seen[id] {
			if s.joined != "" {
				gone = append(gone, s.joined)
			}
			delete(f.vms, id)
		}
	}
	f.mu.Unlock()
	for _, n := range gone {
		f.o.Pool.RemoveNode(n)
	}
	return f.followReboots(ctx)
}

// restartEvents are the events of a VM's machine restarting while the VM
// stays Running: a reboot, and HA restarting it on another host when its
// host went down (a VM without HA is Stopped instead, which Sync sees).
var restartEvents = []string{"VM.REBOOT", "HA.VM.RESTART"}

// followReboots restarts the node of each joined VM rebooted since the
// last look: a reboot or an HA restart leaves the VM Running, so only its
// event tells. The newest events are enough: a look comes every Interval.
func (f *Follower) followReboots(ctx context.Context) error {
	el, ok := f.o.CloudStack.(EventLister)
	if !ok {
		return nil
	}
	f.mu.Lock()
	joined := map[string]string{} // VM id → node
	for id, s := range f.vms {
		if s.joined != "" {
			joined[id] = s.joined
		}
	}
	f.mu.Unlock()
	if len(joined) == 0 {
		return nil
	}
	var events []csclient.Event
	for _, typ := range restartEvents {
		ev, err := el.ListEvents(ctx, csclient.Params("type", typ, "listall", "true", "page", "1", "pagesize", "200"))
		if err != nil {
			return err
		}
		events = append(events, ev...)
	}
	seen := make(map[string]bool, len(events))
	var restart []string
	for _, e := range events {
		seen[e.ID] = true
		if f.reboots != nil && !f.reboots[e.ID] && joined[e.ResourceID] != "" {
			restart = append(restart, joined[e.ResourceID])
			f.console(e.ResourceID, "reboot: the machine restarted; stratus agent starting again")
		}
	}
	f.reboots = seen
	var errs []error
	for _, n := range restart {
		f.log.Info("joined VM rebooted; its node restarts", "node", n)
		if err := f.o.Pool.RestartNode(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// console writes a line to the VM's console as cloud-init's output does.
func (f *Follower) console(vmID, format string, args ...any) {
	if f.o.Console != nil {
		f.o.Console.WriteConsole(vmID, "cloud-init[1024]: "+fmt.Sprintf(format, args...)+"\n")
	}
}

// boot runs what cloud-init would run at this boot of the VM.
func (f *Follower) boot(ctx context.Context, vm *csclient.VirtualMachine, s *vmState) {
	setFailure := func(why string) {
		f.mu.Lock()
		s.failure = why
		f.mu.Unlock()
		if why != "" {
			f.log.Warn("VM's join failed", "vm", vm.Name, "reason", why)
			f.console(vm.ID, "%s", why)
		}
	}
	full, err := f.o.CloudStack.ListVirtualMachines(ctx, csclient.Params("id", vm.ID, "listall", "true", "userdata", "true"))
	if err != nil || len(full) == 0 || full[0].UserData == nil || *full[0].UserData == "" {
		if err != nil {
			f.mu.Lock()
			s.state = "" // look again next time
			f.mu.Unlock()
		}
		return
	}
	j, ok, err := ParseUserData([]byte(*full[0].UserData))
	if err != nil {
		setFailure("cloud-init: cannot read user data: " + err.Error())
		f.joins.WithLabelValues("error").Inc()
		return
	}
	if !ok {
		return // just a VM
	}
	f.console(vm.ID, "runcmd: stratus agent --server %s --token <redacted>", strings.Join(j.Servers, ","))
	if why := f.check(j); why != "" {
		setFailure(why)
		f.joins.WithLabelValues("refused").Inc()
		return
	}
	spec := f.nodeSpec(&full[0], j)
	if err := f.o.Pool.AddNode(ctx, spec); err != nil {
		setFailure(fmt.Sprintf("stratus agent: cannot register node %s: %v", spec.Name, err))
		f.joins.WithLabelValues("error").Inc()
		f.mu.Lock()
		s.state = "" // try again next time
		f.mu.Unlock()
		return
	}
	f.mu.Lock()
	s.joined, s.failure = spec.Name, ""
	f.mu.Unlock()
	f.joins.WithLabelValues("joined").Inc()
	f.log.Info("VM joined as a node", "vm", vm.Name, "node", spec.Name)
	f.console(vm.ID, "stratus agent: node %s registered with the API server", spec.Name)
}

// check says why a join line cannot join this cluster, as the agent would
// report it on the VM's console ("" when it can).
func (f *Follower) check(j Join) string {
	if len(j.Servers) == 0 || j.Token == "" {
		return "stratus agent: --server and --token are required (stratus up prints both)"
	}
	ours := false
	for _, s := range j.Servers {
		for _, o := range f.o.Servers {
			if sameServer(s, o) {
				ours = true
			}
		}
	}
	if !ours {
		return fmt.Sprintf("stratus agent: cannot reach the API server at %s", strings.Join(j.Servers, ","))
	}
	if subtle.ConstantTimeCompare([]byte(j.Token), []byte(f.o.Token)) != 1 {
		return "stratus agent: the API server refused the token: Unauthorized (401)"
	}
	return ""
}

// sameServer compares two API URLs by scheme, host and port, with
// localhost and 127.0.0.1 the same host.
func sameServer(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimSpace(a))
	ub, err2 := url.Parse(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return false
	}
	host := func(u *url.URL) string {
		h := u.Hostname()
		if h == "localhost" {
			h = "127.0.0.1"
		}
		p := u.Port()
		if p == "" && u.Scheme == "https" {
			p = "443"
		}
		return h + ":" + p
	}
	return ua.Scheme == ub.Scheme && host(ua) == host(ub)
}

// nodeSpec describes the node of a VM: its name, addresses, capacity from
// its offering, topology labels and provider id.
func (f *Follower) nodeSpec(vm *csclient.VirtualMachine, j Join) agent.NodeSpec {
	name := strings.ToLower(vm.Name)
	if j.Name != "" {
		name = j.Name
	}
	spec := agent.NodeSpec{
		Name: name,
		Capacity: corev1.ResourceList{
			corev1.ResourceCPU:              *resource.NewQuantity(int64(vm.CPUNumber), resource.DecimalSI),
			corev1.ResourceMemory:           *resource.NewQuantity(int64(vm.Memory)<<20, resource.BinarySI),
			corev1.ResourcePods:             resource.MustParse("110"),
			corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
		},
		Labels: map[string]string{
			corev1.LabelTopologyZone:       vm.ZoneName,
			corev1.LabelTopologyRegion:     f.o.Region,
			corev1.LabelInstanceTypeStable: labelValue(vm.ServiceOfferingName),
		},
		ProviderID: ProviderID(vm),
	}
	for _, n := range vm.Nic {
		if spec.InternalIP == "" || bool(n.IsDefault) {
			spec.InternalIP = n.IPAddress
		}
	}
	if vm.PublicIP != "" {
		spec.Addresses = append(spec.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: vm.PublicIP})
	}
	return spec
}

// labelValue makes s a valid label value: at most 63 of [A-Za-z0-9._-],
// beginning and ending alphanumeric.
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	return strings.Trim(string(b), "._-")
}
