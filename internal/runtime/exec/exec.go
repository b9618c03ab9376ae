// Package exec is the host-process container runtime: a container's command
// and args run as a process of this host, with the container's env and
// working dir, in its own process group; stdout and stderr become its logs;
// its exit code is the container's; Stop sends SIGTERM to the group and
// SIGKILL once the grace period has passed. Images are not pulled: with no
// command the image name is the program to run.
package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	osexec "os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/logring"
)

// Options configure the exec runtime.
type Options struct {
	// Dir is the working dir of containers that name none (default: the
	// process's temp dir).
	Dir string
	// InheritEnv lists host environment variables passed to every
	// container unless its env sets them (default: PATH, HOME, LANG, TZ).
	InheritEnv []string
	// LogBytes bounds each container's kept output (default 1 MiB).
	LogBytes int
	// Log receives the runtime's own messages (nil: discarded).
	Log *slog.Logger
}

// Runtime is the exec runtime.
type Runtime struct {
	opts   Options
	log    *slog.Logger
	nextID atomic.Uint64

	mu         sync.Mutex
	containers map[string]*container
	closed     bool
	wg         sync.WaitGroup // one waiter per running process
}

type container struct {
	id     string
	cmd    *osexec.Cmd
	logs   logring.Buffer
	done   chan struct{} // closed when the process has exited and status is final
	notify runtime.Notify
	// stdin is the process's standard input, kept open for attach when the
	// container asks for it (stdin: true); nil otherwise (no input).
	stdin io.WriteCloser
	// attachMu lets one attached client write to stdin at a time.
	attachMu sync.Mutex

	mu     sync.Mutex
	status runtime.Status
}

var _ runtime.Runtime = (*Runtime)(nil)
var _ io.Closer = (*Runtime)(nil)

// New returns an exec runtime.
func New(opts Options) *Runtime {
	if opts.Dir == "" {
		opts.Dir = os.TempDir()
	}
	if opts.InheritEnv == nil {
		opts.InheritEnv = []string{"PATH", "HOME", "LANG", "TZ"}
	}
	if opts.LogBytes == 0 {
		opts.LogBytes = logring.DefaultMaxBytes
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runtime{opts: opts, log: log, containers: map[string]*container{}}
}

// Info implements runtime.Runtime.
func (r *Runtime) Info() runtime.Info {
	return runtime.Info{Name: "exec", Capabilities: runtime.Capabilities{
		Processes: true, Env: true, GracefulStop: true, Logs: true, Exec: true, Usage: true,
	}}
}

// Start implements runtime.Runtime.
func (r *Runtime) Start(ctx context.Context, spec runtime.ContainerSpec, notify runtime.Notify) (runtime.Status, error) {
	argv := append(append([]string(nil), spec.Command...), spec.Args...)
	if len(spec.Command) == 0 {
		if spec.Image == "" {
			return runtime.Status{}, errors.New("exec runtime: container has neither command nor image")
		}
		argv = append([]string{spec.Image}, spec.Args...)
	}
	path, err := osexec.LookPath(argv[0])
	if err != nil {
		return runtime.Status{}, fmt.Errorf("exec runtime: %w", err)
	}
	cmd := osexec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Dir = spec.WorkingDir
	if cmd.Dir == "" {
		cmd.Dir = r.opts.Dir
	}
	cmd.Env = r.env(spec)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second // a grandchild holding the output pipe open must not hang Wait
	id := strconv.FormatUint(r.nextID.Add(1), 10) + "-" + strconv.Itoa(os.Getpid())
	c := &container{id: id, cmd: cmd, done: make(chan struct{}), notify: notify}
	c.logs.MaxBytes = r.opts.LogBytes
	cmd.Stdout = &c.logs
	cmd.Stderr = &c.logs
	if spec.Stdin {
		// kept open, as the kubelet keeps a `stdin: true` container's, for
		// kubectl attach -i (and run -i) to write to
		if c.stdin, err = cmd.StdinPipe(); err != nil {
			return runtime.Status{}, fmt.Errorf("exec runtime: %w", err)
		}
	}

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return runtime.Status{}, errors.New("exec runtime: closed")
	}
	if err := cmd.Start(); err != nil {
		r.mu.Unlock()
		return runtime.Status{}, fmt.Errorf("exec runtime: start %s: %w", argv[0], err)
	}
	c.status = runtime.Status{ID: id, State: runtime.StateRunning, StartedAt: time.Now()}
	r.containers[id] = c
	r.wg.Add(1)
	r.mu.Unlock()
	go r.wait(c)
	return c.Status(), nil
}

func (r *Runtime) env(spec runtime.ContainerSpec) []string {
	set := make(map[string]bool, len(spec.Env))
	for _, e := range spec.Env {
		set[e.Name] = true
	}
	env := make([]string, 0, len(spec.Env)+len(r.opts.InheritEnv)+1)
	for _, k := range r.opts.InheritEnv {
		if v, ok := os.LookupEnv(k); ok && !set[k] {
			env = append(env, k+"="+v)
		}
	}
	if !set["HOSTNAME"] && spec.PodName != "" {
		env = append(env, "HOSTNAME="+spec.PodName)
	}
	for _, e := range spec.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	return env
}

func (c *container) Status() runtime.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (r *Runtime) wait(c *container) {
	defer r.wg.Done()
	err := c.cmd.Wait()
	code, reason, msg := 0, "Completed", ""
	if err != nil {
		var ee *osexec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
				msg = "killed by " + ws.Signal().String()
			} else {
				code = ee.ExitCode()
			}
		} else {
			code = 128
			msg = err.Error()
		}
		reason = "Error"
	}
	_ = c.logs.Close()
	c.mu.Lock()
	c.status.State = runtime.StateExited
	c.status.FinishedAt = time.Now()
	c.status.ExitCode = code
	c.status.Reason = reason
	c.status.Message = msg
	st := c.status
	c.mu.Unlock()
	close(c.done)
	if c.notify != nil {
		c.notify(st)
	}
}

// Stop implements runtime.Runtime: SIGTERM to the process group, SIGKILL
// after grace (or when ctx ends first).
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
	pgid := c.cmd.Process.Pid
	if grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-c.done:
			return nil
		case <-t.C:
		case <-ctx.Done():
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-c.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("exec runtime: container %s did not exit after SIGKILL", id)
	}
}

// Status implements runtime.Runtime.
func (r *Runtime) Status(ctx context.Context, id string) (runtime.Status, error) {
	c, err := r.get(id)
	if err != nil {
		return runtime.Status{}, err
	}
	return c.Status(), nil
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
	c, err := r.get(id)
	if err != nil {
		return err
	}
	if err := r.Stop(ctx, id, 0); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.containers, c.id)
	r.mu.Unlock()
	return nil
}

func (r *Runtime) get(id string) (*container, error) {
	r.mu.Lock()
	c, ok := r.containers[id]
	r.mu.Unlock()
	if !ok {
		return nil, runtime.NotFound("exec", id)
	}
	return c, nil
}

// Close kills every process still running and waits for them.
func (r *Runtime) Close() error {
	r.mu.Lock()
	r.closed = true
	var running []*container
	for _, c := range r.containers {
		running = append(running, c)
	}
	r.mu.Unlock()
	for _, c := range running {
		select {
		case <-c.done:
		default:
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	r.wg.Wait()
	return nil
}
