// Package runtimetest is the conformance kit every container runtime passes:
// sim and exec now, docker later. A runtime's test calls Run with a Harness
// that says how to make that runtime's containers behave (run until
// stopped, print and exit with a code).
package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Harness adapts the kit to one runtime.
type Harness struct {
	// New returns a fresh runtime; the kit closes it (if it is an
	// io.Closer) when the test ends.
	New func(t *testing.T) runtime.Runtime
	// LongRunning returns a spec for a container that runs until stopped.
	LongRunning func(name string) runtime.ContainerSpec
	// Exiting returns a spec for a container that prints output (one line)
	// and exits with code.
	Exiting func(name, output string, code int) runtime.ContainerSpec
	// WithPort returns a spec for a container that serves HTTP on
	// podIP:port (only used when the runtime declares Ports).
	WithPort func(name, podIP string, port int32) runtime.ContainerSpec
	// ExecCommand prints "exec-ok", copies stdin to stdout and exits 3
	// (default: sh -c "echo exec-ok; cat; exit 3").
	ExecCommand []string
	// Timeout bounds each wait (default 10 s).
	Timeout time.Duration
}

// recorder collects notifications.
type recorder struct {
	mu  sync.Mutex
	got []runtime.Status
	ch  chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 64)} }

func (r *recorder) notify(s runtime.Status) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// waitState waits until a notification (or a Status poll) shows state.
func waitState(t *testing.T, rt runtime.Runtime, id string, rec *recorder, want runtime.State, timeout time.Duration) runtime.Status {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		st, err := rt.Status(context.Background(), id)
		if err != nil {
			t.Fatalf("Status(%s): %v", id, err)
		}
		if st.State == want {
			return st
		}
		select {
		case <-rec.ch:
		case <-poll.C:
		case <-deadline.C:
			t.Fatalf("container %s: state %s, want %s after %v", id, st.State, want, timeout)
		}
	}
}

