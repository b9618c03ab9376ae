// Package docker is the container runtime that runs a pod's containers as
// real Docker containers through the Docker Engine API (the engine's own Go
// client, with API version negotiation).
//
// A pod is what kubelet's dockershim made of it: a sandbox container per pod
// (a tiny "pause" program in an image this package builds locally, since no
// registry can be assumed) holds the pod's network and IPC namespaces and
// its hostname, and each of the pod's containers joins them with
// `container:<sandbox>` network mode, so they reach each other on localhost.
// The sandbox is made with the pod's first container and removed with its
// last one.
//
// Images are used when present and pulled otherwise; a pull that fails is
// reported as kubelet reports it: Start returns a *StartError whose
// WaitingReason is ErrImagePull, and, while the per-pod, per-image back-off
// (10 s doubling to 5 min, as kubelet's) lasts, ImagePullBackOff without
// trying again.
//
// A container's declared TCP ports answer on podIP:port on this host (the
// sim runtime's contract) through a small forwarder to the sandbox's address
// on the Docker network, which the host reaches directly on Linux.
//
// The pod's hostAliases go into the sandbox's /etc/hosts (the engine's
// extra hosts), which the pod's containers share. Containers cannot reach
// the host's loopback, where cluster IPs and pod IPs answer, so an alias at
// a loopback address is written at the sandbox address of a pod behind it
// (its own pod IP, or one of the Service's pods the agent names), as
// docker's links name the linked container: `stratus compose`'s links and
// network aliases then reach the peer container directly, on every port.
//
// Everything created carries the labels io.stratus.managed=true and
// io.stratus.runtime=<instance>, plus the pod's uid, name, namespace and the
// container's name and attempt; Close removes every container of its
// instance and the sandbox image.
package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"k8s.io/utils/clock"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Labels put on everything this runtime creates.
const (
	LabelManaged       = "io.stratus.managed"
	LabelRuntime       = "io.stratus.runtime"
	LabelRole          = "io.stratus.role" // "sandbox" or "container"
	LabelPodUID        = "io.stratus.pod-uid"
	LabelPodName       = "io.stratus.pod-name"
	LabelPodNamespace  = "io.stratus.pod-namespace"
	LabelContainerName = "io.stratus.container-name"
	LabelAttempt       = "io.stratus.attempt"
)

// Options configure the docker runtime.
type Options struct {
	// Host is the engine's address ("unix:///var/run/docker.sock",
	// "tcp://h:2375"); "" means DOCKER_HOST, or the default socket.
	Host string
	// Instance marks this runtime's containers (label io.stratus.runtime);
	// containers of the same instance left by an earlier process are
	// removed when the runtime is first used. "" picks a random one.
	Instance string
	// Network is the Docker network pod sandboxes join ("" = the default
	// bridge).
	Network string
	// PullTimeout bounds one image pull (default 5 min).
	PullTimeout time.Duration
	// Clock times the image pull back-off; nil is the real clock.
	Clock clock.PassiveClock
	// Log receives the runtime's messages (nil: discarded).
	Log *slog.Logger
}

// Runtime is the docker runtime.
type Runtime struct {
	opts     Options
	cli      *client.Client
	log      *slog.Logger
	instance string
	pulls    *pullBackoff

	ctx    context.Context // ends waiters on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // waiters

	prepMu sync.Mutex
	pause  string // sandbox image reference once prepared

	mu         sync.Mutex
	closed     bool
	containers map[string]*ctr
	pods       map[string]*sandbox
}

// ctr is one container this runtime started.
type ctr struct {
	id     string
	pod    string // sandbox key
	spec   runtime.ContainerSpec
	notify runtime.Notify
	stopSg string        // signal for a polite stop
	cancel func()        // ends the waiter
	done   chan struct{} // closed once its exit is observed (or it is gone)

	mu       sync.Mutex
	reported runtime.Status // last status returned or notified
	proxies  []*portProxy
}

var (
	_ runtime.Runtime   = (*Runtime)(nil)
	_ runtime.Addresser = (*Runtime)(nil)
	_ io.Closer         = (*Runtime)(nil)
)

