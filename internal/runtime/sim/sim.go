// Package sim is the simulated container runtime: nothing runs, containers
// only go through their life cycle. Behaviour is data: runtime-wide options
// (start latency, failure rate) that a pod's annotations override per pod,
// kwok style. A container that declares TCP ports answers HTTP on podIP:port
// with a short reply naming its pod, so services can be tried with curl; the
// number of such listeners is bounded (Options.MaxListeners) because 10,000
// sockets is more than a simulator should hold.
//
// Timers, not goroutines, carry delayed transitions, so 10,000 sim
// containers cost memory for their records and nothing else.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/logring"
)

// Annotations on a pod that override the runtime's options for its
// containers.
const (
	// AnnotationStartLatency: a Go duration ("2s") before a container runs.
	AnnotationStartLatency = "sim.stratus.io/start-latency"
	// AnnotationExitAfter: the container exits this long after it starts
	// (for any pod; a pod whose restartPolicy is Never or OnFailure exits
	// after Options.CompleteAfter without it).
	AnnotationExitAfter = "sim.stratus.io/exit-after"
	// AnnotationExitCode: its exit code then (default 0).
	AnnotationExitCode = "sim.stratus.io/exit-code"
	// AnnotationFailureRate: probability in [0,1] that a start fails, that
	// is, the container exits with code 1 right after it starts.
	AnnotationFailureRate = "sim.stratus.io/failure-rate"
	// AnnotationOutput: text the container "prints" when it starts.
	AnnotationOutput = "sim.stratus.io/output"
	// AnnotationImagePullError: the start fails as a failed pull of the
	// image does (waiting reason ErrImagePull), with this message.
	AnnotationImagePullError = "sim.stratus.io/image-pull-error"
	// AnnotationCPUUsage: the steady CPU each container of the pod uses,
	// a quantity ("250m"), as metrics.k8s.io and the HorizontalPodAutoscaler
	// see it.
	AnnotationCPUUsage = "sim.stratus.io/cpu-usage"
	// AnnotationMemoryUsage: the memory each container uses ("64Mi").
	AnnotationMemoryUsage = "sim.stratus.io/memory-usage"
)

// PullError is a start that failed as an image pull fails.
type PullError struct{ Image, Message string }

func (e *PullError) Error() string {
	return fmt.Sprintf("sim runtime: failed to pull image %q: %s", e.Image, e.Message)
}

// WaitingReason is the container's waiting reason, as the kubelet's.
func (e *PullError) WaitingReason() string { return "ErrImagePull" }

// DefaultCompleteAfter is how long a run-to-completion container (its pod's
// restartPolicy is Never or OnFailure) runs before it exits with code 0,
// when Options.CompleteAfter is 0 and no annotation says otherwise.
const DefaultCompleteAfter = time.Second

// DefaultMaxListeners bounds the HTTP listeners when Options.MaxListeners is 0.
const DefaultMaxListeners = 256

// Options configure the sim runtime. The zero value starts containers at
// once, never fails them, and opens no ports.
type Options struct {
	// StartLatency is how long a container stays Created before Running.
	StartLatency time.Duration
	// FailureRate is the probability in [0,1] that a container exits with
	// code 1 as soon as it starts.
	FailureRate float64
	// Ports makes containers with TCP ports answer HTTP on podIP:port.
	Ports bool
	// CompleteAfter is how long a run-to-completion container runs before
	// it exits with code 0 (DefaultCompleteAfter if 0; negative: never, it
	// runs until stopped like any other). The pod's exit-after and
	// exit-code annotations override it.
	CompleteAfter time.Duration
	// MaxListeners bounds the open listeners (DefaultMaxListeners if 0); a
	// container started beyond it runs but does not answer, and the skip
	// is logged.
	MaxListeners int
	// Seed makes failures reproducible; 0 picks one.
	Seed uint64
	// Clock drives latencies and exits; nil means the real clock.
	Clock clock.WithDelayedExecution
	// Log receives warnings (nil: discarded).
	Log *slog.Logger
}

// FaultFunc says, at a container's start, which annotations to add to its
// pod's (the fault API's pod faults: a crash loop is exit-after 0 with an
// exit code, a slow start a start latency); nil or empty adds none.
type FaultFunc func(spec runtime.ContainerSpec) map[string]string

