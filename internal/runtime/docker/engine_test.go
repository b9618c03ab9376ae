package docker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/stratus-cloud/stratus/internal/runtime"
	"github.com/stratus-cloud/stratus/internal/runtime/docker"
	"github.com/stratus-cloud/stratus/internal/runtime/docker/dockertest"
	"github.com/stratus-cloud/stratus/internal/runtime/runtimetest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// The engine, the test image and this run's id, set up once by TestMain.
var (
	engineUp  bool
	testImage string
	buildErr  error
	runID     = fmt.Sprintf("t%d", os.Getpid())
	instances atomic.Int64
)

func TestMain(m *testing.M) {
	ctx := context.Background()
	engineUp = docker.Available(ctx)
	var cli *client.Client
	if engineUp {
		reapDeadRuns(ctx)
		var err error
		cli, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			buildErr = err
		} else {
			testImage = "stratus-test/testbox:" + runID
			t0 := time.Now()
			buildErr = dockertest.BuildTestbox(ctx, cli, testImage)
			fmt.Fprintf(os.Stderr, "test image %s built in %v (err %v)\n", testImage, time.Since(t0).Round(time.Millisecond), buildErr)
		}
	}
	code := m.Run()
	if cli != nil {
		if n := leftovers(ctx, cli); n > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: %d containers of this run were left behind\n", n)
			code = 1
		}
		if err := dockertest.RemoveImage(ctx, cli, testImage); err != nil {
			fmt.Fprintln(os.Stderr, "removing test image:", err)
		}
		_ = cli.Close()
	}
	os.Exit(code)
}

// leftovers removes (and counts) containers of this run's instances.
func leftovers(ctx context.Context, cli *client.Client) int {
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelManaged+"=true"))})
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range list {
		if strings.HasPrefix(c.Labels[docker.LabelRuntime], runID+"-") {
			n++
			_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	}
	return n
}

// reapDeadRuns removes what earlier runs of these tests left when their
// process was killed before cleaning up: containers of instances
// "t<pid>-…" and test images "stratus-test/testbox:t<pid>" of pids no
// longer alive.
func reapDeadRuns(ctx context.Context) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return
	}
	defer cli.Close()
	dead := func(run string) bool {
		pid, err := strconv.Atoi(strings.TrimPrefix(run, "t"))
		if err != nil || !strings.HasPrefix(run, "t") {
			return false
		}
		_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
		return errors.Is(err, os.ErrNotExist)
	}
	list, _ := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelManaged+"=true"))})
	for _, c := range list {
		run, _, _ := strings.Cut(c.Labels[docker.LabelRuntime], "-")
		if dead(run) {
			_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	}
	imgs, _ := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", "stratus-test/testbox"))})
	for _, im := range imgs {
		for _, tag := range im.RepoTags {
			if _, run, ok := strings.Cut(tag, ":"); ok && dead(run) {
				_ = dockertest.RemoveImage(ctx, cli, tag)
			}
		}
	}
}

// need skips (fails in CI) without an engine, and fails if the test image
// could not be built.
func need(t *testing.T) {
	t.Helper()
	testenv.Need(t, engineUp, "no Docker engine reachable")
	if buildErr != nil {
		t.Fatalf("building the test image: %v", buildErr)
	}
}

// newRuntime returns a runtime with an instance of its own, closed when the
// test ends, after which none of its containers may remain.
func newRuntime(t *testing.T, opts docker.Options) *docker.Runtime {
	t.Helper()
	need(t)
	if opts.Instance == "" {
		opts.Instance = fmt.Sprintf("%s-%d", runID, instances.Add(1))
	}
	rt, err := docker.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return
		}
		defer cli.Close()
		list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelRuntime+"="+opts.Instance))})
		if err != nil {
			t.Errorf("listing containers: %v", err)
		}
		if len(list) > 0 {
			t.Errorf("%d containers left after Close", len(list))
		}
	})
	return rt
}

func spec(pod, name string, args ...string) runtime.ContainerSpec {
	return runtime.ContainerSpec{PodNamespace: "default", PodName: pod, PodUID: "uid-" + pod + "-" + runID, Name: name, Image: testImage, Args: args}
}