// New returns a docker runtime talking to the engine opts names. It does
// not contact the engine; the first Start does.
func New(opts Options) (*Runtime, error) {
	copts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if opts.Host != "" {
		copts = append(copts, client.WithHost(opts.Host))
	}
	cli, err := client.NewClientWithOpts(copts...)
	if err != nil {
		return nil, fmt.Errorf("docker runtime: %w", err)
	}
	if opts.PullTimeout <= 0 {
		opts.PullTimeout = 5 * time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	inst := opts.Instance
	if inst == "" {
		inst = randHex(6)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runtime{
		opts: opts, cli: cli, log: log, instance: inst,
		pulls: newPullBackoff(opts.Clock),
		ctx:   ctx, cancel: cancel,
		containers: map[string]*ctr{}, pods: map[string]*sandbox{},
	}, nil
}

// Available reports whether a Docker engine (DOCKER_HOST or the default
// socket) answers a ping within a second: what `--runtime auto` asks.
func Available(ctx context.Context) bool {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return false
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = cli.Ping(ctx)
	return err == nil
}

// Instance returns the value of the io.stratus.runtime label on this
// runtime's containers.
func (r *Runtime) Instance() string { return r.instance }

// Client returns the engine client (for tests and diagnostics).
func (r *Runtime) Client() *client.Client { return r.cli }

// Info implements runtime.Runtime.
func (r *Runtime) Info() runtime.Info {
	return runtime.Info{Name: "docker", Capabilities: runtime.Capabilities{
		Processes: true, Images: true, Ports: true, Env: true, GracefulStop: true, Logs: true, Exec: true, Usage: true,
		OwnNetwork: true,
	}}
}

// StartError is returned by Start when a container could not be created or
// started. Reason is the waiting reason kubelet shows for it:
// ErrImagePull, ImagePullBackOff, InvalidImageName, CreateContainerError or
// RunContainerError.
type StartError struct {
	Reason  string
	Message string
	Err     error
}

func (e *StartError) Error() string { return "docker runtime: " + e.Reason + ": " + e.Message }

// Unwrap returns the engine's error.
func (e *StartError) Unwrap() error { return e.Err }

// WaitingReason is the container's waiting reason while this error lasts.
func (e *StartError) WaitingReason() string { return e.Reason }

// Start implements runtime.Runtime.
func (r *Runtime) Start(ctx context.Context, spec runtime.ContainerSpec, notify runtime.Notify) (runtime.Status, error) {
	if r.isClosed() {
		return runtime.Status{}, errors.New("docker runtime: closed")
	}
	if spec.Image == "" {
		return runtime.Status{}, &StartError{Reason: "InvalidImageName", Message: "container has no image"}
	}
	if err := r.prepare(ctx); err != nil {
		return runtime.Status{}, err
	}
	if err := r.ensureImage(ctx, spec); err != nil {
		return runtime.Status{}, err
	}
	key := podKey(spec)
	sb, err := r.acquireSandbox(ctx, key, spec)
	if err != nil {
		return runtime.Status{}, &StartError{Reason: "CreateContainerError", Message: "pod sandbox: " + err.Error(), Err: err}
	}
	c, st, err := r.create(ctx, spec, sb, notify)
	if err != nil {
		r.releaseSandbox(key)
		return runtime.Status{}, err
	}
	r.log.Debug("container started", "pod", spec.PodNamespace+"/"+spec.PodName, "container", spec.Name, "id", shortID(c.id), "state", st.State)
	return st, nil
}

func (r *Runtime) create(ctx context.Context, spec runtime.ContainerSpec, sb *sandbox, notify runtime.Notify) (*ctr, runtime.Status, error) {
	env := make([]string, 0, len(spec.Env)+1)
	hasHostname := false
	for _, e := range spec.Env {
		env = append(env, e.Name+"="+e.Value)
		hasHostname = hasHostname || e.Name == "HOSTNAME"
	}
	if !hasHostname && spec.PodName != "" {
		env = append(env, "HOSTNAME="+hostname(spec.PodName))
	}
	cfg := &container.Config{
		Image:      spec.Image,
		Env:        env,
		WorkingDir: spec.WorkingDir,
		Labels:     r.labels(spec, "container"),
		OpenStdin:  spec.Stdin, AttachStdin: spec.Stdin, Tty: spec.TTY,
	}
	// Kubernetes' command replaces the image's entrypoint and its args the
	// image's cmd; an entrypoint set with no cmd gives no cmd, as in
	// Kubernetes.
	if len(spec.Command) > 0 {
		cfg.Entrypoint = spec.Command
	}
	if len(spec.Args) > 0 {
		cfg.Cmd = spec.Args
	}
	hc := &container.HostConfig{
		NetworkMode:   container.NetworkMode("container:" + sb.id),
		IpcMode:       container.IpcMode("container:" + sb.id),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "2"}},
	}
	name := containerName("stratus", spec.Name, spec)
	created, err := r.cli.ContainerCreate(ctx, cfg, hc, nil, nil, name)
	if err != nil {
		return nil, runtime.Status{}, &StartError{Reason: "CreateContainerError", Message: err.Error(), Err: err}
	}
	id := created.ID
	if err := r.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		r.removeQuietly(id)
		return nil, runtime.Status{}, &StartError{Reason: "RunContainerError", Message: err.Error(), Err: err}
	}
	info, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		r.removeQuietly(id)
		return nil, runtime.Status{}, fmt.Errorf("docker runtime: inspect %s: %w", shortID(id), err)
	}
	st := statusOf(info)
	wctx, cancel := context.WithCancel(r.ctx)
	c := &ctr{id: id, pod: sb.key, spec: spec, notify: notify, stopSg: "SIGTERM", cancel: cancel, done: make(chan struct{}), reported: st}
	if info.Config != nil && info.Config.StopSignal != "" {
		c.stopSg = info.Config.StopSignal
	}
	if st.State == runtime.StateRunning {
		c.proxies = r.openPorts(spec, sb.ip)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel()
		c.closePorts()
		r.removeQuietly(id)
		return nil, runtime.Status{}, errors.New("docker runtime: closed")
	}
	r.containers[id] = c
	r.wg.Add(1)
	r.mu.Unlock()
	go r.wait(wctx, c)
	return c, st, nil
}