// SetFaults makes the runtime ask f at each container start.
func (r *Runtime) SetFaults(f FaultFunc) { r.faults.Store(&f) }

// Runtime is the sim runtime.
type Runtime struct {
	opts  Options
	clock clock.WithDelayedExecution
	log   *slog.Logger

	randMu sync.Mutex
	rand   *rand.Rand

	nextID atomic.Uint64
	faults atomic.Pointer[FaultFunc]

	mu         sync.RWMutex
	containers map[string]*container
	listeners  map[string]*listener // by "ip:port"
	closed     bool

	srv     *http.Server
	serveWG sync.WaitGroup
}

type container struct {
	mu      sync.Mutex
	id      string
	spec    runtime.ContainerSpec
	status  runtime.Status
	notify  runtime.Notify
	timer   clock.Timer
	logs    logring.Buffer
	addrs   []string // listener keys held
	removed bool
	fs      *simFS // made by the first exec (shell.go)
	script  bool   // its command ran in the sim shell (script.go)
}

type listener struct {
	ln   net.Listener
	name string // ns/pod
}

var _ runtime.Runtime = (*Runtime)(nil)
var _ io.Closer = (*Runtime)(nil)

// New returns a sim runtime.
func New(opts Options) *Runtime {
	r := &Runtime{
		opts:       opts,
		clock:      opts.Clock,
		log:        opts.Log,
		containers: map[string]*container{},
		listeners:  map[string]*listener{},
	}
	if r.clock == nil {
		r.clock = clock.RealClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	r.rand = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if r.opts.MaxListeners == 0 {
		r.opts.MaxListeners = DefaultMaxListeners
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	return r
}

// Info implements runtime.Runtime.
func (r *Runtime) Info() runtime.Info {
	return runtime.Info{Name: "sim", Capabilities: runtime.Capabilities{
		Ports: r.opts.Ports, Logs: true, GracefulStop: false,
	}}
}

type behaviour struct {
	latency   time.Duration
	exitAfter time.Duration // < 0: never
	exitCode  int
	codeSet   bool // the exit-code annotation chose exitCode
	fail      bool
	output    string
	script    []string // a command the sim shell runs at start (script.go)
}

func (r *Runtime) behaviour(spec *runtime.ContainerSpec) (behaviour, error) {
	b := behaviour{latency: r.opts.StartLatency, exitAfter: -1}
	completeAfter := r.opts.CompleteAfter
	if completeAfter == 0 {
		completeAfter = DefaultCompleteAfter
	}
	if spec.RunToCompletion {
		b.exitAfter = completeAfter
	}
	if spec.RunToCompletion || spec.Ephemeral {
		if argv := append(slices.Clone(spec.Command), spec.Args...); scriptable(argv) {
			b.script, b.exitAfter = argv, 0 // it exits as soon as it has run
		}
	}
	rate := r.opts.FailureRate
	a := spec.Annotations
	if v, ok := a[AnnotationStartLatency]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return b, fmt.Errorf("annotation %s=%q: not a duration", AnnotationStartLatency, v)
		}
		b.latency = d
	}
	if v, ok := a[AnnotationExitAfter]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return b, fmt.Errorf("annotation %s=%q: not a duration", AnnotationExitAfter, v)
		}
		b.exitAfter = d
	}
	if v, ok := a[AnnotationExitCode]; ok {
		c, err := strconv.Atoi(v)
		if err != nil || c < 0 || c > 255 {
			return b, fmt.Errorf("annotation %s=%q: not an exit code", AnnotationExitCode, v)
		}
		b.exitCode, b.codeSet = c, true
	}
	if v, ok := a[AnnotationFailureRate]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return b, fmt.Errorf("annotation %s=%q: not a probability", AnnotationFailureRate, v)
		}
		rate = f
	}
	if rate > 0 {
		r.randMu.Lock()
		b.fail = r.rand.Float64() < rate
		r.randMu.Unlock()
	}
	b.output = a[AnnotationOutput]
	return b, nil
}