func closeRuntime(t *testing.T, rt runtime.Runtime) {
	t.Cleanup(func() {
		if c, ok := rt.(io.Closer); ok {
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
}

// Run runs the conformance tests.
func Run(t *testing.T, h Harness) {
	if h.Timeout == 0 {
		h.Timeout = 10 * time.Second
	}
	ctx := context.Background()
	newRT := func(t *testing.T) runtime.Runtime {
		rt := h.New(t)
		closeRuntime(t, rt)
		return rt
	}

	t.Run("Info", func(t *testing.T) {
		rt := newRT(t)
		if rt.Info().Name == "" {
			t.Fatal("runtime has no name")
		}
	})

	t.Run("StartStopRemove", func(t *testing.T) {
		rt := newRT(t)
		rec := newRecorder()
		st, err := rt.Start(ctx, h.LongRunning("long"), rec.notify)
		if err != nil {
			t.Fatal(err)
		}
		if st.ID == "" {
			t.Fatal("Start returned no id")
		}
		run := waitState(t, rt, st.ID, rec, runtime.StateRunning, h.Timeout)
		if run.StartedAt.IsZero() {
			t.Error("running container has no start time")
		}
		if err := rt.Stop(ctx, st.ID, 2*time.Second); err != nil {
			t.Fatal(err)
		}
		ex := waitState(t, rt, st.ID, rec, runtime.StateExited, h.Timeout)
		if ex.FinishedAt.IsZero() || ex.FinishedAt.Before(ex.StartedAt) {
			t.Errorf("exited container: started %v finished %v", ex.StartedAt, ex.FinishedAt)
		}
		if err := rt.Stop(ctx, st.ID, time.Second); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		if err := rt.Remove(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := rt.Status(ctx, st.ID); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Status after Remove: %v, want ErrNotFound", err)
		}
	})

	t.Run("ExitCodes", func(t *testing.T) {
		tests := []struct {
			code   int
			reason string
		}{{0, "Completed"}, {3, "Error"}}
		for _, tc := range tests {
			t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
				rt := newRT(t)
				rec := newRecorder()
				st, err := rt.Start(ctx, h.Exiting("x", "bye", tc.code), rec.notify)
				if err != nil {
					t.Fatal(err)
				}
				ex := waitState(t, rt, st.ID, rec, runtime.StateExited, h.Timeout)
				if ex.ExitCode != tc.code || ex.Reason != tc.reason {
					t.Fatalf("exit %d %q, want %d %q", ex.ExitCode, ex.Reason, tc.code, tc.reason)
				}
				if st.State != runtime.StateExited {
					// the exit came later, so it must have been notified
					deadline := time.After(h.Timeout)
					for {
						rec.mu.Lock()
						n := len(rec.got)
						last := runtime.Status{}
						if n > 0 {
							last = rec.got[n-1]
						}
						rec.mu.Unlock()
						if last.State == runtime.StateExited {
							break
						}
						select {
						case <-rec.ch:
						case <-deadline:
							t.Fatal("exit was not notified")
						}
					}
				}
			})
		}
	})

	t.Run("Logs", func(t *testing.T) {
		rt := newRT(t)
		if !rt.Info().Capabilities.Logs {
			var b bytes.Buffer
			if err := rt.Logs(ctx, "nope", runtime.LogOptions{TailLines: -1}, &b); !errors.Is(err, runtime.ErrNotSupported) && !errors.Is(err, runtime.ErrNotFound) {
				t.Fatalf("Logs without capability: %v", err)
			}
			return
		}
		rec := newRecorder()
		st, err := rt.Start(ctx, h.Exiting("x", "hello conformance", 0), rec.notify)
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, rt, st.ID, rec, runtime.StateExited, h.Timeout)
		var all, tail, ts bytes.Buffer
		if err := rt.Logs(ctx, st.ID, runtime.LogOptions{TailLines: -1}, &all); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(all.String(), "hello conformance\n") {
			t.Fatalf("logs %q lack the output", all.String())
		}
		if err := rt.Logs(ctx, st.ID, runtime.LogOptions{TailLines: 1}, &tail); err != nil {
			t.Fatal(err)
		}
		if strings.Count(tail.String(), "\n") != 1 {
			t.Errorf("tail 1 gave %q", tail.String())
		}
		if err := rt.Logs(ctx, st.ID, runtime.LogOptions{TailLines: -1, Timestamps: true}, &ts); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(ts.String(), " ")
		if _, err := time.Parse(time.RFC3339Nano, first); err != nil {
			t.Errorf("timestamped line %q: %v", ts.String(), err)
		}
		// follow on an exited container returns
		done := make(chan error, 1)
		go func() { done <- rt.Logs(ctx, st.ID, runtime.LogOptions{TailLines: -1, Follow: true}, io.Discard) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(h.Timeout):
			t.Fatal("follow of an exited container did not return")
		}
	})

	t.Run("FollowEndsWhenStopped", func(t *testing.T) {
		rt := newRT(t)
		if !rt.Info().Capabilities.Logs {
			t.Skip("runtime keeps no logs")
		}
		rec := newRecorder()
		st, err := rt.Start(ctx, h.LongRunning("long"), rec.notify)
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, rt, st.ID, rec, runtime.StateRunning, h.Timeout)
		done := make(chan error, 1)
		go func() { done <- rt.Logs(ctx, st.ID, runtime.LogOptions{TailLines: -1, Follow: true}, io.Discard) }()
		if err := rt.Stop(ctx, st.ID, time.Second); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(h.Timeout):
			t.Fatal("follow did not end when the container stopped")
		}
	})

	t.Run("ExecAndUsage", func(t *testing.T) {
		rt := newRT(t)
		rec := newRecorder()
		st, err := rt.Start(ctx, h.LongRunning("execd"), rec.notify)
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, rt, st.ID, rec, runtime.StateRunning, h.Timeout)
		var out strings.Builder
		cmd := h.ExecCommand
		if cmd == nil {
			cmd = []string{"sh", "-c", "echo exec-ok; cat; exit 3"}
		}
		code, err := rt.Exec(ctx, st.ID, cmd, runtime.Streams{Stdin: strings.NewReader("in\n"), Stdout: &out, Stderr: &out})
		if err != nil || code != 3 || out.String() != "exec-ok\nin\n" {
			t.Errorf("Exec: code %d err %v output %q, want 3 and \"exec-ok\\nin\\n\"", code, err, out.String())
		}
		if _, err := rt.Usage(ctx, st.ID); err != nil && !errors.Is(err, runtime.ErrNotSupported) {
			t.Errorf("Usage: %v", err)
		}
		if _, err := rt.Exec(ctx, "no-such", []string{"true"}, runtime.Streams{}); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Exec of an unknown container: %v", err)
		}
		_ = rt.Stop(ctx, st.ID, time.Second)
	})

	t.Run("UnknownContainer", func(t *testing.T) {
		rt := newRT(t)
		if _, err := rt.Status(ctx, "no-such"); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Status: %v", err)
		}
		if err := rt.Stop(ctx, "no-such", 0); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Stop: %v", err)
		}
		if err := rt.Remove(ctx, "no-such"); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Remove: %v", err)
		}
		if err := rt.Logs(ctx, "no-such", runtime.LogOptions{}, io.Discard); !errors.Is(err, runtime.ErrNotFound) && !errors.Is(err, runtime.ErrNotSupported) {
			t.Errorf("Logs: %v", err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		rt := newRT(t)
		const n = 20
		var wg sync.WaitGroup
		ids := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := rt.Start(ctx, h.LongRunning(fmt.Sprint("c", i)), nil)
				ids[i], errs[i] = st.ID, err
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if seen[ids[i]] {
				t.Fatalf("id %s given twice", ids[i])
			}
			seen[ids[i]] = true
		}
		for _, id := range ids {
			if err := rt.Remove(ctx, id); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("Ports", func(t *testing.T) {
		rt := newRT(t)
		if !rt.Info().Capabilities.Ports || h.WithPort == nil {
			t.Skip("runtime does not serve container ports")
		}
		rec := newRecorder()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := int32(ln.Addr().(*net.TCPAddr).Port)
		_ = ln.Close()
		spec := h.WithPort("web", "127.0.0.1", port)
		if len(spec.Ports) == 0 {
			t.Fatal("WithPort gave no port")
		}
		st, err := rt.Start(ctx, spec, rec.notify)
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, rt, st.ID, rec, runtime.StateRunning, h.Timeout)
		url := fmt.Sprintf("http://%s:%d/", spec.PodIP, spec.Ports[0].Port)
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: h.Timeout}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !strings.Contains(string(body), spec.PodName) {
			t.Errorf("reply %q does not name pod %s", body, spec.PodName)
		}
		if err := rt.Stop(ctx, st.ID, time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Get(url); err == nil {
			t.Error("port still answers after stop")
		}
	})
}