// wait watches one container until it exits (or is removed), then closes
// its ports, notifies its final status and closes done.
func (r *Runtime) wait(ctx context.Context, c *ctr) {
	defer r.wg.Done()
	defer close(c.done)
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		okc, errc := r.cli.ContainerWait(ctx, c.id, container.WaitConditionNotRunning)
		var err error
		select {
		case <-okc:
		case err = <-errc:
		}
		if ctx.Err() != nil {
			c.closePorts()
			return
		}
		if err != nil && !cerrdefs.IsNotFound(err) {
			r.log.Warn("waiting for container failed; retrying", "id", shortID(c.id), "err", err)
			select {
			case <-time.After(delay):
				continue
			case <-ctx.Done():
				c.closePorts()
				return
			}
		}
		c.closePorts()
		info, err := r.cli.ContainerInspect(ctx, c.id)
		var st runtime.Status
		switch {
		case err == nil:
			st = statusOf(info)
			if st.State == runtime.StateRunning {
				continue // restarted behind our back; keep waiting
			}
		case cerrdefs.IsNotFound(err):
			st = c.lastStatus()
			st.State, st.Reason, st.Message = runtime.StateExited, "Error", "container removed outside stratus"
			if st.FinishedAt.IsZero() {
				st.FinishedAt = time.Now()
			}
		default:
			if ctx.Err() == nil {
				r.log.Warn("inspecting exited container failed", "id", shortID(c.id), "err", err)
			}
			return
		}
		r.log.Debug("container exited", "id", shortID(c.id), "code", st.ExitCode, "reason", st.Reason)
		c.report(st)
		return
	}
}

func (c *ctr) lastStatus() runtime.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reported
}

// report notifies st unless it is what was last reported.
func (c *ctr) report(st runtime.Status) {
	c.mu.Lock()
	same := c.reported.State == st.State && c.reported.ExitCode == st.ExitCode && c.reported.FinishedAt.Equal(st.FinishedAt)
	c.reported = st
	c.mu.Unlock()
	if !same && c.notify != nil {
		c.notify(st)
	}
}

func (c *ctr) closePorts() {
	c.mu.Lock()
	ps := c.proxies
	c.proxies = nil
	c.mu.Unlock()
	for _, p := range ps {
		p.Close()
	}
}