func TestConformance(t *testing.T) {
	need(t)
	var n atomic.Int64
	pod := func(name string) string { return fmt.Sprintf("p%d-%s", n.Add(1), name) }
	runtimetest.Run(t, runtimetest.Harness{
		ExecCommand: []string{"/testbox", "exec-cat", "3", "exec-ok"},
		New: func(t *testing.T) runtime.Runtime {
			rt := newRuntime(t, docker.Options{})
			return rt
		},
		LongRunning: func(name string) runtime.ContainerSpec { return spec(pod(name), name, "sleep") },
		Exiting: func(name, output string, code int) runtime.ContainerSpec {
			return spec(pod(name), name, "exit", strconv.Itoa(code), output)
		},
		WithPort: func(name, podIP string, port int32) runtime.ContainerSpec {
			p := pod(name)
			s := spec(p, name, "serve", strconv.Itoa(int(port)))
			s.PodIP = podIP
			s.Ports = []runtime.Port{{Name: "http", Port: port, Protocol: "TCP"}}
			s.Env = []runtime.EnvVar{{Name: "POD_NAME", Value: p}}
			return s
		},
		Timeout: 30 * time.Second,
	})
}

// exited records notifications and waits for an exit.
type exited struct {
	mu  sync.Mutex
	all []runtime.Status
	ch  chan runtime.Status
}

func newExited() *exited { return &exited{ch: make(chan runtime.Status, 16)} }

func (e *exited) notify(s runtime.Status) {
	e.mu.Lock()
	e.all = append(e.all, s)
	e.mu.Unlock()
	if s.State == runtime.StateExited {
		e.ch <- s
	}
}

func (e *exited) wait(t *testing.T, st runtime.Status) runtime.Status {
	t.Helper()
	if st.State == runtime.StateExited {
		return st
	}
	select {
	case s := <-e.ch:
		return s
	case <-time.After(30 * time.Second):
		t.Fatalf("container %s did not exit", st.ID)
		return runtime.Status{}
	}
}