// Start implements runtime.Runtime.
func (r *Runtime) Start(ctx context.Context, spec runtime.ContainerSpec, notify runtime.Notify) (runtime.Status, error) {
	if f := r.faults.Load(); f != nil && *f != nil {
		if add := (*f)(spec); len(add) > 0 {
			a := make(map[string]string, len(spec.Annotations)+len(add))
			maps.Copy(a, spec.Annotations)
			maps.Copy(a, add)
			spec.Annotations = a
		}
	}
	if msg, ok := spec.Annotations[AnnotationImagePullError]; ok {
		return runtime.Status{}, &PullError{Image: spec.Image, Message: msg}
	}
	b, err := r.behaviour(&spec)
	if err != nil {
		return runtime.Status{}, fmt.Errorf("sim runtime: %w", err)
	}
	id := strconv.FormatUint(r.nextID.Add(1), 16)
	c := &container{id: id, spec: spec, notify: notify, status: runtime.Status{ID: id, State: runtime.StateCreated}}
	c.logs.MaxBytes = 16 << 10
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return runtime.Status{}, errors.New("sim runtime: closed")
	}
	r.containers[id] = c
	r.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if b.latency > 0 {
		// the callback may run under a fake clock's lock: move off it
		c.timer = r.clock.AfterFunc(b.latency, func() { go r.run(c, b, true) })
		return c.status, nil
	}
	r.runLocked(c, b, false)
	return c.status, nil
}

func (r *Runtime) run(c *container, b behaviour, notify bool) {
	c.mu.Lock()
	if c.removed || c.status.State != runtime.StateCreated {
		c.mu.Unlock()
		return
	}
	r.runLocked(c, b, notify)
	st, n := c.status, c.notify
	c.mu.Unlock()
	if notify && n != nil {
		n(st)
	}
}

// runLocked moves c to Running (and perhaps straight on to Exited).
func (r *Runtime) runLocked(c *container, b behaviour, _ bool) {
	now := r.clock.Now()
	c.status.State = runtime.StateRunning
	c.status.StartedAt = now
	if b.script != nil {
		// its output is what the command prints, as a real container's
		c.script = true
		if code := r.runScript(c, b.script); !b.codeSet {
			b.exitCode = code
		}
	} else {
		c.logs.Line(fmt.Sprintf("sim: container %s of pod %s/%s started (image %s)", c.spec.Name, c.spec.PodNamespace, c.spec.PodName, c.spec.Image))
	}
	if b.output != "" {
		_, _ = c.logs.Write([]byte(strings.TrimSuffix(b.output, "\n") + "\n"))
	}
	switch {
	case b.fail:
		r.exitLocked(c, 1, "Error", "sim: simulated failure")
	case b.exitAfter == 0:
		r.exitLocked(c, b.exitCode, "", "")
	case b.exitAfter > 0:
		code := b.exitCode
		c.timer = r.clock.AfterFunc(b.exitAfter, func() { go r.exit(c, code, "", "") })
		r.listen(c)
	default:
		r.listen(c)
	}
}

func (r *Runtime) exit(c *container, code int, reason, msg string) {
	c.mu.Lock()
	if c.removed || c.status.State != runtime.StateRunning {
		c.mu.Unlock()
		return
	}
	r.exitLocked(c, code, reason, msg)
	st, n := c.status, c.notify
	c.mu.Unlock()
	if n != nil {
		n(st)
	}
}

func (r *Runtime) exitLocked(c *container, code int, reason, msg string) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	r.unlisten(c)
	if reason == "" {
		reason = "Completed"
		if code != 0 {
			reason = "Error"
		}
	}
	if code != 0 && !c.script {
		c.logs.Line(fmt.Sprintf("sim: container exited with code %d", code))
	}
	c.status.State = runtime.StateExited
	c.status.FinishedAt = r.clock.Now()
	if c.status.StartedAt.IsZero() {
		c.status.StartedAt = c.status.FinishedAt
	}
	c.status.ExitCode = code
	c.status.Reason = reason
	c.status.Message = msg
	_ = c.logs.Close()
}