// Stop implements runtime.Runtime: the image's stop signal (SIGTERM unless
// it names another), then SIGKILL once grace has passed or ctx ends.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
		return nil
	default:
	}
	if grace > 0 {
		if err := r.cli.ContainerKill(ctx, id, c.stopSg); err != nil && !notRunning(err) {
			return fmt.Errorf("docker runtime: stop %s: %w", shortID(id), err)
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-c.done:
			return nil
		case <-t.C:
		case <-ctx.Done():
		}
		r.log.Debug("grace period over; killing", "id", shortID(id), "grace", grace)
	}
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.cli.ContainerKill(kctx, id, "SIGKILL"); err != nil && !notRunning(err) {
		return fmt.Errorf("docker runtime: kill %s: %w", shortID(id), err)
	}
	select {
	case <-c.done:
		return nil
	case <-kctx.Done():
		return fmt.Errorf("docker runtime: container %s did not exit after SIGKILL", shortID(id))
	}
}

// notRunning reports an engine answer meaning "that container is not
// running" (a conflict) or is gone.
func notRunning(err error) bool {
	return cerrdefs.IsConflict(err) || cerrdefs.IsNotFound(err) || strings.Contains(err.Error(), "is not running")
}

// Status implements runtime.Runtime.
func (r *Runtime) Status(ctx context.Context, id string) (runtime.Status, error) {
	c, err := r.get(id)
	if err != nil {
		return runtime.Status{}, err
	}
	info, err := r.cli.ContainerInspect(ctx, id)
	if cerrdefs.IsNotFound(err) {
		st := c.lastStatus()
		st.State, st.Reason, st.Message = runtime.StateExited, "Error", "container removed outside stratus"
		return st, nil
	}
	if err != nil {
		return runtime.Status{}, fmt.Errorf("docker runtime: inspect %s: %w", shortID(id), err)
	}
	return statusOf(info), nil
}

// Logs implements runtime.Runtime.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	if _, err := r.get(id); err != nil {
		return err
	}
	lo := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Timestamps: opts.Timestamps, Tail: "all"}
	if opts.TailLines >= 0 {
		lo.Tail = strconv.FormatInt(opts.TailLines, 10)
	}
	if !opts.SinceTime.IsZero() {
		lo.Since = fmt.Sprintf("%d.%09d", opts.SinceTime.Unix(), opts.SinceTime.Nanosecond())
	}
	rc, err := r.cli.ContainerLogs(ctx, id, lo)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if cerrdefs.IsNotFound(err) {
			return runtime.NotFound("docker", id)
		}
		return fmt.Errorf("docker runtime: logs %s: %w", shortID(id), err)
	}
	defer rc.Close()
	out := w
	if opts.LimitBytes > 0 {
		out = &limitWriter{w: w, left: opts.LimitBytes}
	}
	_, err = stdcopy.StdCopy(out, out, rc)
	if err == nil || errors.Is(err, errLimit) || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("docker runtime: logs %s: %w", shortID(id), err)
}

var errLimit = errors.New("log byte limit reached")

// limitWriter passes on at most left bytes, then fails with errLimit.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimit
	}
	cut := false
	if int64(len(p)) > l.left {
		p, cut = p[:l.left], true
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && cut {
		err = errLimit
	}
	return n, err
}

// Remove implements runtime.Runtime.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	err = r.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker runtime: remove %s: %w", shortID(id), err)
	}
	c.cancel()
	<-c.done
	r.mu.Lock()
	delete(r.containers, id)
	r.mu.Unlock()
	r.releaseSandbox(c.pod)
	return nil
}

// ContainerIP implements runtime.Addresser: the pod sandbox's address on
// the Docker network.
func (r *Runtime) ContainerIP(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return ""
	}
	sb, ok := r.pods[c.pod]
	if !ok {
		return ""
	}
	select {
	case <-sb.ready:
		return sb.ip
	default:
		return ""
	}
}

func (r *Runtime) get(id string) (*ctr, error) {
	r.mu.Lock()
	c, ok := r.containers[id]
	r.mu.Unlock()
	if !ok {
		return nil, runtime.NotFound("docker", id)
	}
	return c, nil
}

