// Package runtime is the one small interface between a node agent and
// whatever runs containers: sim (nothing runs; behaviour is configured),
// exec (host processes) and, later, docker. A runtime declares what it can do
// (Capabilities) and answers anything else with an error that wraps
// ErrNotSupported, never with a silent no-op. Every implementation passes the
// conformance kit in runtime/runtimetest.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Runtime runs containers for one or more node agents. Methods are safe for
// concurrent use.
type Runtime interface {
	// Info names the runtime and declares its capabilities.
	Info() Info
	// Start creates and starts a container. It returns the container's
	// status at return: Running, or Created when the runtime starts it
	// later (the sim runtime's start latency), or Exited when it finished
	// at once. Every later change of state is passed to notify (from any
	// goroutine; notify must not block). A container that cannot be
	// started at all (no such program) gives an error.
	Start(ctx context.Context, spec ContainerSpec, notify Notify) (Status, error)
	// Stop stops a container: politely first, forcibly once grace has
	// passed. Stopping a stopped container is not an error.
	Stop(ctx context.Context, id string, grace time.Duration) error
	// Status reports a container's current status.
	Status(ctx context.Context, id string) (Status, error)
	// Logs writes a container's output to w as opts asks. With Follow it
	// returns when the container has exited and its output is written, or
	// when ctx ends.
	Logs(ctx context.Context, id string, opts LogOptions, w io.Writer) error
	// Remove forgets a stopped container and its logs (stopping it first
	// if it still runs).
	Remove(ctx context.Context, id string) error
	// Exec runs cmd in a running container, connected to s, and returns
	// its exit code (kubectl exec, and cp through tar). It returns when
	// the command has exited and its output is written, or ctx ends. A
	// command that cannot be started is an error; exiting non-zero is not.
	Exec(ctx context.Context, id string, cmd []string, s Streams) (exitCode int, err error)
	// Attach connects s to the container's main process (kubectl attach):
	// its output from now on and, where the runtime keeps it open, its
	// stdin. It returns when the container exits or ctx ends.
	Attach(ctx context.Context, id string, s Streams) error
	// Usage reports a running container's resource use (kubectl top):
	// measured under exec and docker, simulated under sim
	// (Capabilities.Usage says which).
	Usage(ctx context.Context, id string) (Usage, error)
}

// Addresser is implemented by runtimes whose containers listen at an
// address of their own rather than at the pod IP on this host (docker:
// the pod sandbox's address on its network, where the pod IP forwards
// only the declared ports, and accepts before the container does). A
// node agent's probes dial there, as the kubelet's reach the pod's own
// network.
type Addresser interface {
	// ContainerIP is the address container id's ports listen on ("" when
	// it is not known).
	ContainerIP(id string) string
}

// PortDialer is implemented by runtimes whose containers can answer a
// port without a socket (sim: its HTTP greeting). A node agent's port
// forwarding dials there when nothing listens at the pod's address, as
// every port of a real nginx answers whether or not the pod declares it.
type PortDialer interface {
	DialPort(id string, port int) (net.Conn, error)
}

// Usage is a container's resource use: CPU time consumed since it started
// and its memory working set now.
type Usage struct {
	CPU    time.Duration
	Memory int64 // bytes
}

// Streams are what Exec and Attach connect to: the client's stdin (nil:
// none), stdout and stderr (nil: not wanted; with TTY everything goes to
// Stdout), whether a terminal was asked for, and its size changes.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	TTY    bool
	Resize <-chan TermSize
}

// TermSize is a terminal's size in characters.
type TermSize struct{ Width, Height uint16 }

// AttachOutput is Attach for runtimes that keep no stdin open: it follows
// the container's output from now on into s.Stdout (stdin is read and
// dropped, as a container without `stdin: true` gets no input either).
func AttachOutput(ctx context.Context, rt Runtime, id string, s Streams) error {
	if s.Stdin != nil {
		go func() { _, _ = io.Copy(io.Discard, s.Stdin) }()
	}
	out := s.Stdout
	if out == nil {
		out = s.Stderr
	}
	if out == nil {
		out = io.Discard
	}
	return rt.Logs(ctx, id, LogOptions{Follow: true, TailLines: 0}, out)
}

// Notify receives a container's new status.
type Notify func(Status)

// Info describes a runtime.
type Info struct {
	Name         string // "sim", "exec", "docker"
	Capabilities Capabilities
}