// Stop implements runtime.Runtime. Sim containers stop at once.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	changed := c.status.State != runtime.StateExited
	if changed {
		// a container stopped politely exits 0 like a process that handles SIGTERM
		r.exitLocked(c, 0, "Completed", "")
	}
	st, n := c.status, c.notify
	c.mu.Unlock()
	if changed && n != nil {
		n(st)
	}
	return nil
}

// Status implements runtime.Runtime.
func (r *Runtime) Status(ctx context.Context, id string) (runtime.Status, error) {
	c, err := r.get(id)
	if err != nil {
		return runtime.Status{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, nil
}

// Logs implements runtime.Runtime.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	return c.logs.WriteTo(ctx, w, logring.Options(opts))
}

// Remove implements runtime.Runtime.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	r.mu.Lock()
	c, ok := r.containers[id]
	delete(r.containers, id)
	r.mu.Unlock()
	if !ok {
		return runtime.NotFound("sim", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	r.unlisten(c)
	c.removed = true
	_ = c.logs.Close()
	return nil
}

func (r *Runtime) get(id string) (*container, error) {
	r.mu.RLock()
	c, ok := r.containers[id]
	r.mu.RUnlock()
	if !ok {
		return nil, runtime.NotFound("sim", id)
	}
	return c, nil
}

// Listeners reports how many HTTP listeners are open.
func (r *Runtime) Listeners() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.listeners)
}

// listen opens c's HTTP listeners (c.mu held).
func (r *Runtime) listen(c *container) {
	if !r.opts.Ports || c.spec.PodIP == "" {
		return
	}
	for _, p := range c.spec.Ports {
		if p.Protocol != "" && p.Protocol != "TCP" {
			continue
		}
		key := net.JoinHostPort(c.spec.PodIP, strconv.Itoa(int(p.Port)))
		r.mu.Lock()
		_, taken := r.listeners[key]
		full := len(r.listeners) >= r.opts.MaxListeners
		closed := r.closed
		r.mu.Unlock()
		if taken || closed {
			continue
		}
		if full {
			r.log.Warn("sim: listener limit reached; container runs without answering", "pod", c.spec.PodNamespace+"/"+c.spec.PodName, "addr", key, "limit", r.opts.MaxListeners)
			continue
		}
		ln, err := net.Listen("tcp", key)
		if err != nil {
			r.log.Warn("sim: cannot listen for container port", "pod", c.spec.PodNamespace+"/"+c.spec.PodName, "addr", key, "err", err)
			continue
		}
		l := &listener{ln: ln, name: c.spec.PodNamespace + "/" + c.spec.PodName}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			_ = ln.Close()
			continue
		}
		r.listeners[key] = l
		r.serveWG.Add(1)
		r.mu.Unlock()
		c.addrs = append(c.addrs, key)
		go func() {
			defer r.serveWG.Done()
			_ = r.srv.Serve(ln)
		}()
	}
}

func (r *Runtime) unlisten(c *container) {
	if len(c.addrs) == 0 {
		return
	}
	r.mu.Lock()
	for _, key := range c.addrs {
		if l, ok := r.listeners[key]; ok {
			_ = l.ln.Close()
			delete(r.listeners, key)
		}
	}
	r.mu.Unlock()
	c.addrs = nil
}

func (r *Runtime) serveHTTP(w http.ResponseWriter, req *http.Request) {
	addr, _ := req.Context().Value(http.LocalAddrContextKey).(net.Addr)
	name := "unknown"
	if addr != nil {
		r.mu.RLock()
		if l, ok := r.listeners[addr.String()]; ok {
			name = l.name
		}
		r.mu.RUnlock()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	// no keep-alive: a stopped container must stop answering at once
	w.Header().Set("Connection", "close")
	_, _ = fmt.Fprintf(w, "Hello from pod %s (stratus sim runtime)\n", name)
}

// Close stops every timer and listener. Containers keep their last status.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cs := make([]*container, 0, len(r.containers))
	for _, c := range r.containers {
		cs = append(cs, c)
	}
	r.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
			c.timer = nil
		}
		c.mu.Unlock()
	}
	err := r.srv.Close()
	r.mu.Lock()
	for k, l := range r.listeners {
		_ = l.ln.Close()
		delete(r.listeners, k)
	}
	r.mu.Unlock()
	r.serveWG.Wait()
	return err
}