func logs(t *testing.T, rt runtime.Runtime, id string, opts runtime.LogOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := rt.Logs(context.Background(), id, opts, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// runToExit starts s, waits for it to exit and returns its status and logs.
func runToExit(t *testing.T, rt runtime.Runtime, s runtime.ContainerSpec) (runtime.Status, string) {
	t.Helper()
	ex := newExited()
	st, err := rt.Start(context.Background(), s, ex.notify)
	if err != nil {
		t.Fatal(err)
	}
	end := ex.wait(t, st)
	return end, logs(t, rt, st.ID, runtime.LogOptions{TailLines: -1})
}

func TestPodSharesNetworkNamespace(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	ctx := context.Background()
	server := spec("shared", "server", "serve", "8080")
	server.Env = []runtime.EnvVar{{Name: "POD_NAME", Value: "shared"}}
	if _, err := rt.Start(ctx, server, nil); err != nil {
		t.Fatal(err)
	}
	// A second container of the same pod reaches the first on localhost,
	// and shares its hostname (the pod's name).
	end, out := runToExit(t, rt, spec("shared", "client", "get", "http://localhost:8080/"))
	if end.ExitCode != 0 || out != "hello from shared shared\n" {
		t.Fatalf("client: exit %d, output %q", end.ExitCode, out)
	}
	// A container of another pod does not.
	end, out = runToExit(t, rt, spec("other", "client", "exit", "0", "other pod"))
	if end.ExitCode != 0 {
		t.Fatalf("other pod: %d %q", end.ExitCode, out)
	}
	c := spec("other", "client2", "get", "http://localhost:8080/", "1")
	c.Attempt = 1
	st, err := rt.Start(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	end, out = waitExit(t, rt, st.ID)
	if end.ExitCode != 1 {
		t.Fatalf("another pod reached the server on localhost: exit %d, %q", end.ExitCode, out)
	}
}

// waitExit polls Status until the container has exited.
func waitExit(t *testing.T, rt runtime.Runtime, id string) (runtime.Status, string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := rt.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == runtime.StateExited {
			return st, logs(t, rt, id, runtime.LogOptions{TailLines: -1})
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s did not exit", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCommandArgsEnv(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	tests := []struct {
		name    string
		command []string
		args    []string
		env     []runtime.EnvVar
		workDir string
		want    []string // lines the output must contain
		notWant []string
	}{
		{name: "args replace cmd", args: []string{"args", "a b", "c"}, want: []string{"a b", "c"}},
		{name: "command replaces entrypoint", command: []string{"/testbox", "args"}, args: []string{"x"}, want: []string{"x"}},
		{name: "command without args runs no cmd", command: []string{"/testbox", "args", "only"}, want: []string{"only"}},
		{name: "env", args: []string{"env"}, env: []runtime.EnvVar{{Name: "GREETING", Value: "hi there"}, {Name: "EMPTY", Value: ""}},
			want: []string{"GREETING=hi there", "EMPTY=", "HOSTNAME=envpod"}},
		{name: "env overrides hostname", args: []string{"env"}, env: []runtime.EnvVar{{Name: "HOSTNAME", Value: "mine"}},
			want: []string{"HOSTNAME=mine"}, notWant: []string{"HOSTNAME=envpod"}},
		{name: "hostname is the pod name", args: []string{"hostname"}, want: []string{"envpod"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := spec("envpod", fmt.Sprint("c", i), tc.args...)
			s.Command, s.Env, s.WorkingDir = tc.command, tc.env, tc.workDir
			end, out := runToExit(t, rt, s)
			if end.ExitCode != 0 {
				t.Fatalf("exit %d: %q", end.ExitCode, out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			has := func(l string) bool {
				for _, x := range lines {
					if x == l {
						return true
					}
				}
				return false
			}
			for _, w := range tc.want {
				if !has(w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if has(w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	tests := []struct {
		code   int
		reason string
	}{{0, "Completed"}, {1, "Error"}, {42, "Error"}, {255, "Error"}}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			end, out := runToExit(t, rt, spec("codes", fmt.Sprint("c", tc.code), "exit", strconv.Itoa(tc.code), "bye"))
			if end.ExitCode != tc.code || end.Reason != tc.reason || out != "bye\n" {
				t.Fatalf("got %d %q %q, want %d %q", end.ExitCode, end.Reason, out, tc.code, tc.reason)
			}
			if end.StartedAt.IsZero() || end.FinishedAt.Before(end.StartedAt) {
				t.Errorf("times: %v → %v", end.StartedAt, end.FinishedAt)
			}
		})
	}
}

func TestLogsTailFollowSince(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	ctx := context.Background()
	_, out := runToExit(t, rt, spec("logs", "lines", "lines", "5"))
	if out != "line 1\nline 2\nline 3\nline 4\nline 5\n" {
		t.Fatalf("all: %q", out)
	}
	st, err := rt.Status(ctx, mustStart(t, rt, spec("logs", "lines2", "lines", "5")))
	if err != nil {
		t.Fatal(err)
	}
	waitExit(t, rt, st.ID)
	tests := []struct {
		name string
		opts runtime.LogOptions
		want string
	}{
		{"tail 2", runtime.LogOptions{TailLines: 2}, "line 4\nline 5\n"},
		{"tail 0", runtime.LogOptions{TailLines: 0}, ""},
		{"limit bytes", runtime.LogOptions{TailLines: -1, LimitBytes: 10}, "line 1\nlin"},
		{"since the future", runtime.LogOptions{TailLines: -1, SinceTime: time.Now().Add(time.Hour)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := logs(t, rt, st.ID, tc.opts); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	// Follow a running container: lines arrive as they are printed, and
	// the stream ends when the container stops.
	id := mustStart(t, rt, spec("logs", "tick", "tick", "50"))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := rt.Logs(ctx, id, runtime.LogOptions{TailLines: -1, Follow: true}, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	buf := make([]byte, 0, 256)
	chunk := make([]byte, 64)
	for !strings.Contains(string(buf), "tick 3\n") {
		n, err := pr.Read(chunk)
		if err != nil {
			t.Fatalf("follow ended early: %v (%q)", err, buf)
		}
		buf = append(buf, chunk[:n]...)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if err := rt.Stop(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("follow did not end when the container stopped")
	}

	// Follow ends when its context does.
	id = mustStart(t, rt, spec("logs", "tick2", "tick", "1000"))
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if err := rt.Logs(cctx, id, runtime.LogOptions{TailLines: -1, Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("follow outlived its context by %v", d)
	}
}

func mustStart(t *testing.T, rt runtime.Runtime, s runtime.ContainerSpec) string {
	t.Helper()
	st, err := rt.Start(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.ID
}

func TestGracefulStop(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	tests := []struct {
		name     string
		args     []string
		grace    time.Duration
		code     int
		minDelay time.Duration // at least this long (the grace period before SIGKILL)
		maxDelay time.Duration
		output   string
	}{
		{name: "SIGTERM honoured", args: []string{"sleep"}, grace: 10 * time.Second, code: 0, maxDelay: 5 * time.Second, output: "got terminated"},
		{name: "SIGTERM ignored then SIGKILL", args: []string{"ignore-term"}, grace: 700 * time.Millisecond, code: 137, minDelay: 700 * time.Millisecond, maxDelay: 8 * time.Second},
		{name: "no grace kills at once", args: []string{"sleep"}, grace: 0, code: 137, maxDelay: 5 * time.Second},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := spec("stop", fmt.Sprint("c", i), tc.args...)
			id := mustStart(t, rt, s)
			// Wait until the program has set up its signal handling.
			waitLog(t, rt, id, "\n")
			t0 := time.Now()
			if err := rt.Stop(ctx, id, tc.grace); err != nil {
				t.Fatal(err)
			}
			took := time.Since(t0)
			st, err := rt.Status(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != runtime.StateExited || st.ExitCode != tc.code {
				t.Fatalf("after Stop: %+v, want exit %d", st, tc.code)
			}
			if took < tc.minDelay || took > tc.maxDelay {
				t.Errorf("Stop took %v, want %v..%v", took, tc.minDelay, tc.maxDelay)
			}
			if out := logs(t, rt, id, runtime.LogOptions{TailLines: -1}); !strings.Contains(out, tc.output) {
				t.Errorf("output %q lacks %q", out, tc.output)
			}
			if err := rt.Stop(ctx, id, time.Second); err != nil {
				t.Errorf("Stop of a stopped container: %v", err)
			}
		})
	}
}

// waitLog waits until the container's output contains s.
func waitLog(t *testing.T, rt runtime.Runtime, id, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs(t, rt, id, runtime.LogOptions{TailLines: -1}), s) {
		if time.Now().After(deadline) {
			t.Fatalf("container %s never printed %q", id, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRestart runs a pod's container again as the agent does after it
// exits (a new Start with the next attempt): the pod keeps its sandbox, so
// a sidecar still reaches the restarted container on localhost.
func TestRestart(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	ctx := context.Background()
	first := spec("restart", "app", "exit", "3", "first run")
	end, out := runToExit(t, rt, first)
	if end.ExitCode != 3 || out != "first run\n" {
		t.Fatalf("first attempt: %d %q", end.ExitCode, out)
	}
	second := spec("restart", "app", "serve", "9090")
	second.Attempt = 1
	second.Env = []runtime.EnvVar{{Name: "POD_NAME", Value: "restart"}}
	id2 := mustStart(t, rt, second)
	if id2 == end.ID {
		t.Fatal("restart reused the old container id")
	}
	_, out = runToExit(t, rt, spec("restart", "sidecar", "get", "http://127.0.0.1:9090/"))
	if out != "hello from restart restart\n" {
		t.Fatalf("sidecar got %q", out)
	}
	// The first attempt's logs stay readable until it is removed.
	if got := logs(t, rt, end.ID, runtime.LogOptions{TailLines: -1}); got != "first run\n" {
		t.Errorf("old attempt's logs: %q", got)
	}
	if err := rt.Remove(ctx, end.ID); err != nil {
		t.Fatal(err)
	}
	if err := rt.Stop(ctx, id2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if st, _ := rt.Status(ctx, id2); st.ExitCode != 0 || st.Reason != "Completed" {
		t.Errorf("restarted container after graceful stop: %+v", st)
	}
}

func TestImagePullFailure(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	rt := newRuntime(t, docker.Options{Clock: clk, PullTimeout: 20 * time.Second})
	ctx := context.Background()
	// A registry on a loopback port nothing listens on: the pull fails at
	// once and no traffic leaves the machine.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	s := spec("pullfail", "c", "sleep")
	s.Image = addr + "/stratus-test/missing:1"
	reason := func() (string, string) {
		t.Helper()
		_, err := rt.Start(ctx, s, nil)
		var we interface{ WaitingReason() string }
		if !errors.As(err, &we) {
			t.Fatalf("Start: %v, want an error with a waiting reason", err)
		}
		return we.WaitingReason(), err.Error()
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "ErrImagePull"},
		{time.Second, "ImagePullBackOff"},
		{10 * time.Second, "ErrImagePull"}, // back-off (10 s) over: tried again
		{10 * time.Second, "ImagePullBackOff"},
		{11 * time.Second, "ErrImagePull"}, // second back-off is 20 s
	}
	for i, st := range steps {
		clk.SetTime(clk.Now().Add(st.advance))
		got, msg := reason()
		if got != st.want {
			t.Fatalf("step %d: reason %s (%s), want %s", i, got, msg, st.want)
		}
		if got == "ImagePullBackOff" && !strings.Contains(msg, "Back-off pulling image") {
			t.Errorf("back-off message %q", msg)
		}
	}
	// Another pod with the same image has its own back-off.
	other := s
	other.PodUID, other.PodName = "other-uid", "other"
	if _, err := rt.Start(ctx, other, nil); err == nil || !strings.Contains(err.Error(), "ErrImagePull") {
		t.Errorf("other pod: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	rt := newRuntime(t, docker.Options{})
	tests := []struct {
		name   string
		mod    func(*runtime.ContainerSpec)
		reason string
	}{
		{"invalid image name", func(s *runtime.ContainerSpec) { s.Image = "Nginx:1" }, "InvalidImageName"},
		{"no image", func(s *runtime.ContainerSpec) { s.Image = "" }, "InvalidImageName"},
		{"no such program", func(s *runtime.ContainerSpec) { s.Command = []string{"/no/such/program"} }, "RunContainerError"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := spec("starterr", fmt.Sprint("c", i), "sleep")
			tc.mod(&s)
			_, err := rt.Start(context.Background(), s, nil)
			var se *docker.StartError
			if !errors.As(err, &se) || se.Reason != tc.reason {
				t.Fatalf("Start: %v, want reason %s", err, tc.reason)
			}
		})
	}
	// Nothing of the failed starts stays behind (the sandbox of a pod
	// whose only container failed included).
	cli := rt.Client()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelRuntime+"="+rt.Instance()))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("%d containers left by failed starts", len(list))
	}
}

// TestLeftoversOfACrashedRuntime: a runtime that ended without Close (its
// process died) leaves containers; the next runtime of the same instance
// removes them when first used.
func TestLeftoversOfACrashedRuntime(t *testing.T) {
	need(t)
	inst := fmt.Sprintf("%s-%d", runID, instances.Add(1))
	crashed, err := docker.New(docker.Options{Instance: inst})
	if err != nil {
		t.Fatal(err)
	}
	old := mustStart(t, crashed, spec("crash", "c", "sleep"))
	// crashed is never closed: its process "died".
	rt := newRuntime(t, docker.Options{Instance: inst})
	mustStart(t, rt, spec("crash2", "c", "sleep"))
	if _, err := rt.Client().ContainerInspect(context.Background(), old); err == nil {
		t.Error("leftover container still there")
	}
}

func TestUnknownImagePresentIsNotPulled(t *testing.T) {
	// The test image exists only on this engine; starting it must not try
	// a registry (which would fail here).
	rt := newRuntime(t, docker.Options{PullTimeout: time.Second})
	end, _ := runToExit(t, rt, spec("local", "c", "exit", "0", "x"))
	if end.ExitCode != 0 {
		t.Fatal(end)
	}
}

func TestAvailable(t *testing.T) {
	testenv.Need(t, engineUp, "no Docker engine reachable")
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	if docker.Available(context.Background()) {
		t.Error("Available with a socket that does not exist")
	}
}