// Capabilities says what a runtime really does; callers ask before they
// rely on something.
type Capabilities struct {
	// Processes: the container's command really runs.
	Processes bool
	// Images: images are pulled and their file systems used.
	Images bool
	// Ports: a container's declared ports answer on the pod IP.
	Ports bool
	// Env and WorkingDir are applied to the container's process.
	Env bool
	// GracefulStop: Stop signals first and kills after the grace period.
	GracefulStop bool
	// Logs: container output is kept and served.
	Logs bool
	// Exec: Exec runs the command for real (in the container, or as a
	// host process in the pod's dir); without it a small simulated shell
	// answers.
	Exec bool
	// Usage: Usage measures (else it simulates).
	Usage bool
	// OwnNetwork: containers have a network namespace of their own, so
	// the host's loopback (cluster IPs, pod IPs, node ports) is not theirs
	// (docker). The node agent then resolves host aliases that name a
	// Service to its pods (HostAlias.Backends).
	OwnNetwork bool
}

// ContainerSpec is what the agent asks a runtime to run: one container of a
// pod, already resolved (env values, pod IP).
type ContainerSpec struct {
	PodNamespace string
	PodName      string
	PodUID       string
	Name         string // container name in the pod
	Attempt      int    // restart count of this container so far
	Image        string
	Command      []string
	Args         []string
	Env          []EnvVar
	WorkingDir   string
	Ports        []Port
	PodIP        string
	// Annotations are the pod's annotations; the sim runtime reads its
	// behaviour overrides from them. Labels are the pod's labels.
	Annotations map[string]string
	Labels      map[string]string
	// RunToCompletion: the pod's restartPolicy is Never or OnFailure, so
	// the container is expected to finish (a Job's work, a `helm test`).
	// The sim runtime then exits it with code 0 after a short run.
	RunToCompletion bool
	// Ephemeral: an ephemeral container (kubectl debug), never restarted.
	Ephemeral bool
	// Stdin and TTY: the container keeps its stdin open for attach, on a
	// terminal (kubectl run -it, kubectl debug -it).
	Stdin, TTY bool
	// HostAliases are the pod's spec.hostAliases: the runtimes that keep
	// an /etc/hosts per pod (docker) write them there, as the kubelet
	// does; sim and exec, whose containers have none of their own (exec's
	// processes read the host's), leave them aside.
	HostAliases []HostAlias
}

// HostAlias is one of a pod's extra /etc/hosts entries: IP and its names.
//
// Backends are the pod IPs behind IP when it is a Service's cluster IP
// (the pods its selector picks), filled in by the node agent for runtimes
// with Capabilities.OwnNetwork only. Their containers cannot reach the
// host's loopback, where cluster IPs and pod IPs answer, so such a runtime
// writes the address at which its containers reach one of the backends
// instead (docker: the backend's sandbox on the Docker network), as
// docker's links name the linked container's own address.
type HostAlias struct {
	IP        string
	Hostnames []string
	Backends  []string
}

// EnvVar is one environment variable.
type EnvVar struct{ Name, Value string }

// Port is one declared container port.
type Port struct {
	Name     string
	Port     int32
	Protocol string // "TCP" (default), "UDP", "SCTP"
}

// State is a container's life-cycle state.
type State uint8

// The container states, in order.
const (
	StateCreated State = iota // accepted, not running yet
	StateRunning
	StateExited
)

func (s State) String() string {
	switch s {
	case StateCreated:
		return "created"
	case StateRunning:
		return "running"
	case StateExited:
		return "exited"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Status is a container's observed status.
type Status struct {
	ID         string
	State      State
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int
	// Reason is a CamelCase word as the kubelet shows it: "Completed",
	// "Error", "OOMKilled", "StartError".
	Reason  string
	Message string
}

// LogOptions select what Logs writes.
type LogOptions struct {
	Follow     bool
	TailLines  int64 // < 0: all lines
	Timestamps bool  // prefix each line with its RFC 3339 time
	SinceTime  time.Time
	LimitBytes int64 // <= 0: no limit
}

// ErrNotSupported is wrapped by every "this runtime cannot do that" error.
var ErrNotSupported = errors.New("not supported by this runtime")

// ErrNotFound is wrapped when a container id is unknown.
var ErrNotFound = errors.New("no such container")

// NotSupported returns an error naming the runtime and operation that
// wraps ErrNotSupported.
func NotSupported(runtime, op string) error {
	return fmt.Errorf("%s runtime: %s: %w", runtime, op, ErrNotSupported)
}

// NotFound returns an error naming the container that wraps ErrNotFound.
func NotFound(runtime, id string) error {
	return fmt.Errorf("%s runtime: container %q: %w", runtime, id, ErrNotFound)
}