func (r *Runtime) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// Close removes every container of this runtime's instance (sandboxes
// included), closes its port forwarders, removes the sandbox image unless
// another runtime still uses it, and closes the engine client.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cs := make([]*ctr, 0, len(r.containers))
	for _, c := range r.containers {
		cs = append(cs, c)
	}
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	for _, c := range cs {
		c.closePorts()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := r.removeInstance(ctx)
	r.prepMu.Lock()
	pause := r.pause
	r.prepMu.Unlock()
	if pause != "" {
		r.removeImageIfUnused(ctx, pause)
	}
	return errors.Join(err, r.cli.Close())
}

// removeInstance removes every container labelled with this instance.
func (r *Runtime) removeInstance(ctx context.Context) error {
	list, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelRuntime+"="+r.instance))})
	if err != nil {
		return fmt.Errorf("docker runtime: list containers: %w", err)
	}
	var errs []error
	// Containers before sandboxes: removing a sandbox first would leave
	// its members without a network namespace owner for a moment.
	for _, role := range []string{"container", "sandbox"} {
		for _, s := range list {
			if s.Labels[LabelRole] != role {
				continue
			}
			if err := r.cli.ContainerRemove(ctx, s.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("docker runtime: remove %s: %w", shortID(s.ID), err))
			}
		}
	}
	if len(list) > 0 {
		r.log.Info("removed containers", "instance", r.instance, "count", len(list))
	}
	return errors.Join(errs...)
}

func (r *Runtime) removeQuietly(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		r.log.Warn("removing container failed", "id", shortID(id), "err", err)
	}
}

func (r *Runtime) labels(spec runtime.ContainerSpec, role string) map[string]string {
	l := map[string]string{
		LabelManaged:      "true",
		LabelRuntime:      r.instance,
		LabelRole:         role,
		LabelPodUID:       spec.PodUID,
		LabelPodName:      spec.PodName,
		LabelPodNamespace: spec.PodNamespace,
	}
	if role == "container" {
		l[LabelContainerName] = spec.Name
		l[LabelAttempt] = strconv.Itoa(spec.Attempt)
	}
	return l
}

// statusOf turns the engine's view of a container into a runtime.Status.
func statusOf(info container.InspectResponse) runtime.Status {
	st := runtime.Status{ID: info.ID}
	s := info.State
	if s == nil {
		return st
	}
	st.StartedAt = parseTime(s.StartedAt)
	st.FinishedAt = parseTime(s.FinishedAt)
	switch s.Status {
	case container.StateCreated:
		st.State = runtime.StateCreated
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		st.State = runtime.StateRunning
	default: // exited, dead, removing
		st.State = runtime.StateExited
		st.ExitCode = s.ExitCode
		switch {
		case s.OOMKilled:
			st.Reason = "OOMKilled"
		case s.Error != "":
			st.Reason, st.Message = "StartError", s.Error
		case s.ExitCode == 0:
			st.Reason = "Completed"
		default:
			st.Reason = "Error"
		}
		if st.FinishedAt.IsZero() {
			st.FinishedAt = time.Now()
		}
		if st.FinishedAt.Before(st.StartedAt) {
			st.FinishedAt = st.StartedAt
		}
	}
	return st
}

// parseTime reads the engine's RFC 3339 times; its zero time
// ("0001-01-01T00:00:00Z") gives time.Time{}.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// podKey identifies a pod's sandbox: its uid, or namespace/name without one.
func podKey(spec runtime.ContainerSpec) string {
	if spec.PodUID != "" {
		return spec.PodUID
	}
	return spec.PodNamespace + "/" + spec.PodName
}

// containerName names a container the way kubelet's dockershim did
// (k8s_<container>_<pod>_<namespace>_<uid>_<attempt>), with "stratus" for
// "k8s" and a random suffix so a retried start never collides.
func containerName(prefix, name string, spec runtime.ContainerSpec) string {
	uid := spec.PodUID
	if len(uid) > 8 {
		uid = uid[:8]
	}
	parts := []string{prefix, name, spec.PodName, spec.PodNamespace, uid, strconv.Itoa(spec.Attempt), randHex(4)}
	for i, p := range parts {
		parts[i] = sanitize(p)
	}
	return strings.Join(parts, "_")
}

// sanitize keeps the characters Docker allows in names.
func sanitize(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// hostname is a pod's hostname: its name, cut to 63 characters.
func hostname(pod string) string {
	if len(pod) > 63 {
		pod = strings.TrimRight(pod[:63], "-.")
	}
	return pod
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
